"""Resizing images, as torch.nn.functional.interpolate: nearest-neighbour by picking source pixels, bilinear as
two matrix products per image (out = A_h x A_w^T, each row of A mixing the two nearest source pixels), so the
gradients come from indexing and matmul."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from .module import Module


def _source_positions(size: int, out: int, scale: float | None, align_corners: bool) -> np.ndarray:
    """For each output pixel, the (fractional) source coordinate, PyTorch's convention."""
    dst = np.arange(out, dtype=np.float64)
    if align_corners:
        return dst * ((size - 1) / (out - 1) if out > 1 else 0.0)
    step = 1.0 / scale if scale else size / out
    return np.maximum((dst + 0.5) * step - 0.5, 0.0)


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


def _nearest_index(size: int, out: int, scale: float | None) -> np.ndarray:
    step = 1.0 / scale if scale else size / out
    return np.minimum(np.floor(np.arange(out) * step).astype(np.int64), size - 1)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None) -> Tensor:
    """Resize the spatial dims of (N, C, L) or (N, C, H, W): mode 'nearest' (both), 'linear' (3-D) or
    'bilinear' (4-D); give `size` or `scale_factor`."""
    spatial = input.ndim - 2
    if spatial not in (1, 2):
        raise ValueError(f"interpolate: expected input (N, C, L) or (N, C, H, W), got shape {input.shape}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if mode not in ("nearest", "linear", "bilinear") or (mode != "nearest" and mode != ("linear", "bilinear")[spatial - 1]):
        raise ValueError(f"interpolate: mode {mode!r} does not fit a {input.ndim}-D input; use 'nearest' or "
                         f"'{('linear', 'bilinear')[spatial - 1]}'")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to the linear modes")
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
        if mode == "nearest":
            out = out.index_select(dim, _nearest_index(n, m, scale))
        else:
            weights = Tensor(_linear_weights(n, m, scale, bool(align_corners)), dtype=input.dtype, device=input.device)
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
