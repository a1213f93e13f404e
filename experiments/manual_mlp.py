"""The by-hand MLP on Fashion-MNIST: depth x width, with SGD and with Adam.

Writes results.json (the settings and grid that ran, every setting's logs and best validation accuracy), table.md,
the best model's curves, and its test accuracy (the test set is used once).
Usage: python -m experiments.manual_mlp [--epochs 3] [--subset N] [--quick] [--depths 1 3] [--widths 25 100]
       [--lr_sgd 0.1] [--lr_adam 0.001] [--data_dir PATH] [--logdir DIR]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import tinygrad_ift as tg
from experiments.common import GridSearch, add_shared_arguments, fashion_mnist_flat, markdown_table
from tinygrad_ift.classic import ManualMLP

DEPTHS = [1, 3, 5]
WIDTHS = [25, 100, 300, 500, 1000]
QUICK_DEPTHS, QUICK_WIDTHS = [1, 3], [25, 100]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument("--depths", nargs="+", type=int, default=None,
                        help=f"hidden layers; default {DEPTHS} ({QUICK_DEPTHS} with --quick)")
    parser.add_argument("--widths", nargs="+", type=int, default=None,
                        help=f"hidden units; default {WIDTHS} ({QUICK_WIDTHS} with --quick)")
    parser.add_argument("--lr_sgd", type=float, default=0.1)
    parser.add_argument("--lr_adam", type=float, default=0.001)
    add_shared_arguments(parser, "experiments/results/manual_mlp", "1 epoch, 6000 images, widths 25/100, depths 1/3")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.subset = 1, args.subset or 6000
    args.depths = args.depths or (QUICK_DEPTHS if args.quick else DEPTHS)
    args.widths = args.widths or (QUICK_WIDTHS if args.quick else WIDTHS)
    learning_rates = {"sgd": args.lr_sgd, "adam": args.lr_adam}
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
