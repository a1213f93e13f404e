"""Whole-model training steps of the course models against PyTorch eager, in one run, as ratios (ours / torch).

A step is forward, cross-entropy loss, backward and the optimiser update, on one batch of random CIFAR-sized
images, with the same architecture on both sides (PyTorch's in benchmarks/torch_models.py):
- mlp: the course MLP (models/configs/mlp.json), batch 128, Adam (lr 1e-3);
- resnet18: batch 32, SGD with momentum 0.9 (lr 0.01, weight decay 5e-4);
- mlpmixer: the course MLP-Mixer (models/configs/mlpmixer.json), batch 128, AdamW (lr 1e-3, weight decay 5e-4).
Times are interleaved turns (benchmarks.common.paired_times): the best step of each side and the median of the
per-turn ratios. The machine's load averages before and after the run go with the settings (a shared machine's
other work slows both sides, not always alike). On the CPU, also the peak memory of two steps: the growth of the
peak resident memory above the memory after building the model and the batch, each library in a fresh process
(Linux). On the GPU: images/s.
Usage: python -m benchmarks.bench_models [--device cpu|cuda] [--models mlp,resnet18] [--repeat 10] [--out PATH]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

import numpy as np
import torch

import models
import tinygrad_ift as tg
import tinygrad_ift.nn.functional as F
from benchmarks import torch_models
from benchmarks.common import (add_output_arguments, output_path, paired_times, proc_status_kib, reset_peak_rss,
                               save_results)
from tinygrad_ift import optim

MB = 2 ** 20
SETUPS = {  # model -> (batch, optimiser name, optimiser keywords)
    "mlp": (128, "Adam", {"lr": 1e-3}),
    "resnet18": (32, "SGD", {"lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4}),
    "mlpmixer": (128, "AdamW", {"lr": 1e-3, "weight_decay": 5e-4}),
}
TORCH_CLASSES = {"mlp": torch_models.TorchMLP, "resnet18": torch_models.TorchResNet18,
                 "mlpmixer": torch_models.TorchMLPMixer}


def make_step(library: str, name: str, device: str, batch: int | None = None):
    """One training step of model `name` in `library` ("ours" or "torch"), on a fixed random batch (of the
    model's batch size in SETUPS unless `batch` is given)."""
    default_batch, optimiser, settings = SETUPS[name]
    batch = batch or default_batch
    rng = np.random.default_rng(0)
    images = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    labels = (np.arange(batch) % 10).astype(np.int64)
    config = models.load_config(name)
    if library == "ours":
        tg.manual_seed(0)
        model = models.build_model(name, config).to(device)
        opt = getattr(optim, optimiser)(model.parameters(), **settings)
        x, y = tg.Tensor(images, device=device), tg.Tensor(labels, device=device)
        loss_fn = F.cross_entropy
    else:
        device = "cuda" if device.startswith("cuda") else "cpu"
        torch.manual_seed(0)
        model = TORCH_CLASSES[name](**config).to(device)
        opt = getattr(torch.optim, optimiser)(model.parameters(), **settings)
        x, y = torch.tensor(images, device=device), torch.tensor(labels, device=device)
        loss_fn = torch.nn.functional.cross_entropy
    model.train()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return step


def peak_rss_growth_mb(library: str, name: str) -> float:
    """Peak resident memory added by two steps, measured in a fresh process (see print_peak_rss_growth)."""
    command = [sys.executable, "-m", "benchmarks.bench_models", "--rss-of", library, "--models", name]
    return float(subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()[-1])


def print_peak_rss_growth(library: str, name: str) -> None:
    """The child side of peak_rss_growth_mb: build the model and batch, reset the peak mark, run two steps (the
    first creates the optimiser state and fills the buffer pool) and print the peak's growth in MB."""
    step = make_step(library, name, "cpu")
    reset_peak_rss()
    before = proc_status_kib("VmRSS")
    step()
    step()
    print((proc_status_kib("VmHWM") - before) / 1024)


def run(device: str, names: list[str], repeat: int) -> dict:
    cuda = device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    results = {}
    for name in names:
        ours, theirs = (make_step(library, name, device) for library in ("ours", "torch"))
        batch, optimiser, settings = SETUPS[name]
        entry = {"batch": batch, "optimizer": optimiser, **settings,
                 **paired_times(ours, theirs, repeat=repeat, sync=sync)}
        entry["ours_images_per_s"], entry["torch_images_per_s"] = batch / entry["ours_s"], batch / entry["torch_s"]
        memory = ""
        if not cuda:
            for library in ("ours", "torch"):
                entry[f"{library}_peak_rss_growth_mb"] = peak_rss_growth_mb(library, name)
            memory = (f"  peak rss growth ours {entry['ours_peak_rss_growth_mb']:6.0f} MB, "
                      f"torch {entry['torch_peak_rss_growth_mb']:6.0f} MB")
        results[name] = entry
        print(f"{name:9s} batch {batch:3d} {optimiser:5s}  ours {entry['ours_s'] * 1e3:8.1f} ms  torch "
              f"{entry['torch_s'] * 1e3:8.1f} ms  ratio {entry['ratio']:5.2f}x (median of turns "
              f"{entry['ratio_median']:4.2f}x){memory}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default="mlp,resnet18,mlpmixer", help="comma-separated, from " + ",".join(SETUPS))
    parser.add_argument("--repeat", type=int, default=10, help="interleaved turns per model")
    add_output_arguments(parser, "benchmarks/results/models_<device>.json")
    parser.add_argument("--rss-of", choices=["ours", "torch"], help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    names = args.models.split(",")
    unknown = sorted(set(names) - set(SETUPS))
    if unknown:
        parser.error(f"--models: unknown {unknown}; choose from {sorted(SETUPS)}")
    torch.set_num_threads(os.cpu_count())
    if args.rss_of:
        print_peak_rss_growth(args.rss_of, names[0])
        return
    out = output_path(parser, args, f"benchmarks/results/models_{args.device.split(':')[0]}.json")
    load_before = os.getloadavg()
    results = run(args.device, names, args.repeat)
    settings = {k: v for k, v in vars(args).items() if k != "rss_of"}
    settings["load_average_1_5_15_min"] = {"before": load_before, "after": os.getloadavg()}  # others' work too
    save_results("models", "training_steps", args.device, out, results, settings)


if __name__ == "__main__":
    main()
