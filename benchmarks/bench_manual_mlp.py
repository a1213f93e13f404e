"""One training epoch (SGD) of the same MLP three ways: by-hand backprop, our autograd, PyTorch autograd.

Fashion-MNIST training images (or random data of that shape when absent), batch 100, ReLU hidden layers,
float32 everywhere, widths 100 / 300 / 1000. Printed as seconds per epoch (fastest of --repeat) and
ratios to PyTorch.
Usage: python -m benchmarks.bench_manual_mlp [--depth 1] [--n 54000] [--data_dir PATH]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import tinygrad_ift

from benchmarks.common import add_output_arguments, best_time, output_path, save_results
from tinygrad_ift.classic import AutogradMLP, ManualMLP, one_hot


def epoch_manual(model, x, y, batch, lr):
    for s in range(0, len(x), batch):
        xb, yb = x[s:s + batch], y[s:s + batch]
        model.sgd_update(*model.backward(one_hot(yb, 10, np.float32), model.forward(xb)), lr)


def epoch_autograd(model, x, y, batch, lr):
    for s in range(0, len(x), batch):
        _, gw, gb = model.loss_and_gradients(x[s:s + batch], y[s:s + batch])
        for p, g in zip(model.weights + model.biases, gw + gb):
            p.data -= lr * g


def epoch_torch(params, x, y, batch, lr):
    ws, bs = params
    for s in range(0, len(x), batch):
        a = x[s:s + batch]
        for i, (w, b) in enumerate(zip(ws, bs)):
            a = a @ w + b
            if i < len(ws) - 1:
                a = a.relu()
        loss = torch.nn.functional.cross_entropy(a, y[s:s + batch])
        for p in ws + bs:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in ws + bs:
                p -= lr * p.grad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--n", type=int, default=54000, help="training images per epoch")
    parser.add_argument("--repeat", type=int, default=3, help="epochs timed per setting; the fastest counts")
    parser.add_argument("--data_dir", default=None)
    add_output_arguments(parser, "benchmarks/results/manual_mlp_cpu.json")
    args = parser.parse_args()
    out = output_path(parser, args, "benchmarks/results/manual_mlp_cpu.json")
    try:
        from tinygrad_ift.data import load_fashion_mnist
        raw = load_fashion_mnist(args.data_dir)
        x, y = raw["x_train"][:args.n].reshape(-1, 784).astype(np.float32) / 255, raw["y_train"][:args.n]
        source = "fashion-mnist"
    except FileNotFoundError:
        rng = np.random.default_rng(0)
        x, y, source = rng.random((args.n, 784), dtype=np.float32), rng.integers(0, 10, args.n), "random"
    results = {}
    for width in (100, 300, 1000):
        tinygrad_ift.manual_seed(0)
        manual = ManualMLP(784, width, args.depth, 10, dtype=np.float32)
        auto = AutogradMLP(manual)
        torch_params = ([torch.tensor(w, requires_grad=True) for w in manual.weights],
                        [torch.tensor(b, requires_grad=True) for b in manual.biases])
        times = {}
        for name, fn, args_ in (("manual", epoch_manual, (manual, x, y)), ("autograd", epoch_autograd, (auto, x, y)),
                                ("torch", epoch_torch, (torch_params, torch.tensor(x), torch.tensor(y)))):
            times[name] = best_time(lambda: fn(*args_, 100, 0.01), repeat=args.repeat, warmup=0)
        results[f"width_{width}"] = {**{f"{k}_s": v for k, v in times.items()},
                                     "manual_over_torch": times["manual"] / times["torch"],
                                     "autograd_over_torch": times["autograd"] / times["torch"]}
        print(f"width {width:5d}: manual {times['manual']:.2f} s  autograd {times['autograd']:.2f} s  "
              f"torch {times['torch']:.2f} s  ratios manual {times['manual'] / times['torch']:.2f}x, "
              f"autograd {times['autograd'] / times['torch']:.2f}x")
    save_results("manual_mlp", "manual_mlp_epoch", "cpu", out, results,
                 {**vars(args), "data": source, "batch_size": 100})


if __name__ == "__main__":
    main()
