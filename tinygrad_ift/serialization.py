"""save/load of state dicts (name -> array) as .npz, written atomically."""
from __future__ import annotations

import os
import tempfile
from collections import OrderedDict
from typing import Any, Mapping

import numpy as np

from .backend import to_numpy
from .tensor import Tensor


def _to_array(value: Any) -> np.ndarray:
    return to_numpy(value.data) if isinstance(value, Tensor) else np.asarray(value)


def save(obj: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a mapping of names to tensors/arrays to `path` (.npz): a temporary file first, then a rename,
    so a crash never leaves a half-written file."""
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expected a mapping of names to tensors (a state dict), got {type(obj).__name__}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{name: _to_array(value) for name, value in obj.items()})
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path: str | os.PathLike) -> "OrderedDict[str, np.ndarray]":
    """Read what `save` wrote: an ordered mapping of names to NumPy arrays."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no file at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            return OrderedDict((name, data[name]) for name in data.files)
    except (ValueError, OSError) as err:
        raise ValueError(f"load: {path} is not a readable .npz state dict ({err})") from err
