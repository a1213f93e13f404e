"""Checkpoints: model, optimiser, random-generator states and progress in one .npz, written atomically.

The file is what `tinygrad_ift.save` writes for the nested dict {"model": model state dict, "optimizer":
optimiser state dict, "progress": epoch, history, loader and generator states, config}, so it loads without
pickle, and a run's trained weights load in one call:
`model.load_state_dict(tinygrad_ift.load("runs/<run>/checkpoint.npz")["model"])`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .. import random as tg_random
from ..nn import Module
from ..optim import Optimizer
from ..serialization import load, save
from .results import History

CHECKPOINT_FILE = "checkpoint.npz"
PARTS = ("model", "optimizer", "progress")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read (damaged, or not a checkpoint); the message says what to do."""


@dataclass
class Progress:
    """Where a run stands: finished epochs, their history, the data loader's shuffle state, the run's config."""

    epoch: int = 0
    history: History = field(default_factory=History)
    loader_state: Any = None
    config: dict = field(default_factory=dict)


def save_checkpoint(path: str | os.PathLike, model: Module, optimizer: Optimizer, progress: Progress) -> None:
    """Write everything a bit-identical resume needs, including the framework's generator state."""
    save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
          "progress": {"epoch": progress.epoch, "history": progress.history.to_dict(),
                       "loader_state": progress.loader_state, "config": progress.config,
                       "rng_state": tg_random.get_rng_state()}}, path)


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint's three parts; a damaged or foreign file raises CheckpointError naming it."""
    advice = ("delete it (or move it away) and train again with --overwrite; the epochs it held are lost")
    try:
        contents = load(path)
    except ValueError as err:
        raise CheckpointError(f"{err}; {advice}") from err
    if not isinstance(contents, dict) or sorted(contents) != sorted(PARTS):
        raise CheckpointError(f"{path} is not a training checkpoint of this version (expected the parts "
                              f"{list(PARTS)}); {advice}")
    return contents


def restore(contents: dict, model: Module, optimizer: Optimizer) -> Progress:
    """Put a checkpoint's state into the model, the optimiser and the framework's generator; return its progress."""
    model.load_state_dict(contents["model"])
    optimizer.load_state_dict(contents["optimizer"])
    progress = contents["progress"]
    tg_random.set_rng_state(progress["rng_state"])
    return Progress(epoch=progress["epoch"], history=History(**progress["history"]),
                    loader_state=progress["loader_state"], config=progress["config"])
