"""Max, average and adaptive pooling over (N, C, H, W), with PyTorch's arguments and bins.

Fixed-size pools loop over the kh x kw kernel offsets, never over pixels: at one offset, every window sees
one pixel, and together those pixels form a strided slab of the padded image, reduced in one array operation.
Adaptive average pooling is separable, out = A_h x A_w^T per image with averaging matrices A, so it is two
matrix products. Adaptive max pooling gathers every bin at once and scatter-adds the gradient to each bin's
maximum, because bins overlap (and share pixels) when the output is larger than the input.
"""
from __future__ import annotations

from itertools import product

import numpy as np

from ..autograd import Function
from .. import backend
from ..backend import constant, get_array_module, scatter_add
from ..dtypes import extreme
from ..tensor import Tensor, pad_tensor
from .conv import check_image_input
from .conv_from_conv2d import depth_slabs, triple, unstack_depth
from .im2col import offset_slices, output_size, pad_image, pair
from .module import Module


def _offsets(kernel: tuple[int, int]):
    """The kernel offsets (i, j), row by row."""
    return product(range(kernel[0]), range(kernel[1]))


def _slabs(x_padded, kernel: tuple[int, int], stride, dilation, out_hw: tuple[int, int]):
    """For each kernel offset in order, the strided (N, C, OH, OW) view of the pixels it meets."""
    for i, j in _offsets(kernel):
        rows, cols = offset_slices(i, j, out_hw, stride, dilation)
        yield x_padded[:, :, rows, cols]


def _scatter_slabs(slab_grad, grad, input_shape: tuple, kernel, stride, padding, dilation):
    """The transpose of `_slabs`: add slab_grad(k), the (N, C, OH, OW) gradient of the k-th kernel offset, onto
    that offset's slab of a zero padded image (with the dtype and device of `grad`), then crop the padding."""
    n, c, h, w = input_shape
    ph, pw = padding
    padded = get_array_module(grad).zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=grad.dtype)
    for offset, (i, j) in enumerate(_offsets(kernel)):
        rows, cols = offset_slices(i, j, grad.shape[2:], stride, dilation)
        padded[:, :, rows, cols] += slab_grad(offset)
    return padded[:, :, ph:ph + h, pw:pw + w]


def _out_hw(x_shape: tuple, kernel, stride, padding, dilation) -> tuple[int, int]:
    return tuple(output_size(*axis) for axis in zip(x_shape[2:], kernel, stride, padding, dilation))


class MaxPool(Function):
    """out = the maximum of each window; its gradient goes to the window's first maximum."""

    def forward(self, x, kernel, stride, padding, dilation):
        xp = get_array_module(x)
        self.geometry = kernel, stride, padding, dilation
        self.input_shape = x.shape
        slabs = _slabs(pad_image(x, padding, value=extreme(x.dtype)), kernel, stride, dilation,
                       _out_hw(x.shape, kernel, stride, padding, dilation))
        out = next(slabs).copy()
        self.winner = xp.zeros(out.shape, dtype=np.min_scalar_type(kernel[0] * kernel[1] - 1))  # kernel offset
        for offset, slab in enumerate(slabs, start=1):
            xp.copyto(self.winner, self.winner.dtype.type(offset), where=slab > out)  # a mask index would sync
            xp.maximum(out, slab, out=out)
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        return _scatter_slabs(lambda offset: xp.where(self.winner == offset, grad, 0), grad, self.input_shape,
                              *self.geometry)


class AvgPool(Function):
    """out = the sum of each window / its divisor (a number, or one per output pixel); each pixel of the
    window gets grad / divisor."""

    def forward(self, x, kernel, stride, padding, divisor):
        self.geometry = kernel, stride, padding, (1, 1)
        self.input_shape = x.shape
        self.divisor = divisor
        return _window_sum(pad_image(x, padding), kernel, stride, _out_hw(x.shape, *self.geometry)) / divisor

    def backward(self, grad):
        share = grad / self.divisor
        return _scatter_slabs(lambda offset: share, grad, self.input_shape, *self.geometry)


def _window_sum(x_padded, kernel, stride, out_hw):
    """The sum of every (undilated) window, slab by slab."""
    slabs = _slabs(x_padded, kernel, stride, (1, 1), out_hw)
    total = next(slabs).copy()
    for slab in slabs:
        total += slab
    return total


def _check_pool(name: str, x: Tensor, kernel, stride, padding, dilation=(1, 1, 1)) -> None:
    """Pool settings that fit x, (N, C, H, W) for a 2-D pool or (N, C, D, H, W) for a 3-D one."""
    if len(kernel) == 2:
        check_image_input(name, x)
    elif x.ndim != 5:
        raise ValueError(f"{name}: expected a 5-D input of layout (N, C, D, H, W), got shape {x.shape}")
    dilation = dilation[:len(kernel)]
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"{name}: kernel_size {kernel}, stride {stride} and dilation {dilation} must be "
                         f"positive and padding {padding} non-negative")
    if any(2 * p > k for p, k in zip(padding, kernel)):  # PyTorch's rule
        raise ValueError(f"{name}: padding {padding} should be at most half of kernel_size {kernel}")
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if min(_out_hw(x.shape, kernel, stride, padding, dilation)) < 1:
        raise ValueError(f"{name}: kernel extent {extent} is larger than the padded input "
                         f"{tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))} (input {x.shape})")


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Maximum over kernel windows, as torch.nn.functional.max_pool2d (stride defaults to kernel_size; the
    padding counts as -inf). ceil_mode adds a last, partial window where one starts inside the input;
    return_indices also gives each maximum's position in its (H*W) image, for max_unpool2d."""
    kernel, padding, dilation = pair(kernel_size), pair(padding), pair(dilation)
    stride = kernel if stride is None else pair(stride)
    _check_pool("max_pool2d", input, kernel, stride, padding, dilation)
    x = input
    if ceil_mode:  # pad the bottom/right so that the partial windows become whole ones (of the lowest value)
        extra = [_ceil_mode_extra(*axis) for axis in zip(input.shape[2:], kernel, stride, padding, dilation)]
        if max(extra) > 0:
            x = pad_tensor(input, (0, extra[1], 0, extra[0]), value=extreme(input.dtype))
    out = MaxPool.apply(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    if not return_indices:
        return out
    return out, _max_positions(x, input.shape[2:], kernel, stride, padding, dilation)


def _ceil_mode_extra(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Pixels to add after the input so that ceil_mode's last window fits (PyTorch: it must start inside the
    input or its left padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    count = -(-span // stride) + 1
    if (count - 1) * stride >= size + padding:
        count -= 1
    return max((count - 1) * stride - span, 0)


def _max_positions(x: Tensor, hw: tuple, kernel, stride, padding, dilation) -> Tensor:
    """For each window of x (padded as max_pool2d pads it), the flat position in the original (H, W) image of
    its first maximum, int64 (N, C, OH, OW); the padding's positions never win."""
    xp = get_array_module(x.data)
    n, c, h, w = x.shape
    out_hw = _out_hw(x.shape, kernel, stride, padding, dilation)
    values = pad_image(x.data, padding, value=extreme(x.dtype))
    positions = xp.full((h, w), -1, dtype=np.int64)
    positions[:hw[0], :hw[1]] = xp.arange(hw[0] * hw[1]).reshape(hw)
    positions = pad_image(positions[None, None], padding, value=-1)
    best = xp.stack(list(_slabs(values, kernel, stride, dilation, out_hw))).argmax(axis=0)  # first maximum
    candidates = xp.stack([p[0, 0] for p in _slabs(positions, kernel, stride, dilation, out_hw)])
    picked = xp.take_along_axis(candidates[None, None].repeat(n, 0).repeat(c, 1), best[:, :, None], axis=2)
    return Tensor(picked[:, :, 0], device=x.device)


def max_unpool2d(input: Tensor, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """Place each value at the position max_pool2d's `indices` gave it, zeros elsewhere (the inverse of the
    pooling's selection); the output is (H - 1) stride - 2 padding + kernel by default."""
    kernel, padding = pair(kernel_size), pair(padding)
    stride = kernel if stride is None else pair(stride)
    if input.ndim != 4:
        raise ValueError(f"max_unpool2d: expected input (N, C, H, W), got shape {input.shape}")
    index = indices.data if isinstance(indices, Tensor) else indices
    if tuple(index.shape) != input.shape:
        raise ValueError(f"max_unpool2d: indices of shape {tuple(index.shape)} must match the input {input.shape}")
    if output_size is None:
        out_hw = tuple((size - 1) * s - 2 * p + k for size, s, p, k in zip(input.shape[2:], stride, padding, kernel))
    else:
        out_hw = tuple(output_size)[-2:]
    n, c = input.shape[:2]
    flat = input.reshape(n, c, -1)
    canvas = Tensor(get_array_module(input.data).zeros((n, c, out_hw[0] * out_hw[1]), dtype=input.dtype),
                    device=input.device)
    return canvas.scatter(2, index.reshape(n, c, -1), flat).reshape(n, c, *out_hw)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Average over kernel windows, as torch.nn.functional.avg_pool2d (stride defaults to kernel_size).
    Each window's sum is divided by divisor_override if given, else by its pixels inside the padded input
    (count_include_pad) or inside the input alone; ceil_mode adds a last, partial window as max_pool2d does."""
    kernel, padding = pair(kernel_size), pair(padding)
    stride = kernel if stride is None else pair(stride)
    _check_pool("avg_pool2d", input, kernel, stride, padding)
    extra = (0, 0)
    if ceil_mode:  # zeros after the input so that the partial windows become whole ones (they add nothing)
        extra = tuple(_ceil_mode_extra(*axis) for axis in zip(input.shape[2:], kernel, stride, padding, (1, 1)))
    x = pad_tensor(input, (0, extra[1], 0, extra[0])) if max(extra) > 0 else input
    divisor = _window_divisor("avg_pool2d", input, kernel, stride, padding, extra, count_include_pad,
                              divisor_override)
    return AvgPool.apply(x, kernel=kernel, stride=stride, padding=padding, divisor=divisor)


def _window_divisor(name: str, input: Tensor, kernel, stride, padding, extra, count_include_pad: bool,
                    divisor_override: int | None):
    """What average pooling divides each window's sum by: divisor_override, the kernel's size, or, where
    windows differ, an array of their pixel counts (see _pixels_per_window) on the input's device."""
    if divisor_override is not None:
        if divisor_override <= 0:
            raise ValueError(f"{name}: divisor_override must be positive, got {divisor_override}")
        return float(divisor_override)
    if max(extra) == 0 and (count_include_pad or max(padding) == 0):
        return float(np.prod(kernel))
    key = (f"{name} divisor", input.shape[2:], kernel, stride, padding, extra, count_include_pad, input.dtype)
    return constant(key, input.device, lambda: _pixels_per_window(input.shape[2:], kernel, stride, padding, extra,
                                                                  count_include_pad).astype(input.dtype))


def _pixels_per_window(sizes: tuple, kernel, stride, padding, extra, count_include_pad: bool) -> np.ndarray:
    """(1, 1, O1, O2, ...): how many pixels of each window lie inside the padded input (or, without
    count_include_pad, inside the input), where ceil_mode's `extra` pixels lie beyond both. A window is a box,
    so the count is the product of the counts along each axis."""
    counts = np.ones((1, 1))
    for size, k, s, p, e in zip(sizes, kernel, stride, padding, extra):
        starts = np.arange((size + 2 * p + e - k) // s + 1) * s - p  # in the input's coordinates
        if count_include_pad:
            along = np.minimum(starts + k, size + p) - starts
        else:
            along = np.minimum(starts + k, size) - np.maximum(starts, 0)
        counts = counts[..., None] * along
    return counts


# ----- 3-D pools: one 2-D pool per kernel depth offset, combined across the offsets ------------------------
def _depth_geometry(name: str, input: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool):
    """The 3-D settings as triples, and the depth padding (before, after) that ceil_mode's last window needs."""
    kernel, padding, dilation = (triple(v, name) for v in (kernel_size, padding, dilation))
    stride = kernel if stride is None else triple(stride, name)
    _check_pool(name, input, kernel, stride, padding, dilation)
    extra = _ceil_mode_extra(input.shape[2], kernel[0], stride[0], padding[0], dilation[0]) if ceil_mode else 0
    return kernel, stride, padding, dilation, (padding[0], padding[0] + extra)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Maximum over 3-D kernel windows of (N, C, D, H, W), as torch.nn.functional.max_pool3d: the maximum over
    the depth offsets of max_pool2d of the depth slices each offset meets. return_indices also gives each
    maximum's position in its (D*H*W) volume (the first maximum, as torch)."""
    kernel, stride, padding, dilation, depth_pad = _depth_geometry("max_pool3d", input, kernel_size, stride, padding,
                                                                   dilation, ceil_mode)
    x = pad_tensor(input, (0, 0, 0, 0) + depth_pad, value=extreme(input.dtype))
    slabs, out_d = depth_slabs(x, kernel[0], stride[0], dilation[0])
    xp = get_array_module(input.data)
    depths = xp.arange(input.shape[0] * out_d).reshape(-1, 1, 1, 1) % out_d * stride[0] - padding[0]  # at k = 0
    out = positions = None
    for k, images in enumerate(slabs):
        part = max_pool2d(images, kernel[1:], stride[1:], padding[1:], dilation[1:], ceil_mode, return_indices)
        if return_indices:  # the position in the volume: the slice's depth, then the 2-D pool's (H*W) position
            part, where = part
            position = where.data + (depths + k * dilation[0]) * (input.shape[3] * input.shape[4])
            positions = position if out is None else xp.where(part.data > out.data, position, positions)
        out = part if out is None else out.maximum(part)
    out = unstack_depth(out, input.shape[0], out_d)
    if not return_indices:
        return out
    return out, unstack_depth(Tensor._wrap(positions, input.device), input.shape[0], out_d).detach()


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Average over 3-D kernel windows of (N, C, D, H, W), as torch.nn.functional.avg_pool3d: the window sums
    (2-D sums added over the depth offsets) divided as avg_pool2d divides."""
    kernel, stride, padding, _, depth_pad = _depth_geometry("avg_pool3d", input, kernel_size, stride, padding, 1,
                                                            ceil_mode)
    slabs, out_d = depth_slabs(pad_tensor(input, (0, 0, 0, 0) + depth_pad), kernel[0], stride[0], 1)
    total = sum(avg_pool2d(images, kernel[1:], stride[1:], padding[1:], ceil_mode, divisor_override=1)
                for images in slabs)
    extra = (depth_pad[1] - padding[0],) + tuple(
        _ceil_mode_extra(*axis) if ceil_mode else 0 for axis in zip(input.shape[3:], kernel[1:], stride[1:],
                                                                     padding[1:], (1, 1)))
    divisor = _window_divisor("avg_pool3d", input, kernel, stride, padding, extra, count_include_pad,
                              divisor_override)
    return unstack_depth(total, input.shape[0], out_d) / divisor


# ----- adaptive pools ----------------------------------------------------------------------------------
def _bin_edges(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive bins [floor(i*size/out), ceil((i+1)*size/out)), i < out; they overlap when out > size."""
    i = np.arange(out)
    return i * size // out, -(-(i + 1) * size // out)


def averaging_matrix(size: int, out: int) -> np.ndarray:
    """(out, size): row i averages bin i."""
    starts, ends = _bin_edges(size, out)
    pixels = np.arange(size)
    inside = (pixels >= starts[:, None]) & (pixels < ends[:, None])
    return inside / (ends - starts)[:, None]


def _bin_table(size: int, out: int) -> np.ndarray:
    """(out, longest bin): the pixels of each bin, short bins padded by repeating their last pixel (harmless
    for a maximum)."""
    starts, ends = _bin_edges(size, out)
    return np.minimum(starts[:, None] + np.arange((ends - starts).max()), ends[:, None] - 1)


class AdaptiveMaxPool(Function):
    """out[n, c, i, j] = the maximum of bin (i, j); its gradient is scatter-added to the bin's first maximum
    (several bins may share it)."""

    def forward(self, x, output_hw):
        xp = get_array_module(x)
        n, c, h, w = self.input_shape = x.shape
        rows, cols = _bin_table(h, output_hw[0]), _bin_table(w, output_hw[1])
        pixels = constant(("AdaptiveMaxPool", h, w, output_hw), backend.device_of(x),
                          lambda: (rows[:, None, :, None] * w + cols[None, :, None, :]).reshape(*output_hw, -1))
        windows = xp.take(x.reshape(n, c, h * w), pixels, axis=2)  # (N, C, OH, OW, k): bin (i, j) flattened
        first_max = windows.argmax(axis=-1)[..., None]
        self.source = xp.take_along_axis(xp.broadcast_to(pixels, windows.shape), first_max, -1)[..., 0]
        return xp.take_along_axis(windows, first_max, -1)[..., 0]

    def backward(self, grad):
        xp = get_array_module(grad)
        n, c, h, w = self.input_shape
        grad_x = xp.zeros((n * c, h * w), dtype=grad.dtype)
        scatter_add(grad_x, (xp.arange(n * c)[:, None], self.source.reshape(n * c, -1)), grad.reshape(n * c, -1))
        return grad_x.reshape(self.input_shape)


def _adaptive_size(name: str, input: Tensor, output_size) -> tuple[int, int]:
    """(OH, OW) from an int, a pair, or a pair with None (keep that input size)."""
    check_image_input(name, input)
    sizes = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"{name}: output_size should be an int or a pair, got {output_size}")
    sizes = tuple(input.shape[2 + axis] if s is None else s for axis, s in enumerate(sizes))
    if min(sizes) < 1:
        raise ValueError(f"{name}: output_size must be positive, got {output_size}")
    return sizes


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average over PyTorch's adaptive bins, to an (OH, OW) output of any size (larger than the input too)."""
    oh, ow = _adaptive_size("adaptive_avg_pool2d", input, output_size)
    h, w = input.shape[2:]
    rows = Tensor._wrap(constant(("adaptive_avg_pool2d rows", h, oh, input.dtype), input.device,
                                 lambda: averaging_matrix(h, oh).astype(input.dtype)), input.device)
    cols = Tensor._wrap(constant(("adaptive_avg_pool2d cols", w, ow, input.dtype), input.device,
                                 lambda: averaging_matrix(w, ow).T.astype(input.dtype)), input.device)
    return rows @ input @ cols


def adaptive_max_pool2d(input: Tensor, output_size) -> Tensor:
    """Maximum over PyTorch's adaptive bins; an output larger than the input repeats pixels."""
    oh, ow = _adaptive_size("adaptive_max_pool2d", input, output_size)
    h, w = input.shape[2:]
    if h % oh == 0 and w % ow == 0:  # equal, disjoint bins: an ordinary max pool
        return max_pool2d(input, (h // oh, w // ow))
    return AdaptiveMaxPool.apply(input, output_hw=(oh, ow))


# ----- modules -----------------------------------------------------------------------------------------
class MaxPool2d(Module):
    """max_pool2d as a layer; stride defaults to kernel_size."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, dilation={self.dilation}"


class AvgPool2d(Module):
    """avg_pool2d as a layer; stride defaults to kernel_size."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__()
        self.kernel_size, self.padding, self.count_include_pad = kernel_size, padding, count_include_pad
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.divisor_override = ceil_mode, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool3d(MaxPool2d):
    """max_pool3d as a layer; stride defaults to kernel_size."""

    def forward(self, x: Tensor):
        return max_pool3d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class AvgPool3d(AvgPool2d):
    """avg_pool3d as a layer; stride defaults to kernel_size."""

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool3d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)


class AdaptiveAvgPool2d(Module):
    """adaptive_avg_pool2d to a fixed output size, as a layer."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    """adaptive_max_pool2d to a fixed output size, as a layer."""

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_max_pool2d(x, self.output_size)
