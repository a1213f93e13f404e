"""The by-hand MLP on Fashion-MNIST: depth x width, with SGD and with Adam.

Writes results.json (logs of every setting and the tables of best validation accuracy), table.md, the best
model's curves, and its test accuracy (the test set is used once).
Usage: python -m experiments.manual_mlp [--epochs 3] [--subset N] [--quick] [--data_dir PATH]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from experiments.common import GridSearch, fashion_mnist_flat, markdown_table
from tinygrad_ift.classic import ManualMLP

DEPTHS = [1, 3, 5]
WIDTHS = [25, 100, 300, 500, 1000]
LEARNING_RATES = {"sgd": 0.1, "adam": 0.001}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument("--subset", type=int, default=None, help="use a seeded random sample of N training images")
    parser.add_argument("--quick", action="store_true", help="1 epoch, 6000 images, widths 25/100, depths 1/3")
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--logdir", default="experiments/results/manual_mlp")
    args = parser.parse_args(argv)
    depths, widths = (DEPTHS[:2], WIDTHS[:2]) if args.quick else (DEPTHS, WIDTHS)
    if args.quick:
        args.epochs, args.subset = 1, args.subset or 6000
    data = fashion_mnist_flat(args.data_dir, args.subset)
    grid = GridSearch()
    for optimizer, lr in LEARNING_RATES.items():
        for depth in depths:
            for width in widths:
                grid.run(f"{optimizer}/depth={depth}/width={width}", ManualMLP(784, width, depth, 10), data["train"],
                         data["valid"], {"optimizer": optimizer, "lr": lr, "depth": depth, "width": width},
                         optimizer=optimizer, lr=lr, batch_size=args.batch_size, epochs=args.epochs)
    tables = "".join(
        f"## {opt} (lr {lr}): best validation accuracy\n\n" + markdown_table(
            [str(d) for d in depths], widths,
            {(str(r["depth"]), r["width"]): r["best_valid_acc"] for r in grid.runs.values() if r["optimizer"] == opt},
            "depth", "width") + "\n\n" for opt, lr in LEARNING_RATES.items())
    result = grid.finish(data["test"], Path(args.logdir), tables, "manual MLP", {"settings": vars(args)})
    return result


if __name__ == "__main__":
    main()
