"""One command for a lent GPU: everything this project measures on CUDA, into one folder, in under 8 minutes.

    PYTHONPATH=. python3 -m benchmarks.gpu_check OUT_DIR          (or: benchmarks/gpu_check.sh OUT_DIR)

Nothing to install and no network: it needs the preinstalled CuPy, PyTorch and NumPy. In order, each with a
time limit so that one slow part cannot eat the others' time:
1. every fast path against its reference op (tests/test_fast_paths.py: the CUDA kernels on the GPU), first, so
   that a slow suite cannot hide them;
2. the rest of the test suite on the real GPU (every `device` test's "cuda" side);
3. the op, conv and BatchNorm benchmarks with --device cuda;
4. the kernels one ResNet18 training step launches (batch 128, a captured CUDA graph's nodes), with the fast
   paths and with the reference ops (benchmarks/step_launches.py);
5. whole-model training steps (MLP, ResNet18, MLP-Mixer, batch 128) against PyTorch eager on the same GPU,
   with TF32 off on both sides and then on on both sides;
6. a short ResNet18 training run of the command line on synthetic CIFAR-shaped data.
OUT_DIR receives gpu_check.log (every command and its output), gpu_check.json (device, versions, date, what
each part returned and how long it took), the benchmarks' JSON files and the training run's folder.
`--device cpu --quick` runs the same parts small on the CPU: how CI checks that this command works.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

LIMITS_S = {"fast_paths": 45, "tests": 170, "bench_ops": 40, "bench_conv": 50, "bench_batchnorm": 40,
            "step_launches": 45, "training_run": 50}  # with the model steps (about a minute), about 8 minutes
KERNEL_TESTS = ["tests/test_fast_paths.py"]
MODEL_BATCH = 128


class Log:
    """Everything that happens, to the terminal and to gpu_check.log."""

    def __init__(self, path: Path):
        self.file = open(path, "a", encoding="utf-8")

    def __call__(self, text: str) -> None:
        print(text, flush=True)
        self.file.write(text + "\n")
        self.file.flush()


def run_part(log: Log, name: str, command: list[str], limit_s: float) -> dict:
    """Run one part as a subprocess with a time limit; its output goes to the log."""
    log(f"\n=== {name}: {' '.join(command)}  (limit {limit_s:.0f} s)")
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit_s)
        output, status = done.stdout + done.stderr, ("passed" if done.returncode == 0 else "failed")
        returncode = done.returncode
    except subprocess.TimeoutExpired as err:
        output = (err.stdout or b"").decode(errors="replace") if isinstance(err.stdout, bytes) else (err.stdout or "")
        status, returncode = "timed out", None
    seconds = time.perf_counter() - start
    log(output.rstrip())
    log(f"=== {name}: {status} in {seconds:.1f} s")
    lines = [line for line in output.splitlines() if line.strip()]
    return {"command": command, "status": status, "returncode": returncode, "seconds": round(seconds, 1),
            "last_line": lines[-1] if lines else ""}


def set_tf32(enabled: bool) -> None:
    """TF32 matrix products on both sides (PyTorch's matmul and cuDNN switches, our cuBLAS compute type)."""
    import torch

    from tinygrad_ift import backend
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled
    backend.allow_tf32(enabled)


def model_steps(device: str, names: list[str], batch: int, repeat: int, tf32_settings: list) -> dict:
    """Training steps of the course models, ours against PyTorch's, for each TF32 setting (None: left alone)."""
    import torch

    from benchmarks.bench_models import make_step
    from benchmarks.common import paired_times
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    results = {}
    for tf32 in tf32_settings:
        if tf32 is not None:
            set_tf32(tf32)
        key = "tf32_default" if tf32 is None else ("tf32_on" if tf32 else "tf32_off")
        results[key] = {}
        for name in names:
            ours, theirs = (make_step(library, name, device, batch=batch) for library in ("ours", "torch"))
            entry = {"batch": batch, **paired_times(ours, theirs, repeat=repeat, sync=sync)}
            entry["ours_images_per_s"], entry["torch_images_per_s"] = batch / entry["ours_s"], batch / entry["torch_s"]
            results[key][name] = entry
            print(f"{key:12s} {name:9s} batch {batch:3d}  ours {entry['ours_s'] * 1e3:8.1f} ms  torch "
                  f"{entry['torch_s'] * 1e3:8.1f} ms  ratio {entry['ratio']:5.2f}x", flush=True)
    if tf32_settings != [None]:
        set_tf32(False)
    return results


def synthetic_cifar(folder: Path, n_train: int, n_test: int) -> Path:
    """A CIFAR-10-shaped .npz whose class sets each image's brightness (learnable in a few steps)."""
    rng = np.random.default_rng(0)

    def images(n):
        labels = rng.integers(0, 10, n)
        pixels = rng.integers(0, 60, (n, 32, 32, 3)) + (labels * 19)[:, None, None, None]
        return pixels.astype(np.uint8), labels.astype(np.int64)
    folder.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = images(n_train), images(n_test)
    np.savez(folder / "cifar10.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return folder


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="folder for the log, the JSON files and the training run")
    parser.add_argument("--device", default="cuda", help="cuda (default), or cpu with --quick to test this command")
    parser.add_argument("--quick", action="store_true", help="every part small (CI's check of this command)")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    if out.is_dir() and any(out.iterdir()):  # an earlier check's log, JSON and run stay as they are
        parser.error(f"{out} is not empty: give a new or empty folder for this check's results")
    out.mkdir(parents=True, exist_ok=True)
    log = Log(out / "gpu_check.log")
    python, device, quick = sys.executable, args.device, args.quick
    import tinygrad_ift as tg
    from benchmarks.common import environment
    if device.startswith("cuda") and not tg.cuda_available():
        log("gpu_check: no usable GPU (CuPy missing or no device); run with --device cpu --quick to test it")
        sys.exit(2)
    summary = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "environment": environment(device), "quick": quick, "parts": {}}
    log(f"gpu_check {summary['date']} on {summary['environment']['device_name']} ({device}), output in {out}")
    parts = summary["parts"]
    pytest = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    parts["fast_paths"] = run_part(log, "fast_paths", pytest + KERNEL_TESTS, LIMITS_S["fast_paths"])
    tests = ["tests/test_cupy_standin.py"] if quick else ["tests"] + [f"--ignore={path}" for path in KERNEL_TESTS]
    parts["tests"] = run_part(log, "tests", pytest + tests, LIMITS_S["tests"])
    benches = {"bench_ops": [], "bench_conv": ["--batch", "128", "--repeat", "3"], "bench_batchnorm": []}
    for name, extra in benches.items():
        command = [python, "-m", f"benchmarks.{name}", "--device", device, "--out", str(out / f"{name}_{device}.json"),
                   *extra]
        if quick:  # minutes on a CPU: CI checks that their command lines parse
            command.append("--help")
        parts[name] = run_part(log, name, command, LIMITS_S[name])
    command = [python, "-m", "benchmarks.step_launches", "--out", str(out / "step_launches_cuda.json")]
    parts["step_launches"] = run_part(log, "step_launches", command + (["--help"] if quick else []),
                                      LIMITS_S["step_launches"])
    log("\n=== model_steps: ours vs PyTorch eager, TF32 off on both sides, then on on both sides")
    start = time.perf_counter()
    try:
        names = ["mlp"] if quick else ["mlp", "resnet18", "mlpmixer"]
        steps = model_steps(device, names, 4 if quick else MODEL_BATCH, 1 if quick else 5,
                            [None] if device == "cpu" else [False, True])
        parts["model_steps"] = {"status": "passed", "results": steps}
    except Exception as err:  # a failing part must not stop the others
        parts["model_steps"] = {"status": "failed", "error": repr(err)}
        log(f"model_steps failed: {err!r}")
    parts["model_steps"]["seconds"] = round(time.perf_counter() - start, 1)
    data_dir = synthetic_cifar(out / "synthetic_cifar", 80 if quick else 4096, 16 if quick else 1000)
    run_dir = out / "resnet18_run"
    main_py = Path(__file__).resolve().parents[1] / "main.py"  # registers the models without a pip install
    command = [python, str(main_py), "--model", "resnet18", "--device", device,
               "--data_dir", str(data_dir), "--logdir", str(run_dir), "--epochs", "1" if quick else "3",
               "--batch_size", "8" if quick else "128", "--print_every", "10"]
    if quick:
        command += ["--subset", "8"]
    parts["training_run"] = run_part(log, "training_run", command, LIMITS_S["training_run"])
    results_file = run_dir / "results.json"
    if results_file.exists():
        results = json.loads(results_file.read_text())
        parts["training_run"].update({k: results.get(k) for k in ("train_losses", "valid_accs", "test_acc",
                                                                     "epoch_times")})
    (out / "gpu_check.json").write_text(json.dumps(summary, indent=2, default=str))
    log(f"\ngpu_check: wrote {out / 'gpu_check.json'}; parts: "
        + ", ".join(f"{name} {part['status']}" for name, part in parts.items()))
    return summary


if __name__ == "__main__":
    main()
