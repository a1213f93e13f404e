"""2-D convolution by im2col: gather every window into a column matrix, then one batched matrix product."""
from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..tensor import Function, Tensor
from . import init
from ..buffer_pool import POOL
from .im2col import col2im, im2col, pair
from .module import Module, Parameter


def correlate(x, weight, stride, padding, dilation, groups: int = 1):
    """Cross-correlate (N, C, H, W) images with (O, C/G, kh, kw) weights by im2col and one matrix product per
    group. Returns the (N, O, OH, OW) output, the grouped columns (G, kh*kw*C/G, N*OH*R) and weights
    (G, O/G, kh*kw*C/G), and the columns' (kh, kw, C, N, OH, R) shape; the columns come from the pool."""
    xp = get_array_module(x)
    n = x.shape[0]
    out_c, c_per_group, kh, kw = weight.shape
    cols = im2col(x, (kh, kw), stride, padding, dilation,  # (kh, kw, C, N, OH, R), R >= OW
                  empty=lambda shape, dtype: POOL.take(xp, shape, dtype))
    oh, row = cols.shape[4:]
    ow = (x.shape[3] + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    grouped = _group_rows(cols, groups)
    w = weight.reshape(groups, out_c // groups, c_per_group, kh * kw).transpose(0, 1, 3, 2)
    w = xp.ascontiguousarray(w).reshape(groups, out_c // groups, -1)  # k ordered as in the columns
    out = xp.matmul(w, grouped).reshape(out_c, n, oh, row)[..., :ow]  # drop junk columns
    return xp.ascontiguousarray(out.transpose(1, 0, 2, 3)), grouped, w, cols.shape


class Conv2dFunction(Function):
    """out[g, o, (n, l)] = sum_k W[g, o, k] cols[g, k, (n, l)], cols = im2col(x), k over kh x kw x C/G.

    dW = grad cols^T and db = sum of grad over n and pixels. dx: with stride 1 it is the correlation of the
    output gradient with the flipped, transposed kernel (a "full" convolution, no large column gradient);
    otherwise dcols = W^T grad scattered back by col2im.
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        out, self.cols, self.w, self.cols_shape = correlate(x, weight, stride, padding, dilation, groups)
        self.x_shape, self.weight = x.shape, weight
        self.stride, self.padding, self.dilation, self.has_bias = stride, padding, dilation, bias is not None
        return out if bias is None else out + bias.reshape(1, -1, 1, 1)

    def backward(self, grad):
        xp = get_array_module(grad)
        n, out_c, oh, ow = grad.shape
        groups, out_per_group, _ = self.w.shape
        kh, kw, c, _, _, row = self.cols_shape
        g = xp.zeros((out_c, n, oh, row), dtype=grad.dtype)  # junk columns get zero gradient
        g[..., :ow] = grad.transpose(1, 0, 2, 3)
        g = g.reshape(groups, out_per_group, n * oh * row)
        grad_w = xp.matmul(g, self.cols.transpose(0, 2, 1))  # (G, O/G, kh*kw*C/G)
        grad_w = grad_w.reshape(out_c, kh * kw, c // groups).transpose(0, 2, 1).reshape(self.weight.shape)
        full_padding = tuple(d * (k - 1) - p for d, k, p in zip(self.dilation, (kh, kw), self.padding))
        if self.stride == (1, 1) and groups == 1 and min(full_padding) >= 0:
            flipped = xp.ascontiguousarray(self.weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
            grad_x, cols, _, _ = correlate(grad, flipped, (1, 1), full_padding, self.dilation)
            _give_back(cols)
        else:
            w_t = xp.ascontiguousarray(self.w.transpose(0, 2, 1))  # stacked matmul is slow on transposed views
            dcols = _ungroup_rows(xp.matmul(w_t, g), self.cols_shape)
            grad_x = col2im(dcols, self.x_shape, self.stride, self.padding, self.dilation)
        return grad_x, grad_w, (grad.sum(axis=(0, 2, 3)) if self.has_bias else None)

    def __del__(self):
        """The columns go back to the pool once this node is freed (after backward, or under no_grad)."""
        _give_back(self.__dict__.pop("cols", None))


def _give_back(cols) -> None:
    if cols is not None:
        POOL.give(cols if cols.base is None else cols.base)


def _group_rows(cols, groups: int):
    """(kh, kw, C, N, OH, R) -> (G, kh*kw*C/G, N*OH*R): each group's rows together (a copy only if G > 1)."""
    kh, kw, c, n, oh, row = cols.shape
    if groups == 1:
        return cols.reshape(1, kh * kw * c, n * oh * row)
    grouped = cols.reshape(kh * kw, groups, c // groups, n * oh * row).transpose(1, 0, 2, 3)
    return get_array_module(cols).ascontiguousarray(grouped).reshape(groups, -1, n * oh * row)


def _ungroup_rows(dcols, cols_shape: tuple):
    """The inverse of _group_rows: (G, kh*kw*C/G, N*OH*R) -> (kh, kw, C, N, OH, R)."""
    kh, kw, c, n, oh, row = cols_shape
    groups = dcols.shape[0]
    if groups == 1:
        return dcols.reshape(cols_shape)
    return dcols.reshape(groups, kh * kw, c // groups, n * oh * row).transpose(1, 0, 2, 3).reshape(cols_shape)


def check_image_input(name: str, x: Tensor, channels: int | None = None) -> None:
    """An (N, C, H, W) input, with `channels` channels when given."""
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input of layout (N, C, H, W), got shape {x.shape}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name}: expected {channels} input channels, got {x.shape[1]} (input shape {x.shape})")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D cross-correlation, as torch.nn.functional.conv2d; weight (out_channels, in_channels/groups, kh, kw)."""
    check_image_input("conv2d", input, weight.shape[1] * groups)
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)
    if weight.shape[0] % groups:
        raise ValueError(f"conv2d: out_channels {weight.shape[0]} is not divisible by groups={groups}")
    for axis, (size, k, p, d) in enumerate(zip(input.shape[2:], weight.shape[2:], padding, dilation)):
        if size + 2 * p < d * (k - 1) + 1:
            raise ValueError(f"conv2d: kernel extent {d * (k - 1) + 1} is larger than the padded input size "
                             f"{size + 2 * p} along {'HW'[axis]} (input {input.shape}, weight {weight.shape})")
    args = (input, weight) if bias is None else (input, weight, bias)
    return Conv2dFunction.apply(*args, stride=stride, padding=padding, dilation=dilation, groups=groups)


class Conv2d(Module):
    """Convolution layer with PyTorch's arguments and default initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: in_channels {in_channels} and out_channels {out_channels} must be "
                             f"divisible by groups={groups}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = pair(kernel_size), pair(stride)
        self.padding, self.dilation, self.groups = pair(padding), pair(dilation), groups
        self.weight = Parameter(np.empty((out_channels, in_channels // groups) + self.kernel_size, dtype=np.float32))
        self.register_parameter("bias", Parameter(np.empty(out_channels, dtype=np.float32)) if bias else None)
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        check_image_input("Conv2d", x, self.in_channels)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, bias={self.bias is not None}")
