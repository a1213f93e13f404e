"""Core-op benchmark against PyTorch eager on the same machine, in one run, as ratios (ours / torch).

(1) per-op overhead: forward + backward of a chain of 50 elementwise ops on a (16, 16) tensor;
(2) a (1024, 1024) matmul forward + backward.
Goals: both within 1.2x of PyTorch. Our turns and PyTorch's are interleaved (benchmarks.common.paired_times).
Usage: python benchmarks/bench_ops.py [--device cpu|cuda] [--out benchmarks/results/ops_cpu.json]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import tinygrad_ift as tg
from benchmarks.common import add_output_arguments, output_path, paired_times, save_results

CHAIN_LENGTH = 50


def chain(x):
    """50 elementwise ops: a repeating mix of mul, add, tanh, sub, sigmoid."""
    y = x
    for _ in range(CHAIN_LENGTH // 5):
        y = y * 1.01
        y = y + 0.1
        y = y.tanh()
        y = y - 0.05
        y = y.sigmoid()
    return y.sum()


def run(device: str) -> dict:
    torch_device = "cuda" if device.startswith("cuda") else "cpu"
    sync = torch.cuda.synchronize if torch_device == "cuda" else (lambda: None)
    rng = np.random.default_rng(0)
    results = {}

    small = rng.standard_normal((16, 16)).astype(np.float32)
    ours_x = tg.Tensor(small, requires_grad=True, device=device)
    theirs_x = torch.tensor(small, requires_grad=True, device=torch_device)

    def ours_chain():
        ours_x.grad = None
        chain(ours_x).backward()

    def theirs_chain():
        theirs_x.grad = None
        chain(theirs_x).backward()
    row = paired_times(ours_chain, theirs_chain, repeat=15, number=20, sync=sync)
    results["elementwise_chain_50_ops_16x16"] = {**row, "ours_us_per_op": row["ours_s"] / (CHAIN_LENGTH + 1) * 1e6,
                                                 "goal_ratio": 1.2}

    big_a, big_b = (rng.standard_normal((1024, 1024)).astype(np.float32) for _ in range(2))
    oa, ob = (tg.Tensor(a, requires_grad=True, device=device) for a in (big_a, big_b))
    ta, tb = (torch.tensor(a, requires_grad=True, device=torch_device) for a in (big_a, big_b))

    def ours_matmul():
        oa.grad = ob.grad = None
        (oa @ ob).sum().backward()

    def theirs_matmul():
        ta.grad = tb.grad = None
        (ta @ tb).sum().backward()
    results["matmul_1024_fwd_bwd"] = {**paired_times(ours_matmul, theirs_matmul, repeat=7, sync=sync),
                                      "goal_ratio": 1.2}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    add_output_arguments(parser, "benchmarks/results/ops_<device>.json")
    args = parser.parse_args()
    out = output_path(parser, args, f"benchmarks/results/ops_{args.device.split(':')[0]}.json")
    results = run(args.device)
    for name, r in results.items():
        print(f"{name:34s} ours {r['ours_s'] * 1e3:9.3f} ms  torch {r['torch_s'] * 1e3:9.3f} ms  "
              f"ratio {r['ratio']:5.2f}x (median of turns {r['ratio_median']:4.2f}x, goal <= {r['goal_ratio']}x)")
    save_results("ops", "ops", args.device, out, results)


if __name__ == "__main__":
    main()
