"""Conv2d forward + backward at the ResNet18 CIFAR layer shapes against PyTorch, in one run, as ratios.

Batch 128 (by default): 64 channels at 32x32, 128 at 16x16, 256 at 8x8, 512 at 4x4; 3x3 kernels, padding 1,
in = out channels, no bias. Both libraries use one thread per core (PyTorch set to os.cpu_count(); NumPy's
OpenBLAS uses that by default). Time is the best of --repeat turns, each a warm-up step and a timed step,
interleaved with PyTorch's turns (benchmarks.common.paired_times).

Peak memory of one step, on the CPU, two ways:
- ours, traced by tracemalloc (NumPy reports its allocations there; PyTorch's allocator does not);
- both, as the growth of the peak resident memory over one step (VmHWM after it minus VmRSS before it, the peak
  mark reset through /proc/self/clear_refs; Linux only), each in a fresh process that has only built the inputs.
On the GPU: PyTorch's torch.cuda.max_memory_allocated.
Usage: python -m benchmarks.bench_conv [--device cpu|cuda] [--batch 128] [--repeat 3] [--out PATH]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

import numpy as np
import torch

import tinygrad_ift as tg
from benchmarks.common import (add_output_arguments, output_path, paired_times, proc_status_kib, reset_peak_rss,
                               save_results, traced_peak)
from tinygrad_ift.nn.functional import conv2d

LAYERS = [(64, 32), (128, 16), (256, 8), (512, 4)]
GOAL_RATIO_CPU = 1.5
MB = 2 ** 20


def make_step(library: str, device: str, batch: int, channels: int, size: int):
    """One forward + backward of a 3x3, padding-1 convolution in `library` ("ours" or "torch")."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, channels, size, size)).astype(np.float32)
    w = (rng.standard_normal((channels, channels, 3, 3)) * 0.05).astype(np.float32)
    g = rng.standard_normal((batch, channels, size, size)).astype(np.float32)
    if library == "ours":
        x, w, g = (tg.Tensor(a, requires_grad=r, device=device) for a, r in ((x, True), (w, True), (g, False)))
        forward = conv2d
    else:
        device = "cuda" if device.startswith("cuda") else "cpu"
        x, w, g = (torch.tensor(a, requires_grad=r, device=device) for a, r in ((x, True), (w, True), (g, False)))
        forward = torch.nn.functional.conv2d

    def step():
        x.grad = w.grad = None
        forward(x, w, padding=1).backward(g)
    return step


def rss_growth_mb(library: str, batch: int, channels: int, size: int) -> float:
    """Peak resident memory added by one step, measured in a fresh process."""
    command = [sys.executable, "-m", "benchmarks.bench_conv", "--rss-of", library,
               "--rss-layer", f"{batch},{channels},{size}"]
    return float(subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()[-1])


def print_rss_growth(library: str, layer: str) -> None:
    """The child side of rss_growth_mb: build the inputs, reset the kernel's peak-RSS mark (Linux), run one step
    and print how far the peak rose above the resident memory before it, in MB."""
    step = make_step(library, "cpu", *map(int, layer.split(",")))
    reset_peak_rss()
    before = proc_status_kib("VmRSS")
    step()
    print((proc_status_kib("VmHWM") - before) / 1024)


def run(device: str, batch: int, repeat: int) -> dict:
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    results = {}
    for channels, size in LAYERS:
        ours, theirs = (make_step(library, device, batch, channels, size) for library in ("ours", "torch"))
        entry = {"shape": [batch, channels, size, size], **paired_times(ours, theirs, repeat=repeat, sync=sync),
                 "input_mb": batch * channels * size * size * 4 / MB}
        t_ours, t_theirs = entry["ours_s"], entry["torch_s"]
        if device == "cpu":
            entry["goal_ratio"] = GOAL_RATIO_CPU
            entry["ours_peak_mb_tracemalloc"] = traced_peak(ours) / MB
            for library in ("ours", "torch"):
                entry[f"{library}_peak_rss_growth_mb"] = rss_growth_mb(library, batch, channels, size)
            memory = (f"  peak: ours {entry['ours_peak_mb_tracemalloc']:5.0f} MB traced, rss growth ours "
                      f"{entry['ours_peak_rss_growth_mb']:5.0f} MB, torch {entry['torch_peak_rss_growth_mb']:5.0f} MB")
        else:
            torch.cuda.reset_peak_memory_stats()
            theirs()
            entry["torch_peak_mb"] = torch.cuda.max_memory_allocated() / MB
            memory = f"  torch peak {entry['torch_peak_mb']:.0f} MB"
        results[f"{channels}ch_{size}x{size}"] = entry
        print(f"{channels:4d} ch {size:2d}x{size:<2d}  ours {t_ours * 1e3:8.1f} ms  torch {t_theirs * 1e3:8.1f} ms  "
              f"ratio {t_ours / t_theirs:5.2f}x (median of turns {entry['ratio_median']:4.2f}x){memory}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    add_output_arguments(parser, "benchmarks/results/conv_<device>.json")
    parser.add_argument("--rss-of", choices=["ours", "torch"], help=argparse.SUPPRESS)  # child process mode
    parser.add_argument("--rss-layer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    out = output_path(parser, args, f"benchmarks/results/conv_{args.device.split(':')[0]}.json")
    torch.set_num_threads(os.cpu_count())
    if args.rss_of:
        print_rss_growth(args.rss_of, args.rss_layer)
        return
    results = run(args.device, args.batch, args.repeat)
    print(f"worst ratio {max(r['ratio'] for r in results.values()):.2f}x")
    settings = {k: v for k, v in vars(args).items() if not k.startswith("rss")}
    save_results("conv", "conv2d_resnet18_shapes", args.device, out, results, settings)


if __name__ == "__main__":
    main()
