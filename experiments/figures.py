"""The report's own figures (matplotlib's object API on an Agg canvas, written atomically)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinygrad_ift.files import atomic_open


def _save(figure, path: Path) -> Path:
    with atomic_open(path, "wb") as f:
        figure.savefig(f, format="png", dpi=110, bbox_inches="tight")
    return path


def gradient_flow(result: dict, title: str, path: Path) -> Path:
    """Left: each weight's gradient norm averaged over the steps, in forward order (log scale).
    Right: log10 of every weight's gradient norm at every step."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, NullFormatter
    norms = np.asarray(result["norms"], dtype=np.float64)  # (layers, steps)
    figure = Figure(figsize=(13, max(4.0, 0.12 * len(norms) + 2)))
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    positions = np.arange(len(norms))
    left.barh(positions, norms.mean(axis=1))
    left.set(xscale="log", xlabel="mean gradient L2 norm", yticks=positions, title="per layer (input at top)")
    left.set_yticklabels(result["layers"], fontsize=6)
    left.invert_yaxis()
    left.xaxis.set_minor_formatter(NullFormatter())  # the minor log ticks' labels overlap
    shown = right.imshow(np.log10(np.maximum(norms, 1e-12)), aspect="auto", interpolation="nearest",
                         cmap="viridis")
    right.set(xlabel="training step", ylabel="layer (forward order, as on the left)",
              title="log10 gradient norm over steps")
    for axis in (right.xaxis, right.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))
    figure.colorbar(shown, ax=right)
    figure.suptitle(title)
    return _save(figure, path)


def regression_curves(curves: list[tuple[str, dict]], path: Path) -> Path:
    """Train and test mean absolute error per epoch (epoch 0: untrained), one line per run."""
    from matplotlib.figure import Figure
    figure = Figure(figsize=(11, 4))
    for axes, split in zip(figure.subplots(1, 2), ("train", "test")):
        for label, logs in curves:
            axes.plot(logs[f"{split}_mae"], marker="o", label=label)
        axes.set(xlabel="epoch (0 = untrained)", ylabel="MAE (standardised angle)", title=f"{split} MAE")
        axes.grid(alpha=0.3)
        axes.legend()
    return _save(figure, path)
