"""Conv2d forward + backward at the ResNet18 CIFAR layer shapes against PyTorch, in one run, as ratios.

Batch 128 (by default): 64 channels at 32x32, 128 at 16x16, 256 at 8x8, 512 at 4x4; 3x3 kernels, padding 1,
in = out channels, no bias. Also our peak memory of one step (tracemalloc, CPU) in MB.
Usage: python -m benchmarks.bench_conv [--device cpu|cuda] [--batch 128] [--repeat 3]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import tinygrad_ift as tg
from benchmarks.common import best_time, save_results, traced_peak
from tinygrad_ift.buffer_pool import POOL
from tinygrad_ift.nn.functional import conv2d

LAYERS = [(64, 32), (128, 16), (256, 8), (512, 4)]
MB = 2 ** 20


def run(device: str, batch: int, repeat: int) -> dict:
    torch_device = "cuda" if device.startswith("cuda") else "cpu"
    sync = torch.cuda.synchronize if torch_device == "cuda" else (lambda: None)
    results = {}
    for channels, size in LAYERS:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch, channels, size, size)).astype(np.float32)
        w = (rng.standard_normal((channels, channels, 3, 3)) * 0.05).astype(np.float32)
        g = rng.standard_normal((batch, channels, size, size)).astype(np.float32)
        ox, ow, og = (tg.Tensor(a, requires_grad=r, device=device) for a, r in ((x, True), (w, True), (g, False)))
        tx, tw, tg_ = (torch.tensor(a, requires_grad=r, device=torch_device) for a, r in ((x, True), (w, True), (g, False)))

        def ours():
            ox.grad = ow.grad = None
            conv2d(ox, ow, padding=1).backward(og)

        def theirs():
            tx.grad = tw.grad = None
            torch.nn.functional.conv2d(tx, tw, padding=1).backward(tg_)
        t_ours = best_time(ours, repeat=repeat, sync=sync)
        t_theirs = best_time(theirs, repeat=repeat, sync=sync)
        entry = {"shape": [batch, channels, size, size], "ours_s": t_ours, "torch_s": t_theirs,
                 "ratio": t_ours / t_theirs, "goal_ratio_cpu": 1.5}
        if device == "cpu":
            POOL.clear()  # count the pooled im2col buffers too
            entry["ours_peak_mb"] = traced_peak(ours) / MB
            entry["input_mb"] = x.nbytes / MB
        else:
            torch.cuda.reset_peak_memory_stats()
            theirs()
            entry["torch_peak_mb"] = torch.cuda.max_memory_allocated() / MB
        results[f"{channels}ch_{size}x{size}"] = entry
        print(f"{channels:4d} ch {size:2d}x{size:<2d}  ours {t_ours * 1e3:8.1f} ms  torch {t_theirs * 1e3:8.1f} ms  "
              f"ratio {t_ours / t_theirs:5.2f}x" + (f"  our peak {entry['ours_peak_mb']:.0f} MB" if device == "cpu" else ""))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=None, help="JSON path (default benchmarks/results/conv_<device>.json)")
    args = parser.parse_args()
    results = run(args.device, args.batch, args.repeat)
    save_results("conv", "conv2d_resnet18_shapes", args.device, args.out, results, vars(args))


if __name__ == "__main__":
    main()
