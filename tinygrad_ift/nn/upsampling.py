"""Resizing images, as torch.nn.functional.interpolate. The nearest modes pick source pixels; the others
('linear', 'bilinear', 'bicubic', 'area') are separable, one matrix product per spatial dim (each row of the
matrix mixing the source pixels that one output pixel reads), so the gradients come from indexing and matmul."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from .module import Module
from .pooling import averaging_matrix

CUBIC_A = -0.75  # the cubic convolution kernel's parameter, as PyTorch's (Keys' kernel with a = -0.75)
_MODE_DIMS = {"nearest": (1, 2), "nearest-exact": (1, 2), "area": (1, 2), "linear": (1,), "bilinear": (2,),
              "bicubic": (2,)}  # the spatial dims each mode takes


def _source_positions(size: int, out: int, scale: float | None, align_corners: bool,
                      clamp: bool = True) -> np.ndarray:
    """For each output pixel, the (fractional) source coordinate, PyTorch's convention (the linear modes clamp
    it at 0, bicubic does not)."""
    dst = np.arange(out, dtype=np.float64)
    if align_corners:
        return dst * ((size - 1) / (out - 1) if out > 1 else 0.0)
    step = 1.0 / scale if scale else size / out
    src = (dst + 0.5) * step - 0.5
    return np.maximum(src, 0.0) if clamp else src


def _linear_weights(size: int, out: int, scale: float | None, align_corners: bool) -> np.ndarray:
    """(out, size): row o weighs the two source pixels around output pixel o by their nearness."""
    src = _source_positions(size, out, scale, align_corners)
    low = np.minimum(np.floor(src).astype(np.int64), size - 1)
    high = np.minimum(low + 1, size - 1)
    frac = src - low
    weights = np.zeros((out, size))
    np.add.at(weights, (np.arange(out), low), 1 - frac)
    np.add.at(weights, (np.arange(out), high), frac)
    return weights


def _cubic_weights(size: int, out: int, scale: float | None, align_corners: bool) -> np.ndarray:
    """(out, size): row o weighs the four source pixels around output pixel o by the cubic convolution kernel
    (reads past an edge take the edge pixel)."""
    src = _source_positions(size, out, scale, align_corners, clamp=False)
    left = np.floor(src)
    weights = np.zeros((out, size))
    for k in range(-1, 3):  # the pixels left - 1 .. left + 2, at distances |src - pixel|
        distance = np.abs(src - (left + k))
        near = ((CUBIC_A + 2) * distance - (CUBIC_A + 3)) * distance ** 2 + 1  # for distance <= 1
        far = ((CUBIC_A * distance - 5 * CUBIC_A) * distance + 8 * CUBIC_A) * distance - 4 * CUBIC_A  # in (1, 2)
        pixel = np.clip(left + k, 0, size - 1).astype(np.int64)
        np.add.at(weights, (np.arange(out), pixel), np.where(distance <= 1, near, far))
    return weights


def _nearest_index(size: int, out: int, scale: float | None, exact: bool) -> np.ndarray:
    """The source pixel of each output pixel: floor(o × step), or for 'nearest-exact' the pixel whose centre
    is nearest, floor((o + 1/2) × step)."""
    step = 1.0 / scale if scale else size / out
    return np.minimum(np.floor((np.arange(out) + 0.5 * exact) * step).astype(np.int64), size - 1)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None) -> Tensor:
    """Resize the spatial dims of (N, C, L) or (N, C, H, W): mode 'nearest', 'nearest-exact' or 'area' (both),
    'linear' (3-D), 'bilinear' or 'bicubic' (4-D); give `size` or `scale_factor`."""
    spatial = input.ndim - 2
    if spatial not in (1, 2):
        raise ValueError(f"interpolate: expected input (N, C, L) or (N, C, H, W), got shape {input.shape}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if spatial not in _MODE_DIMS.get(mode, ()):
        fitting = [m for m, dims in _MODE_DIMS.items() if spatial in dims]
        raise ValueError(f"interpolate: mode {mode!r} does not fit a {input.ndim}-D input; use one of {fitting}")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to the linear and cubic modes")
    in_sizes = input.shape[2:]
    scales = [None] * spatial
    if size is not None:
        out_sizes = (size,) * spatial if isinstance(size, int) else tuple(size)
    else:
        scales = [float(scale_factor)] * spatial if isinstance(scale_factor, (int, float)) else list(scale_factor)
        out_sizes = tuple(int(math.floor(n * s)) for n, s in zip(in_sizes, scales))
    if len(out_sizes) != spatial or min(out_sizes) < 1:
        raise ValueError(f"interpolate: output size {out_sizes} does not fit input {input.shape}")
    out = input
    for axis, (n, m, scale) in enumerate(zip(in_sizes, out_sizes, scales)):
        dim = 2 + axis
        if mode in ("nearest", "nearest-exact"):
            out = out.index_select(dim, _nearest_index(n, m, scale, exact=mode == "nearest-exact"))
            continue
        if mode == "area":  # adaptive average pooling, as PyTorch defines it
            weights = averaging_matrix(n, m)
        elif mode == "bicubic":
            weights = _cubic_weights(n, m, scale, bool(align_corners))
        else:
            weights = _linear_weights(n, m, scale, bool(align_corners))
        weights = Tensor(weights, dtype=input.dtype, device=input.device)
        out = (out.transpose(dim, -1) @ weights.T).transpose(dim, -1)
    return out


class Upsample(Module):
    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None):
        super().__init__()
        self.size, self.scale_factor, self.mode, self.align_corners = size, scale_factor, mode, align_corners

    def forward(self, x: Tensor) -> Tensor:
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self) -> str:
        return f"size={self.size}, scale_factor={self.scale_factor}, mode='{self.mode}'"
