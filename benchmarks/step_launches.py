"""Device calls per training step of a course model: CuPy operations on the stand-in, kernel launches on a GPU.

The GPU path is launch-bound, so the number of kernels a step launches is the figure to bring down. Two ways to
count it, each for one steady-state training step (forward, cross-entropy, backward, optimiser update; after two
warm-up steps that create the optimiser state and compile the kernels):
- `--standin`: on the NumPy-backed CuPy stand-in of the tests (tests/cupy_standin), no GPU needed. It counts
  each device operation, by name: a call that computes or copies on the device, about one kernel launch each in
  CuPy (views and allocations are not counted); once with the reference ops ("before") and once with the CUDA
  fast paths ("after"), whose own kernels then run compiled for the host (tests/cuda_kernels_on_cpu.py, needs
  g++) and are counted as launches.
- on a GPU (default): the step is captured as a CUDA graph and its nodes are counted by type (kernels, memsets,
  copies; cupy.cuda.Graph.debug_dot_str), once with the fast paths (fast/cuda.py) and once with the reference
  ops: "after" and "before" on the same GPU. The graph's DOT text is saved next to the JSON.
The course setup: AdamW (lr 1e-3, weight decay 5e-4), as the training command's defaults.
Usage: python -m benchmarks.step_launches [--standin] [--model resnet18] [--batch 8] [--out PATH]
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

STANDIN = Path(__file__).resolve().parents[1] / "tests" / "cupy_standin"
NODE = re.compile(r'"(graph_\d+_node_\d+)"\s*\[')
NODE_TYPES = ("KERNEL", "MEMSET", "MEMCPY", "HOST", "EVENT_RECORD", "WAIT_EVENT", "MEM_ALLOC", "MEM_FREE", "EMPTY")


def make_training_step(model_name: str, batch: int):
    """One training step of the course model on "cuda", on a fixed random batch already on the device."""
    import models
    import tinygrad_ift as tg
    import tinygrad_ift.nn.functional as F
    from tinygrad_ift import optim
    tg.manual_seed(0)
    model = models.build_model(model_name, models.load_config(model_name)).to("cuda").train()
    optimizer = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=5e-4)
    rng = np.random.default_rng(0)
    images = tg.Tensor(rng.standard_normal((batch, 3, 32, 32)).astype(np.float32), device="cuda")
    labels = tg.Tensor(np.arange(batch) % 10, device="cuda")

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        optimizer.step()
    return step


def standin_operations(step, launcher=None) -> dict:
    """The stand-in's device operations in one step (after two warm-up steps), in all and by name, and the fast
    paths' kernel launches if `launcher` (a cuda_kernels_on_cpu.HostLauncher) runs them."""
    import cupy
    step()
    step()
    cupy._standin.counters.reset()
    if launcher is not None:
        launcher.launched.clear()
    step()
    counters = cupy._standin.counters
    counted = {"operations": counters.operations, "syncs": counters.syncs, "host_to_device": counters.host_to_device,
               "operations_by_name": dict(counters.operations_by_name.most_common())}
    if launcher is not None:
        launches = collections.Counter(launcher.launched)
        counted.update(kernel_launches=sum(launches.values()), calls=counters.operations + sum(launches.values()),
                       kernel_launches_by_name=dict(launches.most_common()))
    return counted


def standin_counts(model: str, batch: int) -> dict:
    """Reference ops, then fast paths (kernels compiled for the host) on the stand-in, if g++ is there."""
    import tinygrad_ift as tg
    from tinygrad_ift.fast import cuda as fast_cuda
    sys.path.insert(0, str(STANDIN.parent))
    from cuda_kernels_on_cpu import HostLauncher, compiler_available
    with tg.reference_ops("cuda"):
        results = {"reference_ops": standin_operations(make_training_step(model, batch))}
    if compiler_available():
        with tempfile.TemporaryDirectory() as folder:
            launcher, device_launch = HostLauncher(Path(folder)), fast_cuda._launch
            fast_cuda._launch = launcher
            try:
                results["fast_paths"] = standin_operations(make_training_step(model, batch), launcher)
            finally:
                fast_cuda._launch = device_launch
    return results


def graph_nodes(step, dot_path: Path) -> dict:
    """The nodes of one step captured as a CUDA graph (after two warm-up steps), by type; the DOT text is written to
    `dot_path`. A node's type is the first of NODE_TYPES its DOT entry names; kernels also show a <<<grid>>>."""
    import cupy
    stream = cupy.cuda.Stream(non_blocking=True)
    with stream:
        step()
        step()
        stream.synchronize()
        stream.begin_capture()
        try:
            step()
        finally:
            graph = stream.end_capture()
    dot = graph.debug_dot_str()
    dot_path.write_text(dot)
    return count_nodes(dot)


def count_nodes(dot: str) -> dict:
    """The nodes of a CUDA graph's DOT text, in all and by type."""
    entries = NODE.split(dot)[2::2]  # the text after each node's name, up to the next node
    counts = dict.fromkeys(NODE_TYPES + ("other",), 0)
    for entry in entries:
        kind = next((t for t in NODE_TYPES if t in entry), "KERNEL" if "<<<" in entry else "other")
        counts[kind] += 1
    return {"nodes": len(entries), **{k.lower(): v for k, v in counts.items() if v}}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--standin", action="store_true", help="count on the CuPy stand-in (no GPU): reference ops")
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--batch", type=int, default=None, help="default: 8 on the stand-in, 128 on a GPU")
    parser.add_argument("--out", default=None,
                        help="JSON path (default benchmarks/results/step_launches_<standin|cuda>.json)")
    parser.add_argument("--overwrite", action="store_true", help="replace the JSON file if it exists")
    args = parser.parse_args(argv)
    os.environ.pop("TINYGRAD_IFT_REFERENCE_OPS", None)  # this script chooses: each count says which ops ran
    if args.standin:  # before tinygrad_ift imports CuPy: the stand-in
        sys.path.insert(0, str(STANDIN))
        os.environ["TINYGRAD_IFT_CUPY_STANDIN"] = "1"
    import tinygrad_ift as tg
    from benchmarks.common import output_path, save_results
    batch = args.batch or (8 if args.standin else 128)
    out = output_path(parser, args, f"benchmarks/results/step_launches_{'standin' if args.standin else 'cuda'}.json")
    if args.standin:
        results = standin_counts(args.model, batch)
        for name, counted in results.items():
            print(f"{args.model} batch {batch}, stand-in, {name}: {counted.get('calls', counted['operations'])} "
                  f"calls per step ({counted['operations']} CuPy operations, {counted.get('kernel_launches', 0)} "
                  f"of our kernels)")
    else:
        if not tg.cuda_available():
            parser.error("no usable GPU (CuPy missing or no device); use --standin to count on the stand-in")
        results = {}
        for name, choice in (("fast_paths", contextlib.nullcontext), ("reference_ops", lambda: tg.reference_ops("cuda"))):
            dot_path = Path(out).with_name(f"{Path(out).stem}_{args.model}_{name}.dot")
            try:  # a step that cannot be captured (a sync, an API that capture forbids) is reported, not fatal
                with choice():
                    results[name] = graph_nodes(make_training_step(args.model, batch), dot_path)
            except Exception as err:
                results[name] = {"error": repr(err)}
            print(f"{args.model} batch {batch}, {name}: {results[name]}", flush=True)
    save_results("step_launches", "device calls per training step", "cuda", out, results,
                 {"model": args.model, "batch": batch, "optimizer": "AdamW", "standin": args.standin})
    return results


if __name__ == "__main__":
    main()
