"""The by-hand MLP on Fashion-MNIST: depth x width, with SGD and with Adam.

Writes results.json (logs of every setting and the tables of best validation accuracy), table.md, the best
model's curves, and its test accuracy (the test set is used once).
Usage: python -m experiments.manual_mlp [--epochs 3] [--subset N] [--quick] [--data_dir PATH]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from experiments.common import fashion_mnist_flat, markdown_table, plot_curves, write_json
from tinygrad_ift.classic import ManualMLP, evaluate, fit

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
    runs, best = {}, None
    for optimizer, lr in LEARNING_RATES.items():
        for depth in depths:
            for width in widths:
                start = time.perf_counter()
                model, logs = fit(ManualMLP(784, width, depth, 10), data["train"], data["valid"], 10,
                                  optimizer=optimizer, lr=lr, batch_size=args.batch_size, epochs=args.epochs)
                key = f"{optimizer}/depth={depth}/width={width}"
                runs[key] = {"optimizer": optimizer, "lr": lr, "depth": depth, "width": width, "logs": logs,
                             "best_valid_acc": max(logs["valid_acc"]), "seconds": time.perf_counter() - start}
                print(f"{key:28s} best valid acc {runs[key]['best_valid_acc']:.4f} ({runs[key]['seconds']:.1f} s)")
                if best is None or runs[key]["best_valid_acc"] > runs[best[0]]["best_valid_acc"]:
                    best = (key, model)
    key, model = best
    test_loss, test_acc = evaluate(model, *data["test"], 10)
    logdir = Path(args.logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    tables = "".join(
        f"## {opt} (lr {lr}): best validation accuracy\n\n" + markdown_table(
            [str(d) for d in depths], widths,
            {(str(r["depth"]), r["width"]): r["best_valid_acc"] for r in runs.values() if r["optimizer"] == opt},
            "depth", "width") + "\n\n" for opt, lr in LEARNING_RATES.items())
    (logdir / "table.md").write_text(tables)
    plot_curves(runs[key]["logs"], f"manual MLP, best: {key}", logdir / "best_curves.png")
    result = {"settings": vars(args), "runs": runs, "best": key, "test_loss": test_loss, "test_acc": test_acc}
    write_json(logdir / "results.json", result)
    print(f"best {key}: test accuracy {test_acc:.4f} (loss {test_loss:.4f}); wrote {logdir}")
    return result


if __name__ == "__main__":
    main()
