"""CIFAR-10 runs (IFT6135 assignment 1): one training run of a course model through tinygrad_ift.training's
Trainer, and a short gradient-flow run that records every layer's gradient norm at every step through hooks.

Settings follow the course (batch 128, AdamW lr 1e-3 weight decay 5e-4, seed 42, 45k/5k split of the training
images, flip + resized-crop augmentation); a profile shrinks the data and the epochs (see PROFILES).
"""
from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import numpy as np

import models
import tinygrad_ift as tg
from tinygrad_ift import nn
from tinygrad_ift.backend import Device
from tinygrad_ift.data import ArrayDataset, DataLoader, Subset, random_split
from tinygrad_ift.nn import functional as F
from tinygrad_ift.training import Trainer
from tinygrad_ift.training.builders import build_optimizer, has_visualization
from tinygrad_ift.training.datasets import SPECS, DataSplits, eval_transform, train_transform

from .sources import SYNTHETIC, cifar10_arrays

COURSE_VALID = 5000
WEIGHT_DECAY = 5e-4  # the course's value for sgd, momentum and adamw; plain adam gets none

# What each profile changes from the course settings, per model ("*": every model).
PROFILES = {
    "smoke": {"dataset": SYNTHETIC, "image_size": 8, "n_synthetic": 120, "batch_size": 16,
              "epochs": {"*": 1}, "subset": {"*": 16}, "valid_size": {"*": 12}, "test_size": {"*": 16},
              "model_config": {"mlpmixer": {"embed_dim": 32, "num_blocks": 1}}, "flow_steps": 3},
    "cpu": {"dataset": "cifar10", "batch_size": 128,
            "epochs": {"mlp": 5, "resnet18": 2, "mlpmixer": 2},
            "subset": {"mlp": 10000, "resnet18": 500, "mlpmixer": 500},
            "valid_size": {"mlp": 2000, "resnet18": 250, "mlpmixer": 500},
            "test_size": {"mlp": 2000, "resnet18": 500, "mlpmixer": 500},
            "model_config": {}, "flow_steps": 20},
    "full": {"dataset": "cifar10", "batch_size": 128, "epochs": {"*": 15}, "subset": {"*": None},
             "valid_size": {"*": COURSE_VALID}, "test_size": {"*": 10000}, "model_config": {}, "flow_steps": 200},
}


def _pick(table: dict, model: str):
    return table[model] if model in table else table["*"]


def data_settings(profile: str, model: str) -> dict:
    """The data and length settings of a run of `model` under `profile`."""
    p = PROFILES[profile]
    settings = {"dataset": p["dataset"], "batch_size": p["batch_size"], "epochs": _pick(p["epochs"], model),
                "subset": _pick(p["subset"], model), "valid_size": _pick(p["valid_size"], model),
                "test_size": _pick(p["test_size"], model)}
    if p["dataset"] == SYNTHETIC:
        settings.update(image_size=p["image_size"], n_synthetic=p["n_synthetic"])
    return settings


def model_config(profile: str, model: str, **changes) -> dict:
    """The course configuration of `model` (models/configs), with the profile's and the experiment's changes."""
    config = models.load_config(model)
    config.update(PROFILES[profile]["model_config"].get(model, {}))
    config.update(changes)
    return config


VALIDATION_SPLITS = ("held_out", "course_redraw")


def cifar_run(profile: str, model: str, optimizer: str = "adamw", lr: float = 1e-3, augment: bool = True,
              init: str = "course", jpeg_test_quality: int | None = None, validation: str = "held_out",
              **config_changes) -> dict:
    """The settings of one training run. `validation`: "held_out" (images never trained on) or "course_redraw"
    (drawn again as the course's main.py draws them, see redrawn_validation)."""
    if validation not in VALIDATION_SPLITS:
        raise ValueError(f"cifar_run: validation {validation!r} is not one of {VALIDATION_SPLITS}")
    settings = {"kind": "cifar", "model": model, "model_config": model_config(profile, model, **config_changes),
                "optimizer": optimizer, "lr": lr, "weight_decay": 0.0 if optimizer == "adam" else WEIGHT_DECAY,
                "momentum": 0.9, "seed": 42, "augment": augment, "init": init,
                "jpeg_test_quality": jpeg_test_quality, **data_settings(profile, model)}
    if validation != "held_out":  # only when set: the runs made before this setting keep their identity
        settings["validation"] = validation
    return settings


def flow_run(profile: str, model: str) -> dict:
    """The settings of a gradient-flow run: PROFILES[profile]['flow_steps'] AdamW steps, no evaluation."""
    settings = {"kind": "gradient_flow", "model": model, "model_config": model_config(profile, model),
                "optimizer": "adamw", "lr": 1e-3, "weight_decay": WEIGHT_DECAY, "momentum": 0.9, "seed": 42,
                "steps": PROFILES[profile]["flow_steps"], **data_settings(profile, model)}
    for key in ("epochs", "valid_size", "test_size"):
        settings.pop(key)
    return settings


# ----- data ---------------------------------------------------------------------------------------------
def _indices(n: int, limit: int | None) -> np.ndarray:
    return np.arange(n if limit is None else min(limit, n))


def make_splits(settings: dict, arrays: dict, device: str) -> DataSplits:
    """The course's seeded 45k/5k split of the training images, then its first `subset` training and first
    `valid_size` validation images, and a seeded sample of `test_size` test images."""
    spec = SPECS["cifar10"]
    full = ArrayDataset(arrays["x_train"], arrays["y_train"])
    n_valid = min(COURSE_VALID, len(full) // 10)
    train_set, valid_set = random_split(full, [len(full) - n_valid, n_valid], seed=settings["seed"])
    train_set = Subset(full, np.asarray(train_set.indices)[_indices(len(train_set), settings["subset"])])
    splits = {"train": train_set}
    if "valid_size" in settings:
        valid_indices = np.asarray(valid_set.indices)[_indices(len(valid_set), settings["valid_size"])]
        if settings.get("validation") == "course_redraw":
            valid_indices = redrawn_validation(train_set.indices, valid_indices, settings["seed"])
        splits["valid"] = Subset(full, valid_indices)
        test = ArrayDataset(arrays["x_test"], arrays["y_test"])
        keep = np.random.default_rng(settings["seed"]).permutation(len(test))[:settings["test_size"]]
        splits["test"] = Subset(test, np.sort(keep))
    size = arrays["x_train"].shape[1]
    augmented = train_transform(spec, size) if settings.get("augment", True) else eval_transform(spec)

    def loader(dataset, transform, shuffle: bool) -> DataLoader:
        return DataLoader(dataset, batch_size=settings["batch_size"], shuffle=shuffle, transform=transform,
                          device=device, seed=settings["seed"])

    train = loader(splits["train"], augmented, True)
    valid = loader(splits.get("valid", splits["train"]), eval_transform(spec), False)
    test = loader(splits.get("test", splits["train"]), eval_transform(spec), False)
    return DataSplits(train, valid, test, image_shape=(3, size, size))


def redrawn_validation(train_indices: np.ndarray, valid_indices: np.ndarray, seed: int) -> np.ndarray:
    """Validation images drawn as the course's main.py draws them: it splits the 50,000 training images twice,
    with two independent random_split calls (one per transform), keeping the training part of the first and the
    validation part of the second, so most validation images are training images (4,489 of 5,000 with the
    course's seed 42). Here the second draw takes as many images from the run's training and held-out
    validation images together (all 50,000 under the full profile)."""
    pool = np.concatenate([train_indices, valid_indices])
    return np.random.default_rng([seed, 1]).permutation(pool)[len(pool) - len(valid_indices):]


def jpeg_round_trip(images: np.ndarray, quality: int) -> np.ndarray:
    """Each uint8 HWC image encoded as JPEG at `quality` and decoded again (Pillow)."""
    import io

    from PIL import Image
    out = np.empty_like(images)
    for i, image in enumerate(images):
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
        out[i] = np.asarray(Image.open(buffer).convert("RGB"))
    return out


# ----- one training run ---------------------------------------------------------------------------------
def _trainer_config(settings: dict, run_dir: Path, device: str, data_dir: str | None) -> dict:
    return {"model": settings["model"], "model_config": settings["model_config"], "dataset": "cifar10",
            "optimizer": settings["optimizer"], "lr": settings["lr"], "weight_decay": settings["weight_decay"],
            "momentum": settings["momentum"], "seed": settings["seed"], "batch_size": settings["batch_size"],
            "epochs": settings["epochs"], "subset": settings["subset"], "device": device, "logdir": str(run_dir),
            "data_dir": data_dir, "resume": True, "overwrite": False, "print_every": 0,
            "visualize": has_visualization(settings["model"])}


def pytorch_default_init(model: nn.Module) -> None:
    """Re-initialise every Linear/Conv2d as PyTorch's layers do by default (instead of the course's init)."""
    for module in model.modules():
        if hasattr(module, "weight") and hasattr(module, "bias") and getattr(module.weight, "ndim", 0) >= 2:
            nn.init.default_layer_init_(module.weight, module.bias)


def one_step_peak_bytes(trainer: Trainer) -> int:
    """Peak host memory allocated during one training step (forward, backward, update) on one batch,
    measured with tracemalloc (NumPy reports its buffers to it); parameters allocated before are excluded."""
    images, labels = next(iter(trainer.data.train_loader))
    trainer.model.train()
    tracemalloc.start()
    try:
        loss = F.cross_entropy(trainer.model(images), labels)
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.optimizer.step()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def execute_cifar(settings: dict, run_dir: Path, device: str, data_dir: str | None) -> dict:
    """Train (or resume) the run in run_dir; returns its results (curves, test metrics, parameters, timings)."""
    arrays = cifar10_arrays(settings, data_dir)
    data = make_splits(settings, arrays, device)
    trainer = Trainer(_trainer_config(settings, run_dir, device, data_dir), data)
    if settings["init"] == "pytorch_default":
        pytorch_default_init(trainer.model)
    trainer.resume()
    results = trainer.fit()
    results["seconds_per_epoch"] = float(np.mean(results["epoch_times"]))
    valid_indices = np.asarray(data.valid_loader.dataset.indices)
    trained_on = np.isin(valid_indices, data.train_loader.dataset.indices)
    results["valid_seen_in_training"] = float(trained_on.mean())

    def score(x: np.ndarray, y: np.ndarray, description: str) -> tuple[float, float]:
        loader = DataLoader(ArrayDataset(x, y), batch_size=settings["batch_size"],
                            transform=eval_transform(SPECS["cifar10"]), device=device)
        return trainer.evaluate(loader, description)

    if trained_on.any() and not trained_on.all():  # the validation accuracy on each part, apart
        for key, part in (("valid_acc_trained_on", valid_indices[trained_on]),
                          ("valid_acc_held_out", valid_indices[~trained_on])):
            results[key] = score(arrays["x_train"][part], arrays["y_train"][part], key)[1]
    if settings["jpeg_test_quality"]:
        test_indices = np.asarray(data.test_loader.dataset.indices)
        x = jpeg_round_trip(arrays["x_test"][test_indices], settings["jpeg_test_quality"])
        results["jpeg_test_loss"], results["jpeg_test_acc"] = score(x, arrays["y_test"][test_indices], "JPEG test")
    if Device(device).type == "cpu":  # last: the measured step changes the weights (the checkpoint is written)
        results["step_peak_bytes"] = one_step_peak_bytes(trainer)
    return results


# ----- gradient flow --------------------------------------------------------------------------------------
def execute_gradient_flow(settings: dict, run_dir: Path, device: str, data_dir: str | None) -> dict:
    """Train for settings['steps'] steps, recording the L2 norm of every weight's gradient at every step
    through a hook on the weight (Tensor.register_hook). Returns {'layers': names in forward order,
    'norms': one list of per-step norms per layer}."""
    settings = {**settings, "augment": True}
    data = make_splits(settings, cifar10_arrays(settings, data_dir), device)
    tg.manual_seed(settings["seed"])
    model = models.build_model(settings["model"], {**settings["model_config"], **_data_sizes(settings)}).to(device)
    optimizer = build_optimizer(settings, list(model.parameters()))
    weights = [(name, p) for name, p in model.named_parameters() if p.ndim >= 2]
    norms: dict[str, list[float]] = {name: [] for name, _ in weights}
    for name, p in weights:
        p.register_hook(lambda grad, name=name: norms[name].append(float((grad.data ** 2).sum() ** 0.5)))
    step, start = 0, time.perf_counter()
    model.train()
    while step < settings["steps"]:
        for images, labels in data.train_loader:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step == settings["steps"]:
                break
    return {"layers": [name for name, _ in weights], "norms": [norms[name] for name, _ in weights],
            "seconds": time.perf_counter() - start}


def _data_sizes(settings: dict) -> dict:
    """The constructor sizes the images fix (MLP input size, Mixer image size)."""
    size = settings.get("image_size", 32)
    if settings["model"] == "mlp":
        return {"input_size": 3 * size * size}
    if settings["model"] == "mlpmixer":
        return {"img_size": size}
    return {}

