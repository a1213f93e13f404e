"""`download`: fetching datasets goes through torchvision when it is installed; otherwise a clear error."""
from __future__ import annotations

import importlib
from pathlib import Path

TORCHVISION_NAMES = {"cifar10": "CIFAR10", "mnist": "MNIST", "fashion_mnist": "FashionMNIST", "svhn": "SVHN"}
FILES_UNDER = {"cifar10": ".", "mnist": "MNIST/raw", "fashion_mnist": "FashionMNIST/raw", "svhn": "."}


def download(name: str, root: "str | Path") -> Path:
    """Download a dataset's official files into `root` with torchvision (imported only here); returns the
    folder that holds them, in a form the matching loader reads."""
    if name not in TORCHVISION_NAMES:
        raise ValueError(f"download: unknown dataset {name!r}; expected one of {sorted(TORCHVISION_NAMES)}")
    try:  # an optional, lazy dependency: the library itself never imports torch
        tv = importlib.import_module("torchvision.datasets")
    except ImportError as err:
        raise RuntimeError(
            f"download=True needs torchvision, which is not installed. Put the {name} files in {root} yourself "
            "(see the loaders' docstrings for the accepted formats), or install torchvision.") from err
    root = Path(root)
    cls = getattr(tv, TORCHVISION_NAMES[name])
    if name == "svhn":
        for split in ("train", "test"):
            cls(root=str(root), split=split, download=True)
    else:
        for train in (True, False):
            cls(root=str(root), train=train, download=True)
    return root / FILES_UNDER[name]
