"""save/load as .npz, written atomically and read without pickle.

A flat mapping of names to tensors/arrays (a Module's state_dict) is stored one array per name. Nested dicts
and lists (an optimiser's state_dict, a training checkpoint) are stored too: each array under its '/'-joined
path (e.g. "state/0/exp_avg"), and the nesting with every other value (numbers, strings, booleans, None) as
one JSON string under the name TREE, so `load` gives back the same structure.
"""
from __future__ import annotations

import json
import os
import zipfile
import zlib
from collections import OrderedDict
from typing import Any, Mapping

import numpy as np

from .files import atomic_open
from .backend import to_numpy
from .tensor import Tensor

TREE = "__tree__"  # the entry that holds a nested structure's JSON
ZIP_MAGIC, NPY_MAGIC = b"PK", b"\x93NUMPY"
JSON_LEAVES = (str, int, float, bool, type(None))


def _is_array(value: Any) -> bool:
    return isinstance(value, Tensor) or (hasattr(value, "shape") and hasattr(value, "dtype"))


def _to_array(name: str, value: Any) -> np.ndarray:
    """A host array of numbers (object arrays would need pickle, which load refuses for safety)."""
    array = to_numpy(value.data) if isinstance(value, Tensor) else to_numpy(value)
    if array.dtype == object:
        raise TypeError(f"save: entry {name!r} ({type(value).__name__}) is not an array of numbers")
    return array


def _encode(value: Any, path: tuple[str, ...], arrays: dict[str, np.ndarray]) -> Any:
    """The JSON description of `value`; its arrays go into `arrays` under their '/'-joined path."""
    name = "/".join(path)
    if _is_array(value):
        if name in arrays or name == TREE:
            raise ValueError(f"save: two entries would both be stored as {name!r}; rename one of the keys")
        arrays[name] = _to_array(name, value)
        return {"array": name}
    if isinstance(value, Mapping):
        bad = [key for key in value if not isinstance(key, (str, int))]
        if bad:
            raise TypeError(f"save: the keys of {name or 'the mapping'} must be strings or integers, got {bad!r}")
        return {"dict": [[key, _encode(item, (*path, str(key)), arrays)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        items = [_encode(item, (*path, str(i)), arrays) for i, item in enumerate(value)]
        return {type(value).__name__: items}
    if isinstance(value, JSON_LEAVES):
        return value
    raise TypeError(f"save: entry {name!r} is a {type(value).__name__}; save stores tensors, arrays, numbers, "
                    "strings, booleans, None, and dicts, lists and tuples of them")


def _decode(node: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """The inverse of _encode."""
    if not isinstance(node, dict):
        return node
    (kind, content), = node.items()
    if kind == "array":
        return arrays[content]
    if kind == "dict":
        return {key: _decode(item, arrays) for key, item in content}
    items = [_decode(item, arrays) for item in content]
    return tuple(items) if kind == "tuple" else items


def save(obj: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a mapping to exactly `path` (any extension, no ".npz" appended): names to tensors/arrays (a state
    dict), or nested dicts/lists of arrays and plain values (`tg.save(optimizer.state_dict(), path)`).

    The arrays go to a temporary file in the same folder, which then replaces `path` in one rename, so a
    crash never leaves a half-written file.
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expected a mapping of names to tensors (a state dict), got {type(obj).__name__}")
    if all(_is_array(value) for value in obj.values()):
        arrays = {str(name): _to_array(str(name), value) for name, value in obj.items()}
    else:
        arrays = {}
        tree = _encode(obj, (), arrays)
        arrays[TREE] = np.array(json.dumps(tree))
    with atomic_open(path, "wb") as f:  # a file object, so np.savez keeps the name as given
        np.savez(f, **arrays)


def load(path: str | os.PathLike) -> "OrderedDict[str, np.ndarray] | dict[str, Any]":
    """Read what `save` wrote: names to NumPy arrays (for load_state_dict), or the nested structure saved.

    A file that is not a .npz, or a damaged one (truncated by a full disk or an interrupted copy), gets a
    ValueError that names it.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no file at {path}")
    with open(path, "rb") as f:
        head = f.read(len(NPY_MAGIC))
    if head == NPY_MAGIC:
        raise ValueError(f"load: {path} holds a single array (.npy), not named arrays; read it with np.load")
    if not head.startswith(ZIP_MAGIC):
        what = "is empty" if not head else "does not start like a zip archive"
        raise ValueError(f"load: {path} is not a .npz file (it {what}); was it written by tinygrad_ift.save?")
    try:
        with np.load(path, allow_pickle=False) as data:
            state = OrderedDict((name, data[name]) for name in data.files)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
        raise ValueError(f"load: {path} is damaged (truncated or corrupted: {err}); save or fetch it again") \
            from err
    except ValueError as err:
        raise ValueError(f"load: {path} is not a .npz of plain arrays ({err})") from err
    not_arrays = [name for name, value in state.items() if not isinstance(value, np.ndarray)]
    if not_arrays:
        raise ValueError(f"load: {path} is not a .npz written by save (entries {not_arrays} are not arrays; "
                         "a PyTorch .pt file must be converted to a dict of NumPy arrays first)")
    if TREE not in state:
        return state
    try:
        return _decode(json.loads(str(state.pop(TREE))), state)
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"load: {path} is damaged (its {TREE} entry does not describe its arrays: {err})") \
            from err
