"""Sliding windows of images: a strided view (for pooling), im2col columns (for convolution), and col2im,
which scatters a gradient of the windows back onto the image.

All are loop-free over pixels: the view is one `as_strided`; im2col and col2im loop only over the kh x kw
kernel offsets, moving one whole slab of the batch per offset.
"""
from __future__ import annotations

from ..backend import get_array_module


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


def channel_major_padded(x, padding: tuple[int, int], extra: int = 0):
    """(N, C, H, W) -> zero-padded (C, N, Hp*Wp + extra) images, flattened, in one copy."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    (ph, pw) = padding
    hp, wp = h + 2 * ph, w + 2 * pw
    flat = xp.zeros((c, n, hp * wp + extra), dtype=x.dtype)
    flat[:, :, :hp * wp].reshape(c, n, hp, wp)[:, :, ph:ph + h, pw:pw + w] = x.transpose(1, 0, 2, 3)
    return flat


def im2col(x, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
           dilation: tuple[int, int], empty=None):
    """The columns (kh, kw, C, N, OH, R) of an (N, C, H, W) image zero-padded by `padding`.

    One slab copy per kernel offset (i, j), each into its own contiguous block. With stride 1 on wide images a
    slab spans whole padded rows (R = Wp): it is then a single contiguous slice of the flattened image, copied
    at memory speed, and the last Wp - OW entries of each row are junk that the caller drops after the product
    (used only while the junk is under 1/8 of the work). Otherwise R = OW, gathered by strided slices. `empty(shape, dtype)` allocates the result (a pool, say).
    """
    xp = get_array_module(x)
    empty = empty or (lambda shape, dtype: xp.empty(shape, dtype=dtype))
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    hp, wp = h + 2 * padding[0], w + 2 * padding[1]
    oh, ow = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    if (sh, sw) == (1, 1) and 8 * ow >= 7 * wp:
        flat = channel_major_padded(x, padding, extra=dw * (kw - 1))
        cols = empty((kh, kw, c, n, oh * wp), x.dtype)
        for i in range(kh):
            for j in range(kw):
                start = i * dh * wp + j * dw
                cols[i, j] = flat[:, :, start:start + oh * wp]
        return cols.reshape(kh, kw, c, n, oh, wp)
    image = channel_major_padded(x, padding).reshape(c, n, hp, wp)
    cols = empty((kh, kw, c, n, oh, ow), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[i, j] = image[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return cols


def col2im(cols, image_shape: tuple, stride: tuple[int, int], padding: tuple[int, int],
           dilation: tuple[int, int]):
    """Sum a (kh, kw, C, N, OH, R) gradient of the columns back onto the (N, C, H, W) image: the transpose of
    im2col, slab by slab, into the padded image, then cropped (junk entries of whole rows must be zero)."""
    xp = get_array_module(cols)
    kh, kw, c, n, oh, row = cols.shape
    h, w = image_shape[2:]
    (ph, pw), (sh, sw), (dh, dw) = padding, stride, dilation
    hp, wp = h + 2 * ph, w + 2 * pw
    if (sh, sw) == (1, 1) and row == wp:
        flat = xp.zeros((c, n, hp * wp + dw * (kw - 1)), dtype=cols.dtype)
        slabs = cols.reshape(kh, kw, c, n, oh * row)
        for i in range(kh):
            for j in range(kw):
                start = i * dh * wp + j * dw
                flat[:, :, start:start + oh * wp] += slabs[i, j]
        padded = flat[:, :, :hp * wp].reshape(c, n, hp, wp)
    else:
        padded = xp.zeros((c, n, hp, wp), dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                padded[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (row - 1) + 1:sw] += cols[i, j]
    return padded[:, :, ph:ph + h, pw:pw + w].transpose(1, 0, 2, 3)


def pair(value) -> tuple[int, int]:
    """2 -> (2, 2); (1, 2) stays."""
    if isinstance(value, int):
        return value, value
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f"expected an int or a pair of ints, got {value}")
    return value
