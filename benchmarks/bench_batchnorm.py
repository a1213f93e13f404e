"""BatchNorm2d + ReLU block (training mode, forward + backward) against PyTorch eager, as ratios (ours / torch).

Shapes: batch 128 at 64x32x32, 128x16x16, 256x8x8 and 512x4x4. Besides time, our peak memory during one
forward + backward, above what was allocated before it, traced by tracemalloc (NumPy reports its allocations
there; PyTorch's CPU allocator does not), in MB and in units of the input's size.
Usage: python -m benchmarks.bench_batchnorm [--device cpu|cuda] [--torch-threads N] [--out PATH]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import tinygrad_ift as tg
from benchmarks.common import add_output_arguments, output_path, paired_times, save_results, traced_peak
from tinygrad_ift import nn

SHAPES = [(128, 64, 32, 32), (128, 128, 16, 16), (128, 256, 8, 8), (128, 512, 4, 4)]
MB = 2 ** 20


def run(device: str) -> dict:
    torch_device = "cuda" if device.startswith("cuda") else "cpu"
    sync = torch.cuda.synchronize if torch_device == "cuda" else (lambda: None)
    results = {}
    for shape in SHAPES:
        rng = np.random.default_rng(0)
        x_np = rng.standard_normal(shape).astype(np.float32)
        g_np = rng.standard_normal(shape).astype(np.float32)
        ours_bn, theirs_bn = nn.BatchNorm2d(shape[1]).to(device), torch.nn.BatchNorm2d(shape[1]).to(torch_device)
        ours_x = tg.Tensor(x_np, requires_grad=True, device=device)
        ours_g = tg.Tensor(g_np, device=device)
        theirs_x = torch.tensor(x_np, requires_grad=True, device=torch_device)
        theirs_g = torch.tensor(g_np, device=torch_device)

        def ours_step():
            ours_x.grad = None
            ours_bn.zero_grad()
            ours_bn(ours_x).relu().backward(ours_g)

        def theirs_step():
            theirs_x.grad = None
            theirs_bn.zero_grad()
            torch.relu(theirs_bn(theirs_x)).backward(theirs_g)

        row = {**paired_times(ours_step, theirs_step, repeat=60, number=2, sync=sync), "input_mb": x_np.nbytes / MB}
        if torch_device == "cpu":
            peak = traced_peak(ours_step)
            row.update({"ours_peak_mb": peak / MB, "ours_peak_in_inputs": peak / x_np.nbytes})
        results["batchnorm2d_relu_" + "x".join(map(str, shape))] = row
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    add_output_arguments(parser, "benchmarks/results/batchnorm_<device>.json")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="PyTorch's CPU threads (default: its own choice; 1 compares single-threaded NumPy fairly)")
    args = parser.parse_args()
    out = output_path(parser, args, f"benchmarks/results/batchnorm_{args.device.split(':')[0]}.json")
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    results = run(args.device)
    for name, r in results.items():
        memory = f"  our peak {r['ours_peak_mb']:6.1f} MB = {r['ours_peak_in_inputs']:.2f} x input" \
            if "ours_peak_mb" in r else ""
        print(f"{name:32s} ours {r['ours_s'] * 1e3:8.2f} ms  torch {r['torch_s'] * 1e3:8.2f} ms  "
              f"ratio {r['ratio']:5.2f}x (median of turns {r['ratio_median']:4.2f}x){memory}")
    save_results("batchnorm", "batchnorm2d_relu", args.device, out, results)


if __name__ == "__main__":
    main()
