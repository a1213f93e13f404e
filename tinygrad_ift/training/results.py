"""The per-epoch history of a run and the `results.json` that summarises it."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import __version__, backend
from ..files import write_json

RESULTS_FILE = "results.json"


@dataclass
class History:
    """One entry per finished epoch; saved in checkpoints so that a resumed run keeps its curves."""

    train_losses: list[float] = field(default_factory=list)
    valid_losses: list[float] = field(default_factory=list)
    train_accs: list[float] = field(default_factory=list)
    valid_accs: list[float] = field(default_factory=list)
    epoch_times: list[float] = field(default_factory=list)

    def record(self, train_loss: float, train_acc: float, valid_loss: float, valid_acc: float,
               seconds: float) -> None:
        self.train_losses.append(train_loss)
        self.train_accs.append(train_acc)
        self.valid_losses.append(valid_loss)
        self.valid_accs.append(valid_acc)
        self.epoch_times.append(seconds)

    def to_dict(self) -> dict:
        return asdict(self)


def build_results(history: History, test_loss: float | None, test_acc: float | None, n_parameters: int,
                  config: dict, device: backend.Device) -> dict:
    """Everything needed to compare and reproduce a run: curves, test metrics, configuration, versions, device.
    An interrupted run has no test metrics (None) and `finished` False."""
    return {
        "finished": test_loss is not None,
        **history.to_dict(),
        "test_loss": test_loss,
        "test_acc": test_acc,
        "n_parameters": n_parameters,
        "config": config,
        "versions": {"tinygrad_ift": __version__, **backend.versions()},
        "device": str(device),
        "device_name": backend.device_name(device),
    }


def write_results(logdir: str | os.PathLike, results: dict) -> Path:
    path = Path(logdir) / RESULTS_FILE
    write_json(path, results)
    return path
