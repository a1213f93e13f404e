"""The CIFAR-10 input pipeline: gather + augment one batch, next to a ResNet18 training step.

One batch (128 by default) of uint8 CIFAR images goes through what training uses: gather by index, move to the
device, ToFloatCHW, RandomHorizontalFlip, RandomResizedCrop(32, (0.8, 1), (0.9, 1.1)), Normalize. Each step
is timed alone and the whole pipeline through the DataLoader; with --model, one ResNet18 forward + backward
on the same batch gives the scale (prefetching hides the gather; the transform runs on the training thread).
Uses the real CIFAR-10 test images when ../shared/data (or $TINYGRAD_IFT_DATA) has them, else random ones.
Usage: python -m benchmarks.bench_data [--device cpu|cuda] [--batch 128] [--repeat 10] [--model]
"""
from __future__ import annotations

import argparse

import numpy as np

import tinygrad_ift as tg
from benchmarks.common import add_output_arguments, best_time, output_path, save_results
from tinygrad_ift import backend, data
from tinygrad_ift.nn.functional import cross_entropy


def cifar_images() -> tuple[np.ndarray, str]:
    """10000 uint8 (N, 32, 32, 3) images: the shared CIFAR-10 test split when present."""
    root = data.default_data_dir()
    if root is not None and (root / "cifar10-test.npz").exists():
        return data.load_cifar10(root / "cifar10-test.npz")["x_test"], "cifar10-test.npz"
    return np.random.default_rng(0).integers(0, 256, (10000, 32, 32, 3), dtype=np.uint8), "random"


def run(device: str, batch: int, repeat: int, with_model: bool) -> dict:
    images, source = cifar_images()
    dataset = data.ArrayDataset(images, np.zeros(len(images), dtype=np.int64))
    steps = [data.ToFloatCHW(), data.RandomHorizontalFlip(), data.RandomResizedCrop(32, (0.8, 1.0), (0.9, 1.1)),
             data.Normalize(data.CIFAR10_MEAN, data.CIFAR10_STD)]
    xp = backend.get_array_module(device)
    sync = (lambda: xp.cuda.Device().synchronize()) if device.startswith("cuda") else (lambda: None)
    index = np.random.default_rng(1).permutation(len(images))[:batch]
    on_device = backend.to_device(dataset[index][0], backend.Device(device))

    timings = {"gather_ms": best_time(lambda: dataset[index], repeat=repeat) * 1e3,
               "to_device_ms": best_time(lambda: backend.to_device(dataset[index][0], backend.Device(device)),
                                         repeat=repeat, sync=sync) * 1e3}
    x = on_device
    for step in steps:
        timings[f"{type(step).__name__}_ms"] = best_time(lambda: step(x), repeat=repeat, sync=sync) * 1e3
        x = step(x)
    loader = data.DataLoader(dataset, batch_size=batch, shuffle=True, drop_last=True, transform=data.Compose(steps),
                             device=device, seed=0)
    batches = iter(loader)
    timings["loader_batch_ms"] = best_time(lambda: next(batches), repeat=repeat, sync=sync) * 1e3
    for name, ms in timings.items():
        print(f"{name:28s} {ms:8.2f} ms")
    if with_model:
        timings.update(model_step(device, x, repeat, sync))
    return {"images": source, "batch": batch, **timings}


def model_step(device: str, x, repeat: int, sync) -> dict:
    """One ResNet18 forward + backward on the augmented batch, for scale."""
    try:
        from models.resnet18 import ResNet18
    except ImportError as err:
        print(f"ResNet18 unavailable ({err}); skipping the model step")
        return {}
    model = ResNet18().to(device)
    inputs = tg.Tensor(x, device=device)
    labels = tg.Tensor(np.zeros(len(x), dtype=np.int64), device=device)

    def step():
        model.zero_grad()
        cross_entropy(model(inputs), labels).backward()
    ms = best_time(step, repeat=max(1, repeat // 5), sync=sync) * 1e3
    print(f"{'resnet18_step_ms':28s} {ms:8.2f} ms")
    return {"resnet18_step_ms": ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--model", action="store_true", help="also time one ResNet18 training step")
    add_output_arguments(parser, "benchmarks/results/data_<device>.json")
    args = parser.parse_args()
    out = output_path(parser, args, f"benchmarks/results/data_{args.device.split(':')[0]}.json")
    results = run(args.device, args.batch, args.repeat, args.model)
    save_results("data", "cifar10_input_pipeline", args.device, out, results, vars(args))


if __name__ == "__main__":
    main()
