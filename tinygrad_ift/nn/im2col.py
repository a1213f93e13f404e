"""Kernel windows over images, without a Python loop over pixels: the geometry that convolution and pooling
share (`output_size`, `offset_slices`, `pad_image`), and convolution's im2col and col2im.

im2col works channels-last: `pad_channels_last` copies (N, C, H, W) into a zero-padded (N, Hp, Wp, C)
buffer, and `im2col` copies its windows into the column matrix (N*OH*OW, G, kh*kw*C/G) in one strided copy.
Channels last, a window row of kw pixels is kw*C contiguous numbers, so that copy moves long runs (channels
first it would move runs of OW numbers, slow for small images). `col2im` is the transpose of `im2col`; its
only loop runs over the kh x kw kernel offsets, each adding one whole slab of the batch.
"""
from __future__ import annotations

from ..backend import get_array_module


def pair(value) -> tuple[int, int]:
    """2 -> (2, 2); (1, 2) stays."""
    if isinstance(value, int):
        return value, value
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f"expected an int or a pair of ints, got {value}")
    return value


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """How many windows fit along one axis: floor((size + 2p - d(k-1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def offset_slices(i: int, j: int, out_hw: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]):
    """The rows and columns of the padded image that kernel offset (i, j) meets, one per output pixel."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return slice(i * dh, i * dh + sh * (oh - 1) + 1, sh), slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)


def pad_image(x, padding: tuple[int, int], value: float = 0.0):
    """Pad the last two dims of (N, C, H, W) with `value`."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return get_array_module(x).pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


# ----- convolution --------------------------------------------------------------------------------------
def pad_channels_last(x, padding: tuple[int, int], out):
    """Copy (N, C, H, W) into the first N images of `out`, an (N' >= N, H + 2ph, W + 2pw, C) buffer, with a
    zero border; returns those N images."""
    n, c, h, w = x.shape
    ph, pw = padding
    out = zero_border(out[:n], padding, (h, w))
    out[:, ph:ph + h, pw:pw + w] = x.transpose(0, 2, 3, 1)
    return out


def zero_border(out, padding: tuple[int, int], hw: tuple[int, int]):
    """Zero everything of a channels-last (N, Hp, Wp, C) buffer but the (H, W) image at offset `padding`."""
    (ph, pw), (h, w) = padding, hw
    out[:, :ph] = 0
    out[:, ph + h:] = 0
    out[:, ph:ph + h, :pw] = 0
    out[:, ph:ph + h, pw + w:] = 0
    return out


def im2col(x_padded, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int], groups: int,
           out):
    """Copy every window of a padded (N, Hp, Wp, C) image into the columns (N*OH*OW, G, kh*kw*C/G), the first
    rows of the buffer `out`: row (n, y, x) holds the window of output pixel (y, x) of image n, by channel
    group, each group ordered (kernel row, kernel column, channel). One strided copy; returns the columns."""
    xp = get_array_module(x_padded)
    n, hp, wp, c = x_padded.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = output_size(hp, kh, sh, 0, dh), output_size(wp, kw, sw, 0, dw)
    s_n, s_h, s_w, s_c = x_padded.strides
    view = xp.lib.stride_tricks.as_strided(
        x_padded, shape=(n, oh, ow, groups, kh, kw, c // groups),
        strides=(s_n, s_h * sh, s_w * sw, s_c * (c // groups), s_h * dh, s_w * dw, s_c))
    cols = out[:n * oh * ow]
    xp.copyto(cols.reshape(view.shape), view)
    return cols


def col2im(cols, image_shape: tuple, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
           dilation: tuple[int, int]):
    """The transpose of `im2col` (then cropping the padding): sum an (N*OH*OW, G, kh*kw*C/G) gradient of the
    columns onto the (N, C, H, W) image, one kernel offset at a time."""
    xp = get_array_module(cols)
    n, c, h, w = image_shape
    (kh, kw), (ph, pw) = kernel, padding
    groups = cols.shape[1]
    oh, ow = (output_size(size, k, s, p, d) for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation))
    slabs = cols.reshape(n, oh, ow, groups, kh, kw, c // groups)
    padded = xp.zeros((n, h + 2 * ph, w + 2 * pw, groups, c // groups), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = offset_slices(i, j, (oh, ow), stride, dilation)
            padded[:, rows, columns] += slabs[:, :, :, :, i, j]
    return padded[:, ph:ph + h, pw:pw + w].reshape(n, h, w, c).transpose(0, 3, 1, 2)
