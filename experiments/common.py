"""Shared experiment plumbing: Fashion-MNIST as flat features, atomic JSON, curve plots, markdown tables."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tinygrad_ift.files import atomic_open, write_json
from tinygrad_ift.classic import evaluate, fit, split_train_valid
from tinygrad_ift.data import load_fashion_mnist
from tinygrad_ift.training.cli import non_negative_int, positive_int


def add_shared_arguments(parser, name: str, quick_help: str) -> None:
    """The flags both by-hand grid scripts take: data, subset, quick mode, seed and where results go (by default
    runs/<name>, a git-ignored folder: the committed reference results are written only when --logdir says so)."""
    parser.add_argument("--subset", type=positive_int, default=None,
                        help="use a seeded random sample of N training images")
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="fixes the split, the subset, the init and the shuffles")
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--logdir", default=f"runs/{name}", help="(default: %(default)s)")


def apply_quick(args, quick: dict, defaults: dict) -> None:
    """Fill every setting left unset (None): from `quick` with --quick, else from `defaults`.
    Values given explicitly on the command line are kept either way."""
    for key, default in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, quick.get(key, default) if args.quick else default)


def fashion_mnist_flat(data_dir: str | None, subset: int | None = None, seed: int = 0) -> dict:
    """Pixels scaled to [0, 1] and flattened to 784 features; a seeded 90/10 train/valid split.

    `subset` keeps a seeded random sample of the training images (the stored order is grouped by class)."""
    raw = load_fashion_mnist(data_dir)
    x = raw["x_train"].reshape(len(raw["x_train"]), -1).astype(np.float64) / 255.0
    y = raw["y_train"]
    if subset:
        keep = np.random.default_rng(seed).permutation(len(x))[:subset]
        x, y = x[keep], y[keep]
    train, valid = split_train_valid(x, y, 0.1, seed)
    test = (raw["x_test"].reshape(len(raw["x_test"]), -1).astype(np.float64) / 255.0, raw["y_test"])
    return {"train": train, "valid": valid, "test": test}


def plot_curves(logs: dict, title: str, path: Path) -> None:
    """Loss and accuracy per epoch, train and valid, side by side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "acc")):
        for split in ("train", "valid"):
            ax.plot(logs[f"{split}_{metric}"], label=split)
        ax.set_xlabel("epoch (0 = untrained)")
        ax.set_ylabel(metric)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png")
    plt.close(fig)


def markdown_table(rows: list[str], cols: list, values: dict, row_name: str, col_name: str) -> str:
    """values[(row, col)] -> a markdown table (missing cells shown as '-')."""
    head = f"| {row_name} \\ {col_name} | " + " | ".join(str(c) for c in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 1)]
    for r in rows:
        cells = [f"{values[(r, c)]:.4f}" if (r, c) in values else "-" for c in cols]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


class GridSearch:
    """Train one by-hand model per setting, keep every run's logs and the model of the best validation accuracy,
    then score that model once on the test set and write results.json, table.md and its curves."""

    def __init__(self) -> None:
        self.runs: dict = {}
        self.best_key: str | None = None
        self.best_model = None

    def run(self, key: str, model, train: tuple, valid: tuple, info: dict, **fit_options) -> None:
        start = time.perf_counter()
        model, logs = fit(model, train, valid, 10, **fit_options)
        self.runs[key] = {**info, "n_train": len(train[0]), "n_valid": len(valid[0]), "logs": logs,
                          "best_valid_acc": max(logs["valid_acc"]), "seconds": time.perf_counter() - start}
        print(f"{key:28s} best valid acc {self.runs[key]['best_valid_acc']:.4f} ({self.runs[key]['seconds']:.1f} s)")
        if self.best_key is None or self.runs[key]["best_valid_acc"] > self.runs[self.best_key]["best_valid_acc"]:
            self.best_key, self.best_model = key, model

    def finish(self, test: tuple, logdir: Path, tables: str, title: str, extra: dict) -> dict:
        test_loss, test_acc = evaluate(self.best_model, *test, 10)
        with atomic_open(logdir / "table.md", "w") as f:
            f.write(tables)
        plot_curves(self.runs[self.best_key]["logs"], f"{title}, best: {self.best_key}", logdir / "best_curves.png")
        result = {**extra, "runs": self.runs, "best": self.best_key, "n_test": len(test[0]),
                  "test_loss": test_loss, "test_acc": test_acc}
        write_json(logdir / "results.json", result)
        print(f"best {self.best_key}: test accuracy {test_acc:.4f} (loss {test_loss:.4f}); wrote {logdir}")
        return result
