"""Batch transforms on (N, C, H, W) arrays, vectorised over the batch, on NumPy or CuPy.

Random transforms draw from the framework generator of the batch's device, so `manual_seed` fixes them.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from .. import random as _random
from ..backend import constant, device_of, get_array_module


def _generator(x: Any):
    return _random.generator(device_of(x))


class Compose:
    """Apply transforms in order."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]):
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for transform in self.transforms:
            x = transform(x)
        return x


class ToFloatCHW:
    """uint8 images (N, H, W, C) or (N, H, W) -> float32 (N, C, H, W) scaled to [0, 1]."""

    def __call__(self, x: Any) -> Any:
        xp = get_array_module(x)
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4:
            raise ValueError(f"ToFloatCHW: expected images (N, H, W) or (N, H, W, C), got shape {x.shape}")
        return xp.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32) / np.float32(255)


class Normalize:
    """(x - mean) / std per channel."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)

    def __call__(self, x: Any) -> Any:
        if x.ndim != 4 or x.shape[1] != self.mean.shape[1]:
            raise ValueError(f"Normalize: expected (N, {self.mean.shape[1]}, H, W), got shape {x.shape}")
        device = device_of(x)
        mean = constant(("Normalize.mean", self.mean.tobytes()), device, lambda: self.mean)
        std = constant(("Normalize.std", self.std.tobytes()), device, lambda: self.std)
        return (x - mean) / std


class RandomHorizontalFlip:
    """Mirror each image left-right with probability p."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, x: Any) -> Any:
        xp = get_array_module(x)
        flip = _generator(x).random(x.shape[0]) < self.p
        return xp.where(flip[:, None, None, None], x[..., ::-1], x)


def _gather(x: Any, rows: Any, cols: Any) -> Any:
    """x[n, :, rows[n, i, j], cols[n, i, j]] as (N, C, h, w); rows/cols are integer arrays (N, h, w)."""
    xp = get_array_module(x)
    n = xp.arange(x.shape[0])[:, None, None]
    return x[n, :, rows, cols].transpose(0, 3, 1, 2)


def bilinear_sample(x: Any, ys: Any, xs: Any) -> Any:
    """Sample (N, C, H, W) images at real coordinates ys, xs (N, h, w); points outside give 0."""
    xp = get_array_module(x)
    h, w = x.shape[2:]
    y0, x0 = xp.floor(ys), xp.floor(xs)
    out = 0
    for dy in (0, 1):
        for dx in (0, 1):
            yi, xi = y0 + dy, x0 + dx
            weight = (1 - xp.abs(ys - yi)) * (1 - xp.abs(xs - xi))
            inside = (yi >= 0) & (yi <= h - 1) & (xi >= 0) & (xi <= w - 1)
            rows = xp.clip(yi, 0, h - 1).astype(np.int64)
            cols = xp.clip(xi, 0, w - 1).astype(np.int64)
            out = out + _gather(x, rows, cols) * (weight * inside).astype(x.dtype)[:, None]
    return out


class RandomCrop:
    """Pad by `padding` (zeros), then crop a random size x size window from each image."""

    def __init__(self, size: int | tuple[int, int], padding: int = 0):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding = padding

    def __call__(self, x: Any) -> Any:
        xp = get_array_module(x)
        p = self.padding
        if p:
            x = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        (th, tw), (h, w) = self.size, x.shape[2:]
        if th > h or tw > w:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the (padded) image {(h, w)}")
        gen, n = _generator(x), x.shape[0]
        top = gen.integers(0, h - th + 1, size=n)
        left = gen.integers(0, w - tw + 1, size=n)
        rows = top[:, None, None] + xp.arange(th)[None, :, None]
        cols = left[:, None, None] + xp.arange(tw)[None, None, :]
        return _gather(x, xp.broadcast_to(rows, (n, th, tw)), xp.broadcast_to(cols, (n, th, tw)))


class RandomResizedCrop:
    """Crop a random area fraction in `scale` with aspect ratio in `ratio` (log-uniform), resize bilinearly
    to `size`. Like torchvision: 10 tries per image, then the whole image clamped to the ratio range."""

    def __init__(self, size: int | tuple[int, int], scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3 / 4, 4 / 3)):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.scale, self.ratio = scale, ratio

    def _boxes(self, gen, xp, n: int, h: int, w: int):
        tries = 10
        area = h * w * (self.scale[0] + (self.scale[1] - self.scale[0]) * gen.random((tries, n)))
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        aspect = xp.exp(log_lo + (log_hi - log_lo) * gen.random((tries, n)))
        cw, ch = xp.round(xp.sqrt(area * aspect)), xp.round(xp.sqrt(area / aspect))
        ok = (cw >= 1) & (ch >= 1) & (cw <= w) & (ch <= h)
        first = xp.argmax(ok, axis=0)
        found = ok[first, xp.arange(n)]
        in_ratio = min(max(w / h, self.ratio[0]), self.ratio[1])
        fallback_w = w if w / h <= in_ratio else round(h * in_ratio)
        fallback_h = h if w / h >= in_ratio else round(w / in_ratio)
        cw = xp.where(found, cw[first, xp.arange(n)], fallback_w)
        ch = xp.where(found, ch[first, xp.arange(n)], fallback_h)
        top = xp.where(found, xp.floor(gen.random(n) * (h - ch + 1)), (h - ch) // 2)
        left = xp.where(found, xp.floor(gen.random(n) * (w - cw + 1)), (w - cw) // 2)
        return top, left, ch, cw

    def __call__(self, x: Any) -> Any:
        xp = get_array_module(x)
        n, _, h, w = x.shape
        top, left, ch, cw = self._boxes(_generator(x), xp, n, h, w)
        th, tw = self.size
        # the centre of output pixel i maps to top + (i + 0.5) * ch / th - 0.5 in the source (edges clamped)
        ys = xp.clip(top[:, None] + (xp.arange(th)[None, :] + 0.5) * (ch[:, None] / th) - 0.5, 0, h - 1)
        xs = xp.clip(left[:, None] + (xp.arange(tw)[None, :] + 0.5) * (cw[:, None] / tw) - 0.5, 0, w - 1)
        rows, cols = _interpolation_matrix(ys, h, x.dtype), _interpolation_matrix(xs, w, x.dtype)
        return rows[:, None] @ x @ cols[:, None].transpose(0, 1, 3, 2)


def _interpolation_matrix(coords: Any, size: int, dtype: Any) -> Any:
    """Linear-interpolation weights (N, k, size) for sampling a length-`size` axis at coordinates (N, k):
    source pixel p weighs max(0, 1 - |coord - p|). Resampling on a separable grid is then two batched
    matrix products (bilinear), far cheaper than gathering each output pixel's four neighbours."""
    xp = get_array_module(coords)
    return xp.maximum(0, 1 - xp.abs(coords[..., None] - xp.arange(size))).astype(dtype)


def rotate(x: Any, angles: Any) -> Any:
    """Rotate each image counter-clockwise by its angle in degrees about its centre; bilinear, zero fill."""
    xp = get_array_module(x)
    n, _, h, w = x.shape
    theta = xp.deg2rad(xp.broadcast_to(xp.asarray(angles, dtype=np.float64), (n,)))[:, None, None]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    yy, xx = xp.meshgrid(xp.arange(h) - cy, xp.arange(w) - cx, indexing="ij")
    cos, sin = xp.cos(theta), xp.sin(theta)
    # inverse map: the source of output pixel (y, x) is that point rotated by -angle (y axis points down)
    src_x = cos * xx[None] - sin * yy[None] + cx
    src_y = sin * xx[None] + cos * yy[None] + cy
    return bilinear_sample(x, src_y, src_x).astype(x.dtype)


class Rotate:
    """Rotate every image by a fixed angle (degrees, counter-clockwise)."""

    def __init__(self, angle: float):
        self.angle = angle

    def __call__(self, x: Any) -> Any:
        return rotate(x, self.angle)
