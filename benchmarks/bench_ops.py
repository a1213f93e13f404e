"""Core-op benchmark against PyTorch eager on the same machine, in one run, as ratios (ours / torch).

(1) per-op overhead: forward + backward of a chain of 50 elementwise ops on a (16, 16) tensor;
(2) a (1024, 1024) matmul forward + backward.
Goals: overhead within 3x of PyTorch's; the large matmul within 1.2x.
Usage: python benchmarks/bench_ops.py [--device cpu|cuda] [--out benchmarks/results/ops_cpu.json]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import tinygrad_ift as tg
from benchmarks.common import best_time, save_results

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
    t_ours, t_theirs = best_time(ours_chain, repeat=7, number=20, sync=sync), \
        best_time(theirs_chain, repeat=7, number=20, sync=sync)
    results["elementwise_chain_50_ops_16x16"] = {
        "ours_s": t_ours, "torch_s": t_theirs, "ratio": t_ours / t_theirs,
        "ours_us_per_op": t_ours / (CHAIN_LENGTH + 1) * 1e6, "goal_ratio": 3.0}

    big_a, big_b = (rng.standard_normal((1024, 1024)).astype(np.float32) for _ in range(2))
    oa, ob = (tg.Tensor(a, requires_grad=True, device=device) for a in (big_a, big_b))
    ta, tb = (torch.tensor(a, requires_grad=True, device=torch_device) for a in (big_a, big_b))

    def ours_matmul():
        oa.grad = ob.grad = None
        (oa @ ob).sum().backward()

    def theirs_matmul():
        ta.grad = tb.grad = None
        (ta @ tb).sum().backward()
    t_ours, t_theirs = best_time(ours_matmul, repeat=5, sync=sync), best_time(theirs_matmul, repeat=5, sync=sync)
    results["matmul_1024_fwd_bwd"] = {"ours_s": t_ours, "torch_s": t_theirs, "ratio": t_ours / t_theirs,
                                      "goal_ratio": 1.2}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="JSON path (default benchmarks/results/ops_<device>.json)")
    args = parser.parse_args()
    results = run(args.device)
    for name, r in results.items():
        print(f"{name:34s} ours {r['ours_s'] * 1e3:9.3f} ms  torch {r['torch_s'] * 1e3:9.3f} ms  "
              f"ratio {r['ratio']:5.2f}x (goal <= {r['goal_ratio']}x)")
    save_results("ops", "ops", args.device, args.out, results)


if __name__ == "__main__":
    main()
