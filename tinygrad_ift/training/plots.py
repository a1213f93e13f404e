"""Loss and accuracy curves: one run's train/valid curves, and several runs overlaid for comparisons.

Figures are drawn with matplotlib's object API onto an Agg canvas, so plotting never needs a display
and never changes the backend of a notebook that imports this module.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ..files import atomic_open, read_json
from .results import RESULTS_FILE

CURVE_FILES = {"losses": "loss.png", "accs": "accuracy.png"}  # what plot_curves writes for one run
METRICS = {"train_losses": "training loss", "valid_losses": "validation loss",
           "train_accs": "training accuracy", "valid_accs": "validation accuracy"}


def _save_figure(figure, path: Path) -> Path:
    with atomic_open(path, "wb") as f:
        figure.savefig(f, format="png", dpi=120, bbox_inches="tight")
    return path


def _new_axes(ylabel: str, title: str):
    from matplotlib.figure import Figure  # an optional dependency, needed only to plot

    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    axes.set(xlabel="epoch", ylabel=ylabel, title=title)
    axes.grid(alpha=0.3)
    return figure, axes


def _epochs(values: Sequence[float]) -> range:
    return range(1, len(values) + 1)


def plot_curves(results: dict, logdir: str | os.PathLike) -> list[Path]:
    """`loss.png` and `accuracy.png` in `logdir`: training and validation curves of one run."""
    written = []
    for quantity, ylabel in (("losses", "cross-entropy loss"), ("accs", "accuracy")):
        figure, axes = _new_axes(ylabel, f"{ylabel} per epoch")
        for split in ("train", "valid"):
            values = results[f"{split}_{quantity}"]
            axes.plot(_epochs(values), values, marker="o", label=METRICS[f"{split}_{quantity}"])
        axes.legend()
        written.append(_save_figure(figure, Path(logdir) / CURVE_FILES[quantity]))
    return written


def generate_plots(dirs: Sequence[str | os.PathLike], legend_names: Sequence[str],
                   save_path: str | os.PathLike) -> list[Path]:
    """Overlay the runs in `dirs` (each holding a results.json), one figure per metric, saved in the folder
    `save_path` as `<metric>.png` (train_losses, valid_losses, train_accs, valid_accs)."""
    if len(dirs) != len(legend_names):
        raise ValueError(f"generate_plots: {len(dirs)} run folders but {len(legend_names)} legend names")
    runs = []
    for folder in dirs:
        path = Path(folder) / RESULTS_FILE
        if not path.is_file():
            raise FileNotFoundError(f"generate_plots: no {RESULTS_FILE} in {folder} (has that run finished?)")
        runs.append(read_json(path))
    written = []
    for metric, label in METRICS.items():
        figure, axes = _new_axes(label, label)
        for results, name in zip(runs, legend_names):
            axes.plot(_epochs(results[metric]), results[metric], marker="o", label=name)
        axes.legend()
        written.append(_save_figure(figure, Path(save_path) / f"{metric}.png"))
    return written
