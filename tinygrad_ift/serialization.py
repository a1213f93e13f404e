"""save/load of state dicts (name -> array) as .npz, written atomically."""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Mapping

import numpy as np

from .files import atomic_open
from .backend import to_numpy
from .tensor import Tensor


def _to_array(name: str, value: Any) -> np.ndarray:
    """A host array of numbers (object arrays would need pickle, which load refuses for safety)."""
    array = to_numpy(value.data) if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"save: entry {name!r} ({type(value).__name__}) is not an array of numbers; "
                        "save writes a flat mapping of names to tensors or arrays")
    return array


def save(obj: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a mapping of names to tensors/arrays to exactly `path` (any extension, no ".npz" appended).

    The arrays go to a temporary file in the same folder, which then replaces `path` in one rename, so a
    crash never leaves a half-written file.
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expected a mapping of names to tensors (a state dict), got {type(obj).__name__}")
    arrays = {str(name): _to_array(str(name), value) for name, value in obj.items()}
    with atomic_open(path, "wb") as f:  # a file object, so np.savez keeps the name as given
        np.savez(f, **arrays)


def load(path: str | os.PathLike) -> "OrderedDict[str, np.ndarray]":
    """Read what `save` wrote: an ordered mapping of names to NumPy arrays (for load_state_dict)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no file at {path}")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not named arrays")
        with data:
            state = OrderedDict((name, data[name]) for name in data.files)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f"load: {path} is not a .npz state dict written by save ({err})") from err
    not_arrays = [name for name, value in state.items() if not isinstance(value, np.ndarray)]
    if not_arrays:
        raise ValueError(f"load: {path} is not a .npz state dict written by save (entries {not_arrays} are "
                         "not arrays; a PyTorch .pt file must be converted to a dict of NumPy arrays first)")
    return state
