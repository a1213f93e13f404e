"""SVHN (cropped digits) from its official .mat files."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .download import download as fetch
from .paths import resolve

MAT_FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat"}


def load_svhn(path: "str | Path | None" = None, download: bool = False) -> dict:
    """dict(x_train, y_train, x_test, y_test) from train_32x32.mat and test_32x32.mat (uint8 NHWC; the
    files' label 10 for the digit 0 becomes 0); `path` is their folder or either file. download=True fetches
    them first."""
    try:
        from scipy.io import loadmat
    except ImportError as err:
        raise ImportError("SVHN's .mat files need scipy: pip install scipy") from err
    root = fetch("svhn", resolve(path)) if download else resolve(path)
    if root.is_file() and root.name in MAT_FILES.values():
        root = root.parent
    out = {}
    for split, name in MAT_FILES.items():
        file = root / name
        if not file.exists():
            raise FileNotFoundError(f"SVHN: {file} is missing (expected {' and '.join(MAT_FILES.values())}; "
                                    "the path may be their folder or either file)")
        try:
            mat = loadmat(file)
            x, y = mat["X"], mat["y"]
        except Exception as err:  # scipy raises many kinds on a damaged file
            raise ValueError(f"SVHN: {file} is not an SVHN .mat file with X and y, or is damaged ({err}); "
                             "fetch it again") from err
        if x.ndim != 4 or x.shape[:3] != (32, 32, 3):
            raise ValueError(f"SVHN: {file} X should have shape (32, 32, 3, N), got {x.shape}")
        labels = y.reshape(-1).astype(np.int64)
        out[f"x_{split}"] = np.ascontiguousarray(x.transpose(3, 0, 1, 2)).astype(np.uint8)
        out[f"y_{split}"] = np.where(labels == 10, 0, labels)
    return out
