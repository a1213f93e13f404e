"""2-D convolution by im2col: copy every window into a column matrix, then one matrix product per group.

The batch is processed in chunks whose columns (about COLUMN_CHUNK_BYTES) stay in the CPU cache between the
copy that writes them and the product that reads them; nothing batch-sized but the padded input is kept for
the backward pass, which rebuilds each chunk's columns instead of storing them all.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from ..buffer_pool import POOL
from ..tensor import Tensor
from . import init
from .im2col import col2im, im2col, output_size, pad_channels_last, pair
from .module import Module, Parameter

COLUMN_CHUNK_BYTES = 8 * 2 ** 20  # NumPy: columns per chunk (chosen by benchmarks.bench_conv)
GPU_COLUMN_CHUNK_BYTES = 2 ** 30  # CuPy: no cache to fit, only memory to spare


class Conv2dFunction(Function):
    """out[n, o, y, x] = sum_k W[o, k] cols[(n, y, x), k] + b[o], with cols = im2col(x) and k running over
    (kernel row, kernel column, input channel) within o's group.

    dW = grad^T cols and db = grad summed over n, y, x. dx: with stride 1 it is the correlation of the padded
    output gradient with the kernel of the transposed convolution (a "full" convolution: no column gradient
    to scatter); otherwise the column gradient grad W is scattered back by col2im.
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        xp = get_array_module(x)
        n, c, h, w = x.shape
        kh, kw = weight.shape[2:]
        self.kernel, self.stride, self.padding, self.dilation = (kh, kw), stride, padding, dilation
        self.groups, self.x_shape, self.weight, self.has_bias = groups, x.shape, weight, bias is not None
        self.out_hw = tuple(output_size(*axis) for axis in zip((h, w), self.kernel, stride, padding, dilation))
        self.w = _grouped_kernel(weight, groups)  # (G, O/G, kh*kw*C/G), ordered as the columns
        self.x_padded = POOL.take(xp, (n, h + 2 * padding[0], w + 2 * padding[1], c), x.dtype)
        out = POOL.empty(xp, (n, weight.shape[0]) + self.out_hw, x.dtype)
        step = _chunk_size(xp, self.out_hw[0] * self.out_hw[1] * kh * kw * c * x.dtype.itemsize, n, weight.nbytes)
        columns = POOL.take(xp, (step * self.out_hw[0] * self.out_hw[1], groups, kh * kw * c // groups), x.dtype)
        for chunk in _chunks(n, step):  # padding a chunk just before its im2col finds it still in cache
            padded = pad_channels_last(x[chunk], padding, self.x_padded[chunk])
            out[chunk] = _apply_kernel(self.w, im2col(padded, self.kernel, stride, dilation, groups, columns),
                                       self.out_hw)
        POOL.give(columns)
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        n, out_c, oh, ow = grad.shape
        _, c, h, w = self.x_shape
        groups, (kh, kw) = self.groups, self.kernel
        full_padding = tuple(d * (k - 1) - p for d, k, p in zip(self.dilation, self.kernel, self.padding))
        by_correlation = self.stride == (1, 1) and min(full_padding) >= 0
        per_image = max(oh * ow * c, h * w * out_c * by_correlation) * kh * kw * grad.dtype.itemsize
        step = _chunk_size(xp, per_image, n, self.weight.nbytes)
        columns = POOL.take(xp, (step * oh * ow, groups, kh * kw * c // groups), grad.dtype)
        if by_correlation:
            transposed = _grouped_kernel(_transposed_kernel(self.weight, groups), groups)  # (G, C/G, kh*kw*O/G)
            grad_padded = POOL.take(xp, (step, oh + 2 * full_padding[0], ow + 2 * full_padding[1], out_c),
                                    grad.dtype)
            grad_columns = POOL.take(xp, (step * h * w, groups, kh * kw * out_c // groups), grad.dtype)
        grad_w = xp.zeros_like(self.w)
        grad_x = POOL.empty(xp, self.x_shape, grad.dtype)
        for chunk in _chunks(n, step):
            m = chunk.stop - chunk.start
            cols = im2col(self.x_padded[chunk], self.kernel, self.stride, self.dilation, groups, columns)
            g = xp.ascontiguousarray(grad[chunk].transpose(1, 0, 2, 3)).reshape(groups, out_c // groups, -1)
            grad_w += _matmul_per_group(g, cols.transpose(1, 0, 2))
            if by_correlation:
                g_padded = pad_channels_last(grad[chunk], full_padding, grad_padded)
                g_cols = im2col(g_padded, self.kernel, (1, 1), self.dilation, groups, grad_columns)
                grad_x[chunk] = _apply_kernel(transposed, g_cols, (h, w))
            else:
                d_cols = _matmul_per_group(g.transpose(0, 2, 1), self.w).transpose(1, 0, 2)  # (m*OH*OW, G, K)
                grad_x[chunk] = col2im(d_cols, (m, c, h, w), self.kernel, self.stride, self.padding, self.dilation)
        for scratch in (columns, grad_padded, grad_columns) if by_correlation else (columns,):
            POOL.give(scratch)
        grad_w = grad_w.reshape(out_c, kh, kw, c // groups).transpose(0, 3, 1, 2)
        return grad_x, grad_w, (grad.sum(axis=(0, 2, 3)) if self.has_bias else None)

    def __del__(self):
        """The padded input goes back to the pool once this node is freed (after backward, or under no_grad)."""
        if "x_padded" in self.__dict__:
            POOL.give(self.__dict__.pop("x_padded"))


def _chunk_size(xp, bytes_per_image: int, n: int, kernel_bytes: int) -> int:
    """How many images per chunk keep the columns near the chunk budget (at least 1, at most n if n > 0). The
    budget is at least twice the kernel's size: every chunk adds a kernel-sized weight gradient."""
    budget = max(COLUMN_CHUNK_BYTES if xp is np else GPU_COLUMN_CHUNK_BYTES, 2 * kernel_bytes)
    return max(1, min(n, budget // max(1, bytes_per_image)))


def _chunks(n: int, step: int):
    """Slices of `step` images covering a batch of n."""
    return (slice(start, min(start + step, n)) for start in range(0, n, step))


def _grouped_kernel(weight, groups: int):
    """(O, C/G, kh, kw) -> (G, O/G, kh*kw*C/G): each row ordered (kernel row, kernel column, channel), like
    the columns."""
    out_c, c_per_group, kh, kw = weight.shape
    per_group = weight.reshape(groups, out_c // groups, c_per_group, kh, kw).transpose(0, 1, 3, 4, 2)
    return get_array_module(weight).ascontiguousarray(per_group).reshape(groups, out_c // groups, -1)


def _transposed_kernel(weight, groups: int):
    """The (C, O/G, kh, kw) kernel whose correlation with the output gradient gives the input gradient:
    W'[g*C/G + c, o, i, j] = W[g*O/G + o, c, kh-1-i, kw-1-j] (flipped in space, channels swapped per group)."""
    out_c, c_per_group, kh, kw = weight.shape
    per_group = weight.reshape(groups, out_c // groups, c_per_group, kh, kw)[..., ::-1, ::-1]
    return per_group.swapaxes(1, 2).reshape(groups * c_per_group, out_c // groups, kh, kw)


def _apply_kernel(kernel, cols, out_hw: tuple[int, int]):
    """(G, P, K) kernel rows times (m*OH*OW, G, K) columns: the chunk's (m, G*P, OH, OW) output."""
    product = _matmul_per_group(kernel, cols.transpose(1, 2, 0))  # (G, P, m*OH*OW)
    return product.reshape(-1, cols.shape[0] // (out_hw[0] * out_hw[1]), *out_hw).transpose(1, 0, 2, 3)


def _matmul_per_group(a, b):
    """(G, p, q) @ (G, q, r) -> (G, p, r) as G plain 2-D products: each operand may be a strided or transposed
    view, which BLAS reads in place (a stacked matmul would copy, or fall back to a slow loop)."""
    xp = get_array_module(a)
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
        """PyTorch's format: settings at their default are left out."""
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + (", bias=False" if self.bias is None else "")
