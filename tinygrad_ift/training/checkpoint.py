"""Checkpoints: model, optimiser, random-generator states and progress in one .npz, written atomically.

Arrays (weights, optimiser moments) are stored as arrays; everything else (epoch, history, generator
states, optimiser scalars) as one JSON string under the key "meta", so the file loads without pickle.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .. import random as tg_random
from ..nn import Module
from ..optim import Optimizer
from ..serialization import load, save
from .results import History

CHECKPOINT_FILE = "checkpoint.npz"
_MODEL, _OPTIMIZER, _META = "model/", "optimizer/", "meta"


@dataclass
class Progress:
    """Where a run stands: finished epochs, their history, the data loader's shuffle state, the run's config."""

    epoch: int = 0
    history: History = field(default_factory=History)
    loader_state: Any = None
    config: dict = field(default_factory=dict)


def save_checkpoint(path: str | os.PathLike, model: Module, optimizer: Optimizer, progress: Progress) -> None:
    """Write everything a bit-identical resume needs, including the framework's generator state."""
    arrays = {_MODEL + name: tensor for name, tensor in model.state_dict().items()}
    optimizer_state = optimizer.state_dict()
    scalars: dict[str, dict] = {}
    for index, state in optimizer_state["state"].items():
        for key, value in state.items():
            if hasattr(value, "shape"):
                arrays[f"{_OPTIMIZER}{index}/{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    meta = {"epoch": progress.epoch, "history": progress.history.to_dict(), "loader_state": progress.loader_state,
            "config": progress.config, "rng_state": tg_random.get_rng_state(),
            "optimizer": {"param_groups": optimizer_state["param_groups"], "scalars": scalars}}
    arrays[_META] = np.array(json.dumps(meta, default=_json_scalar))
    save(arrays, path)


def _meta(arrays: Mapping[str, np.ndarray], path: str | os.PathLike) -> dict:
    if _META not in arrays:
        raise ValueError(f"checkpoint: {path} is not a training checkpoint (no '{_META}' entry)")
    return json.loads(str(arrays[_META]))


def saved_config(path: str | os.PathLike) -> dict:
    """The configuration of the run that wrote the checkpoint (read without loading its arrays)."""
    with np.load(path, allow_pickle=False) as arrays:
        return _meta(arrays, path)["config"]


def load_checkpoint(path: str | os.PathLike, model: Module, optimizer: Optimizer) -> Progress:
    """Restore the model, the optimiser and the framework's generator in place; return the saved progress."""
    arrays = load(path)
    meta = _meta(arrays, path)
    model.load_state_dict({name[len(_MODEL):]: a for name, a in arrays.items() if name.startswith(_MODEL)})
    state: dict[int, dict] = {int(i): dict(values) for i, values in meta["optimizer"]["scalars"].items()}
    for name, array in arrays.items():
        if name.startswith(_OPTIMIZER):
            index, key = name[len(_OPTIMIZER):].split("/", 1)
            state.setdefault(int(index), {})[key] = array
    optimizer.load_state_dict({"state": state, "param_groups": meta["optimizer"]["param_groups"]})
    tg_random.set_rng_state(meta["rng_state"])
    return Progress(epoch=meta["epoch"], history=History(**meta["history"]), loader_state=meta["loader_state"],
                    config=meta["config"])


def _json_scalar(value: Any) -> Any:
    """NumPy scalars (e.g. a step count) as plain Python numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"save_checkpoint: cannot store {type(value).__name__} in a checkpoint")
