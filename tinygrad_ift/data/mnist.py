"""MNIST and Fashion-MNIST from the official IDX files (gzipped or not) or from an .npz."""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from .download import download as fetch
from .paths import read_npz, resolve

IDX_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
IDX_MAGIC = {3: 2051, 1: 2049}  # images (3 dims), labels (1 dim)


def read_idx(path: Path) -> np.ndarray:
    """One IDX file of unsigned bytes: magic 2049 (labels, N) or 2051 (images, N x rows x cols)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:  # e.g. a gzip file cut short
        raise ValueError(f"{path}: cannot read IDX file, it is damaged ({err}); fetch it again") from err
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
                         f"but holds {data.size} bytes of data; the file is damaged, fetch it again")
    return data.reshape(dims)


def _idx_candidates(folder: Path, stem: str) -> list[Path]:
    return [folder / stem, folder / f"{stem}.gz", folder / stem.replace("-idx", ".idx")]


def _accepted(npz_names: tuple[str, ...]) -> str:
    return (f"{' or '.join(npz_names)} (x_train, y_train, x_test, y_test), or the four IDX files "
            f"{', '.join(IDX_FILES.values())} (each may be gzipped: .gz). The path may also be any one of these "
            "files, or any .npz with those keys")


def _from_idx(folder: Path, name: str) -> dict:
    out = {}
    for key, stem in IDX_FILES.items():
        path = next((p for p in _idx_candidates(folder, stem) if p.exists()), None)
        if path is None:
            raise FileNotFoundError(f"{name}: {folder / stem}[.gz] is missing (expected the four IDX files "
                                    f"{', '.join(IDX_FILES.values())})")
        out[key] = read_idx(path)
    return out


def _from_npz(path: Path, name: str) -> dict:
    data = read_npz(path, name)
    out = {k: data[k] for k in IDX_FILES if k in data}
    if len(out) != 4:
        raise ValueError(f"{name}: {path} lacks keys {sorted(set(IDX_FILES) - set(out))}")
    return out


def _load(path, name: str, npz_names: tuple[str, ...], download: bool) -> dict:
    root = fetch(name.lower().replace("-", "_"), resolve(path)) if download else resolve(path)
    idx_names = {p.name for stem in IDX_FILES.values() for p in _idx_candidates(Path(), stem)}
    if root.is_file() and root.name in idx_names:  # one of the IDX files stands for its folder
        root = root.parent
    if root.is_file() and root.suffix == ".npz":
        data = _from_npz(root, name)
    elif root.is_file():
        raise FileNotFoundError(f"{name}: {root} is not a {name} file. Accepted: {_accepted(npz_names)}")
    elif not root.is_dir():
        raise FileNotFoundError(f"{name}: {root} does not exist")
    elif any((root / n).exists() for n in npz_names):
        data = _from_npz(next(root / n for n in npz_names if (root / n).exists()), name)
    elif any(p.exists() for stem in IDX_FILES.values() for p in _idx_candidates(root, stem)):
        data = _from_idx(root, name)
    else:
        raise FileNotFoundError(f"{name}: found no dataset in {root}. Accepted: {_accepted(npz_names)}")
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
