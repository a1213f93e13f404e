"""Shared benchmark plumbing: best-of-N timing and results files with device, versions and date."""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time
from typing import Callable


import tinygrad_ift
from tinygrad_ift import backend
from tinygrad_ift.files import write_json


def best_time(fn: Callable[[], object], repeat: int = 5, number: int = 1, sync: Callable[[], None] = lambda: None,
              warmup: int = 1) -> float:
    """The fastest of `repeat` runs of `number` calls, in seconds per call (after `warmup` calls)."""
    for _ in range(warmup):
        fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        sync()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def paired_times(ours: Callable[[], object], theirs: Callable[[], object], repeat: int = 5, number: int = 1,
                 sync: Callable[[], None] = lambda: None) -> dict:
    """Both functions timed in `repeat` interleaved turns, so that a machine that slows down or speeds up
    during the benchmark (a shared virtual machine does) moves both timings alike. Each turn starts with
    one untimed call, so neither side is timed straight after the other has emptied its caches or let its
    threads fall asleep.

    Returns the best time per call of each ("ours_s", "torch_s"), their ratio, and the median over the turns
    of each turn's ratio ("ratio_median"), which one unusually fast or slow turn does not move.
    """
    turns = [[best_time(fn, repeat=1, number=number, sync=sync, warmup=1) for fn in (ours, theirs)]
             for _ in range(repeat)]
    t_ours, t_theirs = min(t[0] for t in turns), min(t[1] for t in turns)
    return {"ours_s": t_ours, "torch_s": t_theirs, "ratio": t_ours / t_theirs,
            "ratio_median": statistics.median(a / b for a, b in turns), "turns": repeat}


def environment(device: str = "cpu") -> dict:
    """Where and with what a benchmark ran."""
    info = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "device": str(device), "device_name": backend.device_name(backend.Device(device)),
            "machine": platform.machine(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
            "tinygrad_ift": tinygrad_ift.__version__, **backend.versions()}
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


def traced_peak(fn: Callable[[], object]) -> int:
    """Bytes allocated through tracemalloc at the peak of fn(), above what was allocated before it
    (NumPy reports its allocations there; PyTorch's CPU allocator does not). The buffer pool is emptied
    first, so memory that fn() reuses from it is counted too."""
    import gc
    import tracemalloc

    from tinygrad_ift.fast.buffer_pool import POOL
    POOL.clear()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def proc_status_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (Linux): VmRSS, the resident memory now, or VmHWM, its peak."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def reset_peak_rss() -> None:
    """Set the kernel's peak-RSS mark (VmHWM) to the resident memory now (Linux)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def add_output_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    """--out (the JSON path; `default` describes where it goes otherwise) and --overwrite."""
    parser.add_argument("--out", default=None, help=f"JSON path (default {default})")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the JSON file if it exists (the committed files are the reference figures)")


def output_path(parser: argparse.ArgumentParser, args: argparse.Namespace, default: str) -> str:
    """The JSON path of this run (--out, else `default`), checked before the benchmark spends its minutes: an
    existing file, such as the committed reference figures, is replaced only with --overwrite."""
    path = args.out or default
    if os.path.exists(path) and not args.overwrite:
        parser.error(f"{path} exists (committed results are the reference figures): pass --overwrite to replace "
                     "it, or --out PATH to write elsewhere")
    return path


def save_results(stem: str, benchmark: str, device: str, out: str | None, results: dict,
                 settings: dict | None = None) -> str:
    """Write results with their environment to `out` (default benchmarks/results/<stem>_<cpu|cuda>.json)."""
    path = out or f"benchmarks/results/{stem}_{str(device).split(':')[0]}.json"
    payload = {"benchmark": benchmark, "environment": environment(device), "results": results}
    if settings is not None:
        payload["settings"] = settings
    write_json(path, payload)
    print(f"wrote {path}")
    return path
