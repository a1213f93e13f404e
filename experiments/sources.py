"""Where an experiment's images come from: the real dataset (a folder, or downloaded on first use), or for the
smoke profile a tiny synthetic stand-in with the same layout, so that every experiment runs in seconds anywhere."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinygrad_ift.files import atomic_open

from tinygrad_ift.data import default_data_dir, load_cifar10
from tinygrad_ift.data.download import DataUnavailableError, download_dir

SYNTHETIC = "synthetic"


def synthetic_images(n: int, size: int, channels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise images in which class k lights up its own band of rows: learnable in a few steps.
    uint8 (n, size, size[, channels]) and int64 labels 0..9 in turn."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    shape = (n, size, size) + ((channels,) if channels > 1 else ())
    x = (rng.random(shape) * 100).astype(np.uint8)
    band = max(size // 10, 1)
    for label in range(10):
        rows = slice(label * band, label * band + band)
        x[y == label, rows] = 255
    return x, y.astype(np.int64)


def _synthetic(settings: dict, channels: int) -> dict:
    size = settings["image_size"]
    x_train, y_train = synthetic_images(settings["n_synthetic"], size, channels, seed=1)
    x_test, y_test = synthetic_images(max(settings["n_synthetic"] // 4, 10), size, channels, seed=2)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def fashion_mnist_file(settings: dict, data_dir: str | None, scratch: Path) -> Path:
    """A path load_fashion_mnist reads: the real data's folder, or a synthetic .npz written into `scratch`."""
    if settings["dataset"] != SYNTHETIC:
        return Path(data_root(data_dir, "fashion_mnist"))
    path = scratch / "fashion-mnist.npz"
    with atomic_open(path, "wb") as f:
        np.savez(f, **_synthetic(settings, channels=1))
    return path


def data_root(data_dir: str | None, dataset: str):
    """--data_dir, else $TINYGRAD_IFT_DATA or ../shared/data, else the download cache (fetched on first use)."""
    if data_dir is not None:
        return data_dir
    found = default_data_dir()
    if found is not None:
        return found
    return download_dir(dataset)


def cifar10_arrays(settings: dict, data_dir: str | None) -> dict:
    if settings["dataset"] == SYNTHETIC:
        return _synthetic(settings, channels=3)
    return load_cifar10(data_root(data_dir, "cifar10"))


__all__ = ["SYNTHETIC", "synthetic_images", "cifar10_arrays", "fashion_mnist_file", "data_root",
           "DataUnavailableError"]
