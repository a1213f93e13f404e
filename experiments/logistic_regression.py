"""Logistic regression by hand on Fashion-MNIST: SGD and Adam over learning rate x batch size.

Writes results.json (the settings and grid that ran, every setting's logs and best validation accuracy), table.md,
and the best model's curves; the test set is used once, for the best model.
Usage: python -m experiments.logistic_regression [--epochs 5] [--subset N] [--quick] [--lrs 0.1 0.01]
       [--batch_sizes 20 200] [--data_dir PATH] [--logdir DIR]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import tinygrad_ift as tg
from experiments.common import GridSearch, add_shared_arguments, apply_quick, fashion_mnist_flat, markdown_table
from tinygrad_ift.classic import LinearModel, add_bias_column
from tinygrad_ift.training.cli import positive_float, positive_int

OPTIMIZERS = ["sgd", "adam"]
LRS = [0.1, 0.01, 0.001]
BATCH_SIZES = [1, 20, 200, 1000]
QUICK_BATCH_SIZES = [20, 200]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=positive_int, default=None, help="default 5 (2 with --quick)")
    parser.add_argument("--batch1_subset", type=positive_int, default=5000,
                        help="batch size 1 trains on this many images (one update per image is slow)")
    parser.add_argument("--optimizers", nargs="+", choices=OPTIMIZERS, default=OPTIMIZERS)
    parser.add_argument("--lrs", nargs="+", type=positive_float, default=LRS)
    parser.add_argument("--batch_sizes", nargs="+", type=positive_int, default=None,
                        help=f"default {BATCH_SIZES} ({QUICK_BATCH_SIZES} with --quick)")
    add_shared_arguments(parser, "logistic_regression", "2 epochs, 6000 images, batch sizes 20/200 (unless given)")
    args = parser.parse_args(argv)
    apply_quick(args, {"epochs": 2, "subset": 6000, "batch_sizes": QUICK_BATCH_SIZES},
                {"epochs": 5, "subset": None, "batch_sizes": BATCH_SIZES})
    tg.manual_seed(args.seed)
    data = fashion_mnist_flat(args.data_dir, args.subset, args.seed)
    train = (add_bias_column(data["train"][0]), data["train"][1])
    valid = (add_bias_column(data["valid"][0]), data["valid"][1])
    test = (add_bias_column(data["test"][0]), data["test"][1])
    grid = GridSearch()
    for optimizer in args.optimizers:
        for lr in args.lrs:
            for bs in args.batch_sizes:
                n = min(len(train[0]), args.batch1_subset) if bs == 1 else len(train[0])
                grid.run(f"{optimizer}/lr={lr}/bs={bs}", LinearModel(train[0].shape[1] - 1, 10),
                         (train[0][:n], train[1][:n]), valid,
                         {"optimizer": optimizer, "lr": lr, "batch_size": bs},
                         optimizer=optimizer, lr=lr, batch_size=bs, epochs=args.epochs)
    tables = "".join(
        f"## {opt}: best validation accuracy\n\n" + markdown_table(
            [str(lr) for lr in args.lrs], args.batch_sizes,
            {(str(r["lr"]), r["batch_size"]): r["best_valid_acc"] for r in grid.runs.values() if r["optimizer"] == opt},
            "lr", "batch size") + "\n\n" for opt in args.optimizers)
    extra = {"settings": vars(args)}
    if 1 in args.batch_sizes:
        extra["batch_size_1_note"] = (f"batch size 1 trains on the first {min(len(train[0]), args.batch1_subset)} "
                                      f"(shuffled) training images only; the other batch sizes on all {len(train[0])}")
    return grid.finish(test, Path(args.logdir), tables, "logistic regression", extra)


if __name__ == "__main__":
    main()
