"""Max, average and adaptive pooling over (N, C, H, W), on the same window view as convolution."""
from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module
from ..tensor import Function, Tensor, stack
from .conv import check_image_input
from .im2col import col2im, pad_image, pair, windows
from .module import Module


class MaxPool(Function):
    """out = max over each window; the gradient goes to the window's (first) maximum."""

    def forward(self, x, kernel, stride, padding, dilation):
        xp = get_array_module(x)
        x_padded = pad_image(x, padding, value=-np.inf)
        win = windows(x_padded, kernel, stride, dilation)  # (N, C, kh, kw, OH, OW)
        n, c, kh, kw, oh, ow = win.shape
        flat = win.reshape(n, c, kh * kw, oh, ow)
        self.argmax = flat.argmax(axis=2)
        self.shape, self.input_shape = win.shape, x.shape
        self.stride, self.padding, self.dilation = stride, padding, dilation
        return xp.take_along_axis(flat, self.argmax[:, :, None], axis=2)[:, :, 0]

    def backward(self, grad):
        xp = get_array_module(grad)
        n, c, kh, kw, oh, ow = self.shape
        picked = self.argmax[:, :, None] == xp.arange(kh * kw).reshape(1, 1, -1, 1, 1)
        cols = (picked * grad[:, :, None]).reshape(self.shape)
        cols = cols.transpose(2, 3, 1, 0, 4, 5)  # to col2im's (kh, kw, C, N, OH, OW)
        return col2im(cols, self.input_shape, self.stride, self.padding, self.dilation)


class AvgPool(Function):
    """out = sum over each window / divisor (kh*kw, or the count of real pixels); the gradient is spread evenly."""

    def forward(self, x, kernel, stride, padding, count_include_pad):
        xp = get_array_module(x)
        x_padded = pad_image(x, padding)
        win = windows(x_padded, kernel, stride, (1, 1))
        if count_include_pad or padding == (0, 0):
            divisor = float(kernel[0] * kernel[1])
        else:
            ones = pad_image(xp.ones((1, 1) + x.shape[2:], dtype=x.dtype), padding)
            divisor = windows(ones, kernel, stride, (1, 1)).sum(axis=(2, 3))
        self.divisor, self.shape, self.input_shape = divisor, win.shape, x.shape
        self.stride, self.padding = stride, padding
        return win.sum(axis=(2, 3)) / divisor

    def backward(self, grad):
        xp = get_array_module(grad)
        share = (grad / self.divisor)[:, :, None, None]
        cols = xp.broadcast_to(share, self.shape)
        cols = cols.transpose(2, 3, 1, 0, 4, 5)  # to col2im's (kh, kw, C, N, OH, OW)
        return col2im(cols, self.input_shape, self.stride, self.padding, (1, 1))


def _check_pool(name: str, x: Tensor, kernel, padding) -> None:
    check_image_input(name, x)
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ValueError(f"{name}: padding {padding} should be at most half of kernel_size {kernel}")


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1) -> Tensor:
    kernel = pair(kernel_size)
    stride, padding = pair(stride if stride is not None else kernel_size), pair(padding)
    _check_pool("max_pool2d", input, kernel, padding)
    return MaxPool.apply(input, kernel=kernel, stride=stride, padding=padding, dilation=pair(dilation))


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, count_include_pad: bool = True) -> Tensor:
    kernel = pair(kernel_size)
    stride, padding = pair(stride if stride is not None else kernel_size), pair(padding)
    _check_pool("avg_pool2d", input, kernel, padding)
    return AvgPool.apply(input, kernel=kernel, stride=stride, padding=padding, count_include_pad=count_include_pad)


def _bins(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive bins: [floor(i*size/out), ceil((i+1)*size/out)); they overlap when out > size."""
    return [(i * size // out, math.ceil((i + 1) * size / out)) for i in range(out)]


def _adaptive(name: str, input: Tensor, output_size, pool, reduce) -> Tensor:
    check_image_input(name, input)
    h, w = input.shape[2:]
    oh, ow = pair(output_size) if not isinstance(output_size, int) else (output_size, output_size)
    oh, ow = oh or h, ow or w
    if h % oh == 0 and w % ow == 0:  # equal bins: an ordinary pool
        return pool(input, (h // oh, w // ow))
    rows = [stack([reduce(input[:, :, hs:he, ws:we]) for ws, we in _bins(w, ow)], axis=-1)
            for hs, he in _bins(h, oh)]
    return stack(rows, axis=-2)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average over PyTorch's adaptive bins, to an (oh, ow) output of any size."""
    return _adaptive("adaptive_avg_pool2d", input, output_size, avg_pool2d, lambda t: t.mean(axis=(2, 3)))


def adaptive_max_pool2d(input: Tensor, output_size) -> Tensor:
    """Maximum over PyTorch's adaptive bins; an output larger than the input repeats pixels."""
    return _adaptive("adaptive_max_pool2d", input, output_size, max_pool2d, lambda t: t.max(axis=(2, 3)))


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.count_include_pad = count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    def forward(self, x: Tensor) -> Tensor:
        return adaptive_max_pool2d(x, self.output_size)
