"""MNIST and Fashion-MNIST from the official IDX files (gzipped or not) or from an .npz."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .download import download as fetch
from .paths import resolve

IDX_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
IDX_MAGIC = {3: 2051, 1: 2049}  # images (3 dims), labels (1 dim)


def read_idx(path: Path) -> np.ndarray:
    """One IDX file of unsigned bytes: magic 2049 (labels, N) or 2051 (images, N x rows x cols)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except OSError as err:
        raise ValueError(f"{path}: cannot read IDX file ({err})") from err
    if len(raw) < 8:
        raise ValueError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    ndim = raw[3]
    if magic not in IDX_MAGIC.values() or IDX_MAGIC.get(ndim) != magic:
        raise ValueError(f"{path}: bad IDX magic number {magic} (expected 2049 for labels or 2051 for images)")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says shape {tuple(dims)} ({int(np.prod(dims))} bytes) "
                         f"but holds {data.size} bytes of data")
    return data.reshape(dims)


def _from_idx(folder: Path, name: str) -> dict:
    out = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / f"{stem}.gz", folder / stem.replace("-idx", ".idx")]
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            raise FileNotFoundError(f"{name}: {folder / stem}[.gz] is missing (expected the four IDX files "
                                    f"{', '.join(IDX_FILES.values())})")
        out[key] = read_idx(path)
    return out


def _from_npz(path: Path, name: str) -> dict:
    try:
        with np.load(path) as data:
            out = {k: data[k] for k in IDX_FILES if k in data.files}
    except (ValueError, OSError) as err:
        raise ValueError(f"{name}: {path} is not a readable .npz ({err})") from err
    if len(out) != 4:
        raise ValueError(f"{name}: {path} lacks keys {sorted(set(IDX_FILES) - set(out))}")
    return out


def _load(path, name: str, npz_names: tuple[str, ...], download: bool) -> dict:
    root = fetch(name.lower().replace("-", "_"), resolve(path)) if download else resolve(path)
    if root.is_file():
        data = _from_npz(root, name)
    elif not root.is_dir():
        raise FileNotFoundError(f"{name}: {root} does not exist")
    elif any((root / n).exists() for n in npz_names):
        data = _from_npz(next(root / n for n in npz_names if (root / n).exists()), name)
    else:
        data = _from_idx(root, name)
    for split in ("train", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y):
            raise ValueError(f"{name}: expected x_{split} (N, 28, 28) and y_{split} (N,), got {x.shape} and {y.shape}")
        data[f"x_{split}"], data[f"y_{split}"] = x.astype(np.uint8), y.astype(np.int64)
    return data


def load_mnist(path: "str | Path | None" = None, download: bool = False) -> dict:
    """dict(x_train, y_train, x_test, y_test): uint8 (N, 28, 28) and int64; path = folder or .npz.
    download=True fetches the official files into that folder first."""
    return _load(path, "MNIST", ("mnist.npz",), download)


def load_fashion_mnist(path: "str | Path | None" = None, download: bool = False) -> dict:
    """dict(x_train, y_train, x_test, y_test): uint8 (N, 28, 28) and int64; path = folder or .npz.
    download=True fetches the official files into that folder first."""
    return _load(path, "Fashion-MNIST", ("fashion-mnist.npz", "fashion_mnist.npz"), download)
