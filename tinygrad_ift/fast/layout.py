"""The copy of a (N, C, H, W) batch into the channels-last buffer of the CPU convolutions, fast on a CPU.

Channels last, each pixel's C numbers come from C image planes H*W numbers apart. Copied pixel by pixel, every
number read is on another cache line, and with planes a multiple of 4 KB apart those lines compete for the same
cache sets; a block of CHANNEL_BLOCK channels at a time uses each line it loads for CHANNEL_BLOCK pixels.
"""
from __future__ import annotations

from ..nn import im2col

CHANNEL_BLOCK = 8
MIN_BLOCKED_PLANE_BYTES = 1024  # smaller planes fit the cache together: one copy is faster


def pad_channels_last(x, padding: tuple[int, int], out):
    """im2col.pad_channels_last (a zero-padded (N, H + 2ph, W + 2pw, C) copy of x in `out`), a block of channels
    at a time where the image planes are large."""
    n, c, h, w = x.shape
    if h * w * x.itemsize < MIN_BLOCKED_PLANE_BYTES:
        return im2col.pad_channels_last(x, padding, out)
    (ph, pw), out = padding, im2col.zero_border(out[:n], padding, (h, w))
    image = out[:, ph:ph + h, pw:pw + w]
    for start in range(0, c, CHANNEL_BLOCK):
        image[..., start:start + CHANNEL_BLOCK] = x[:, start:start + CHANNEL_BLOCK].transpose(0, 2, 3, 1)
    return out
