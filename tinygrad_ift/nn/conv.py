"""2-D convolution by im2col: copy every window into a column matrix, then one matrix product per group."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor
from . import init
from .im2col import col2im, im2col, output_size, pad_channels_last, pair
from .module import Module, Parameter


class Conv2dFunction(Function):
    """out[n, o, y, x] = sum_k W[o, k] cols[(n, y, x), k] + b[o], with cols = im2col(x) and k running over
    (kernel row, kernel column, input channel) within o's group.

    dW = grad^T cols, db = grad summed over n, y, x, and dx = col2im(grad W): each column's gradient added back
    onto the pixels of its window. Only the input is kept for backward, which rebuilds the columns.
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        n, c, h, w = x.shape
        self.geometry = weight.shape[2:], stride, padding, dilation
        self.x, self.x_shape, self.weight_shape, self.has_bias = x, x.shape, weight.shape, bias is not None
        self.w = _grouped_kernel(weight, groups)  # (G, O/G, kh*kw*C/G), ordered as the columns
        out_hw = tuple(output_size(*axis) for axis in zip((h, w), *self.geometry))
        self.columns_shape = (n * out_hw[0] * out_hw[1],) + self.w.shape[::2]  # (N*OH*OW, G, kh*kw*C/G)
        out = _apply_kernel(self.w, self.gather_columns(), out_hw)
        return out if bias is None else out + bias.reshape(1, -1, 1, 1)

    def gather_columns(self):
        """im2col: every window of the zero-padded input, one row of the columns per output pixel."""
        xp = get_array_module(self.x)
        n, c, h, w = self.x_shape
        kernel, stride, (ph, pw), dilation = self.geometry
        padded = pad_channels_last(self.x, (ph, pw), xp.empty((n, h + 2 * ph, w + 2 * pw, c), dtype=self.x.dtype))
        out = xp.empty(self.columns_shape, dtype=self.x.dtype)
        return im2col(padded, kernel, stride, dilation, self.w.shape[0], out)

    def backward(self, grad):
        out_c, c_per_group, kh, kw = self.weight_shape
        groups = self.w.shape[0]
        g = grad.transpose(1, 0, 2, 3).reshape(groups, out_c // groups, -1)  # (G, O/G, N*OH*OW)
        grad_w = _matmul_per_group(g, self.gather_columns().transpose(1, 0, 2))  # (G, O/G, kh*kw*C/G)
        grad_w = grad_w.reshape(out_c, kh, kw, c_per_group).transpose(0, 3, 1, 2)
        grad_bias = grad.sum(axis=(0, 2, 3)) if self.has_bias else None
        if not self.needs_input_grad[0]:  # e.g. the images into a network's first layer
            return None, grad_w, grad_bias
        grad_columns = _matmul_per_group(g.transpose(0, 2, 1), self.w).transpose(1, 0, 2)  # (N*OH*OW, G, K)
        return self.scatter_columns(grad_columns), grad_w, grad_bias

    def scatter_columns(self, grad_columns):
        """col2im: the image gradient, each column's gradient added back onto the pixels of its window."""
        return col2im(grad_columns, self.x_shape, *self.geometry)


def _grouped_kernel(weight, groups: int):
    """(O, C/G, kh, kw) -> (G, O/G, kh*kw*C/G): each row ordered (kernel row, kernel column, channel), like
    the columns."""
    out_c, c_per_group, kh, kw = weight.shape
    per_group = weight.reshape(groups, out_c // groups, c_per_group, kh, kw).transpose(0, 1, 3, 4, 2)
    return get_array_module(weight).ascontiguousarray(per_group).reshape(groups, out_c // groups, -1)


def _apply_kernel(kernel, cols, out_hw: tuple[int, int]):
    """(G, P, K) kernel rows times (m*OH*OW, G, K) columns: the chunk's (m, G*P, OH, OW) output."""
    product = _matmul_per_group(kernel, cols.transpose(1, 2, 0))  # (G, P, m*OH*OW)
    return product.reshape(product.shape[0] * product.shape[1], cols.shape[0] // (out_hw[0] * out_hw[1]),
                           *out_hw).transpose(1, 0, 2, 3)


def _matmul_per_group(a, b, out=None):
    """(G, p, q) @ (G, q, r) -> (G, p, r) as G plain 2-D products, into `out` if given: each operand may be a
    strided or transposed view, which BLAS reads in place (a stacked matmul would copy, or fall back to a slow
    loop)."""
    xp = get_array_module(a)
    if out is None:
        out = xp.empty((a.shape[0], a.shape[1], b.shape[2]), dtype=xp.result_type(a, b))
    for group in range(a.shape[0]):
        xp.matmul(a[group], b[group], out=out[group])
    return out


def check_image_input(name: str, x: Tensor, channels: int | None = None) -> None:
    """An (N, C, H, W) input, with `channels` channels when given."""
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input of layout (N, C, H, W), got shape {x.shape}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name}: expected {channels} input channels, got {x.shape[1]} (input shape {x.shape})")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D cross-correlation, as torch.nn.functional.conv2d; weight (out_channels, in_channels/groups, kh, kw)."""
    if weight.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D weight (out_channels, in_channels/groups, kh, kw), "
                         f"got shape {weight.shape}")
    check_image_input("conv2d", input, weight.shape[1] * groups)
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)
    if weight.shape[0] % groups:
        raise ValueError(f"conv2d: out_channels {weight.shape[0]} is not divisible by groups={groups}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"conv2d: expected a bias of shape ({weight.shape[0]},), got {bias.shape}")
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"conv2d: stride {stride} and dilation {dilation} must be positive, padding {padding} "
                         "non-negative")
    for axis, (size, k, p, d) in enumerate(zip(input.shape[2:], weight.shape[2:], padding, dilation)):
        if size + 2 * p < d * (k - 1) + 1:
            raise ValueError(f"conv2d: kernel extent {d * (k - 1) + 1} is larger than the padded input size "
                             f"{size + 2 * p} along {'HW'[axis]} (input {input.shape}, weight {weight.shape})")
    args = (input, weight) if bias is None else (input, weight, bias)
    return Conv2dFunction.apply(*args, stride=stride, padding=padding, dilation=dilation, groups=groups)


def init_conv_parameters(layer: Module, name: str, in_channels: int, out_channels: int, groups: int,
                         weight_shape: tuple, bias: bool) -> None:
    """A convolution layer's channel counts, `weight` of `weight_shape` and `bias`, with PyTorch's default
    initialisation (shared by Conv2d, Conv1d and ConvTranspose2d)."""
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{name}: in_channels {in_channels} and out_channels {out_channels} must be "
                         f"divisible by groups={groups}")
    layer.in_channels, layer.out_channels, layer.groups = in_channels, out_channels, groups
    layer.weight = Parameter(np.empty(weight_shape, dtype=np.float32))
    layer.register_parameter("bias", Parameter(np.empty(out_channels, dtype=np.float32)) if bias else None)
    init.default_layer_init_(layer.weight, layer.bias)


class Conv2d(Module):
    """Convolution layer with PyTorch's arguments and default initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True):
        super().__init__()
        self.kernel_size, self.stride = pair(kernel_size), pair(stride)
        self.padding, self.dilation = pair(padding), pair(dilation)
        init_conv_parameters(self, "Conv2d", in_channels, out_channels, groups,
                             (out_channels, in_channels // groups) + self.kernel_size, bias)

    def forward(self, x: Tensor) -> Tensor:
        check_image_input("Conv2d", x, self.in_channels)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        """PyTorch's format: settings at their default are left out."""
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + (", bias=False" if self.bias is None else "")
