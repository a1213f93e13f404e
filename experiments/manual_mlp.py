"""The by-hand MLP on Fashion-MNIST: depth x width, with SGD and with Adam.

Writes results.json (the settings and grid that ran, every setting's logs and best validation accuracy), table.md,
the best model's curves, and its test accuracy (the test set is used once).
Usage: python -m experiments.manual_mlp [--epochs 3] [--subset N] [--quick] [--depths 1 3] [--widths 25 100]
       [--optimizers sgd adam] [--lr_sgd 0.1] [--lr_adam 0.001] [--data_dir PATH] [--logdir DIR]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import tinygrad_ift as tg
from experiments.common import GridSearch, add_shared_arguments, apply_quick, fashion_mnist_flat, markdown_table
from tinygrad_ift.classic import ManualMLP
from tinygrad_ift.training.cli import positive_float, positive_int

DEPTHS = [1, 3, 5]
WIDTHS = [25, 100, 300, 500, 1000]
QUICK_DEPTHS, QUICK_WIDTHS = [1, 3], [25, 100]
OPTIMIZERS = ["sgd", "adam"]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=positive_int, default=None, help="default 3 (1 with --quick)")
    parser.add_argument("--batch_size", type=positive_int, default=100)
    parser.add_argument("--optimizers", nargs="+", choices=OPTIMIZERS, default=OPTIMIZERS)
    parser.add_argument("--depths", nargs="+", type=positive_int, default=None,
                        help=f"hidden layers; default {DEPTHS} ({QUICK_DEPTHS} with --quick)")
    parser.add_argument("--widths", nargs="+", type=positive_int, default=None,
                        help=f"hidden units; default {WIDTHS} ({QUICK_WIDTHS} with --quick)")
    parser.add_argument("--lr_sgd", type=positive_float, default=0.1)
    parser.add_argument("--lr_adam", type=positive_float, default=0.001)
    add_shared_arguments(parser, "manual_mlp", "1 epoch, 6000 images, widths 25/100, depths 1/3 (unless given)")
    args = parser.parse_args(argv)
    apply_quick(args, {"epochs": 1, "subset": 6000, "depths": QUICK_DEPTHS, "widths": QUICK_WIDTHS},
                {"epochs": 3, "subset": None, "depths": DEPTHS, "widths": WIDTHS})
    learning_rates = {opt: {"sgd": args.lr_sgd, "adam": args.lr_adam}[opt] for opt in args.optimizers}
    tg.manual_seed(args.seed)
    data = fashion_mnist_flat(args.data_dir, args.subset, args.seed)
    grid = GridSearch()
    for optimizer, lr in learning_rates.items():
        for depth in args.depths:
            for width in args.widths:
                grid.run(f"{optimizer}/depth={depth}/width={width}", ManualMLP(784, width, depth, 10), data["train"],
                         data["valid"], {"optimizer": optimizer, "lr": lr, "depth": depth, "width": width},
                         optimizer=optimizer, lr=lr, batch_size=args.batch_size, epochs=args.epochs)
    tables = "".join(
        f"## {opt} (lr {lr}): best validation accuracy\n\n" + markdown_table(
            [str(d) for d in args.depths], args.widths,
            {(str(r["depth"]), r["width"]): r["best_valid_acc"] for r in grid.runs.values() if r["optimizer"] == opt},
            "depth", "width") + "\n\n" for opt, lr in learning_rates.items())
    return grid.finish(data["test"], Path(args.logdir), tables, "manual MLP", {"settings": vars(args)})


if __name__ == "__main__":
    main()
