"""im2col and col2im: the sliding windows of an image as a strided view, and their gradient scattered back.

Both are loop-free over pixels: im2col is one `as_strided` view; col2im loops only over the kh x kw kernel
offsets, adding each offset's slab of gradient into the padded image with one strided slice.
"""
from __future__ import annotations

from ..backend import get_array_module


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pad_image(x, padding: tuple[int, int], value: float = 0.0):
    """Pad the last two dims of (N, C, H, W)."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return get_array_module(x).pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def windows(x_padded, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]):
    """A read-only view (N, C, kh, kw, OH, OW) of every kernel window of a padded (N, C, H, W) image."""
    xp = get_array_module(x_padded)
    n, c, h, w = x_padded.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    s_n, s_c, s_h, s_w = x_padded.strides
    return xp.lib.stride_tricks.as_strided(
        x_padded, shape=(n, c, kh, kw, oh, ow),
        strides=(s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw))


def im2col(x_padded, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]):
    """The columns (C, kh, kw, N, OH, OW) of a padded (N, C, H, W) image, ready for one matrix product.

    Built by kh x kw slab copies from a channel-major copy of the image, which reads memory in order
    (a single transpose of the strided window view reads it scattered and is several times slower).
    """
    xp = get_array_module(x_padded)
    n, c, h, w = x_padded.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    channel_major = xp.ascontiguousarray(x_padded.transpose(1, 0, 2, 3))
    cols = xp.empty((c, kh, kw, n, oh, ow), dtype=x_padded.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = channel_major[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return cols


def col2im(cols, padded_shape: tuple, stride: tuple[int, int], dilation: tuple[int, int]):
    """Sum a (N, C, kh, kw, OH, OW) gradient of the windows back into a zero (N, C, Hp, Wp) image."""
    xp = get_array_module(cols)
    _, _, kh, kw, oh, ow = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    image = xp.zeros(padded_shape, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            image[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw] += cols[:, :, i, j]
    return image


def unpad_image(x, padding: tuple[int, int]):
    ph, pw = padding
    return x[:, :, ph:x.shape[2] - ph, pw:x.shape[3] - pw]


def pair(value) -> tuple[int, int]:
    """2 -> (2, 2); (1, 2) stays."""
    if isinstance(value, int):
        return value, value
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f"expected an int or a pair of ints, got {value}")
    return value
