"""Pictures of learned weights: images tiled into one mosaic (NumPy), saved as a PNG (matplotlib, on use)."""
from __future__ import annotations

import math
import os
from typing import Any, Sequence

import numpy as np

from tinygrad_ift.files import atomic_open


def scale_to_unit(images: np.ndarray) -> np.ndarray:
    """Each image (first axis) min-max scaled to [0, 1] on its own, so that faint kernels stay visible."""
    axes = tuple(range(1, images.ndim))
    low, high = images.min(axis=axes, keepdims=True), images.max(axis=axes, keepdims=True)
    return (images - low) / np.maximum(high - low, 1e-12)


def scale_symmetric(images: np.ndarray) -> np.ndarray:
    """Each image divided by its largest magnitude, into [-1, 1] with zero kept at zero (for signed weights)."""
    axes = tuple(range(1, images.ndim))
    return images / np.maximum(np.abs(images).max(axis=axes, keepdims=True), 1e-12)


def tile(images: np.ndarray, ncols: int | None = None, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """(n, h, w) or (n, h, w, 3) images -> one mosaic, row by row, `pad` pixels of `fill` between them."""
    n, h, w = images.shape[:3]
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    mosaic = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad) + images.shape[3:], fill,
                     dtype=np.float32)
    for i, image in enumerate(images):
        top, left = (i // ncols) * (h + pad), (i % ncols) * (w + pad)
        mosaic[top:top + h, left:left + w] = image
    return mosaic


def save_panels(path: str | os.PathLike, panels: Sequence[tuple[str, np.ndarray, dict[str, Any]]],
                title: str = "") -> str:
    """Draw (caption, image, imshow options) panels side by side into a PNG at `path`, written atomically."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("saving figures needs matplotlib: pip install 'tinygrad_ift[plot]'") from error
    figure = Figure(figsize=(4.5 * len(panels), 4.8))
    for i, (caption, image, options) in enumerate(panels):
        axis = figure.add_subplot(1, len(panels), i + 1)
        shown = axis.imshow(image, interpolation="nearest", **options)
        if image.ndim == 2:
            figure.colorbar(shown, ax=axis, fraction=0.046, pad=0.04)
        axis.set_title(caption)
        axis.axis("off")
    if title:
        figure.suptitle(title)
    path = os.fspath(path)
    with atomic_open(path, "wb") as f:
        figure.savefig(f, format="png", dpi=120, bbox_inches="tight")
    return path
