"""The course's CIFAR-10 experiments: runs through the training command line, then their curves overlaid.

    python experiments/cifar_suite.py --experiments models optimizers --epochs 15 --device cuda

Each experiment is a list of runs compared in one set of plots (<results_dir>/plots/<experiment>/).
A run lives in <results_dir>/<model>_<optimizer>_lr<lr>/ (default runs/cifar_suite) and is shared by the experiments that list
it; a finished run is skipped and an interrupted one resumes from its checkpoint. Flags the suite does not
know (--device, --data_dir, --subset, --batch_size, ...) are passed to every run.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from tinygrad_ift.training import generate_plots, main as train_main
from tinygrad_ift.training.cli import positive_int

RESULTS_DIR = Path("runs") / "cifar_suite"  # git-ignored; the committed results are written only when asked


@dataclass(frozen=True)
class Run:
    """One training configuration; its name is its folder."""

    model: str
    optimizer: str = "adamw"
    lr: float = 1e-3

    @property
    def name(self) -> str:
        return f"{self.model}_{self.optimizer}_lr{self.lr:g}"

    def flags(self) -> list[str]:
        return ["--model", self.model, "--optimizer", self.optimizer, "--lr", str(self.lr)]


# experiment -> (legend name, run) pairs
EXPERIMENTS: dict[str, list[tuple[str, Run]]] = {
    "models": [("MLP", Run("mlp")), ("ResNet-18", Run("resnet18")), ("MLP-Mixer", Run("mlpmixer"))],
    "optimizers": [("SGD, lr 0.1", Run("resnet18", "sgd", 0.1)),
                   ("SGD + momentum 0.9, lr 0.01", Run("resnet18", "momentum", 0.01)),
                   ("Adam, lr 1e-3", Run("resnet18", "adam", 1e-3)),
                   ("AdamW, lr 1e-3", Run("resnet18", "adamw", 1e-3))],
    "learning_rates": [(f"AdamW, lr {lr:g}", Run("mlp", "adamw", lr)) for lr in (1e-2, 1e-3, 1e-4)],
}


def is_finished(logdir: Path, epochs: int) -> bool:
    results = logdir / "results.json"
    return results.is_file() and len(json.loads(results.read_text())["train_losses"]) == epochs


def run_experiment(name: str, epochs: int, results_dir: Path, extra_flags: list[str]) -> list[Path]:
    """Train (or finish) every run of the experiment, then write its comparison plots; returns their paths."""
    runs = EXPERIMENTS[name]
    for _, run in runs:
        logdir = results_dir / run.name
        if is_finished(logdir, epochs):
            print(f"[{name}] {run.name}: finished earlier, skipped")
            continue
        print(f"[{name}] {run.name}")
        train_main([*run.flags(), "--epochs", str(epochs), "--logdir", str(logdir), "--resume", *extra_flags])
    return generate_plots([results_dir / run.name for _, run in runs], [legend for legend, _ in runs],
                          results_dir / "plots" / name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", nargs="+", choices=sorted(EXPERIMENTS), default=list(EXPERIMENTS))
    parser.add_argument("--epochs", type=positive_int, default=15)
    parser.add_argument("--results_dir", type=Path, default=RESULTS_DIR, help="(default: %(default)s)")
    args, extra_flags = parser.parse_known_args(argv)
    for name in args.experiments:
        for path in run_experiment(name, args.epochs, args.results_dir, extra_flags):
            print(f"[{name}] plot: {path}")


if __name__ == "__main__":
    main()
