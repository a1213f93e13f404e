"""Regression runs (the "Devoir 3" Trainer, models/regression.py) on rotated Fashion-MNIST: predict each
image's rotation angle (standardised) with an MLP or a CNN; and the equivariance test of a small convolution."""
from __future__ import annotations

from pathlib import Path

from models.regression import NetworkConfiguration, Trainer
from tinygrad_ift.data import load_rotated_fashion_mnist

from .sources import SYNTHETIC, fashion_mnist_file

# The CNN the course starts from, a deep stack of 1x1 kernels, and one layer whose kernel covers the image.
NETWORKS = {
    "cnn": NetworkConfiguration(),
    "deep_1x1": NetworkConfiguration(n_channels=(16, 32, 48, 64), kernel_sizes=(1, 1, 1, 1), strides=(1, 1, 1, 1)),
    "shallow_full": NetworkConfiguration(n_channels=(48,), kernel_sizes=(28,), strides=(1,)),
    "mlp": NetworkConfiguration(),
}
PROFILES = {"smoke": {"dataset": SYNTHETIC, "image_size": 28, "n_synthetic": 200, "n_train": 160, "n_test": 40,
                      "epochs": 1},
            "cpu": {"dataset": "fashion_mnist", "n_train": 10000, "n_test": 2000, "epochs": 5},
            "full": {"dataset": "fashion_mnist", "n_train": None, "n_test": None, "epochs": 10}}


def regression_run(profile: str, network: str, lr: float = 1e-3) -> dict:
    return {"kind": "regression", "network": network, "lr": lr, "batch_size": 128, "seed": 0, "max_angle": 180.0,
            **PROFILES[profile]}


def equivariance_run(profile: str) -> dict:
    return {"kind": "equivariance", "shift": 5, "seed": 0, "dataset": PROFILES[profile]["dataset"],
            **({"image_size": 28, "n_synthetic": 20} if PROFILES[profile]["dataset"] == SYNTHETIC else {})}


def rotated_data(settings: dict, data_dir: str | None, scratch: Path) -> dict:
    """Rotated Fashion-MNIST (or the synthetic stand-in, rotated the same way), targets standardised."""
    return load_rotated_fashion_mnist(fashion_mnist_file(settings, data_dir, scratch), seed=settings["seed"],
                                      max_angle=settings["max_angle"], n_train=settings["n_train"],
                                      n_test=settings["n_test"])


def execute_regression(settings: dict, run_dir: Path, device: str, data_dir: str | None) -> dict:
    data = rotated_data(settings, data_dir, run_dir)
    network = settings["network"]
    trainer = Trainer("mlp" if network == "mlp" else "cnn", NETWORKS[network], lr=settings["lr"],
                      batch_size=settings["batch_size"], train=(data["x_train"], data["y_train"]),
                      test=(data["x_test"], data["y_test"]), device=device, seed=settings["seed"])
    logs = trainer.train_loop(settings["epochs"])
    n_parameters = sum(p.size for p in trainer.network.parameters())
    return {"logs": logs, "test_mae": logs["test_mae"][-1], "best_test_mae": min(logs["test_mae"]),
            "target_std_degrees": data["target_std"], "n_parameters": n_parameters,
            "n_train": len(data["x_train"]), "n_test": len(data["x_test"])}


def execute_equivariance(settings: dict, run_dir: Path, device: str, data_dir: str | None) -> dict:
    """Trainer.test_equivariance on the first rotated training image: its figure, and the mean |difference|
    of each map away from the border (where a shift legitimately differs)."""
    data = rotated_data({**settings, "max_angle": 180.0, "n_train": 2, "n_test": 2}, data_dir, run_dir)
    trainer = Trainer("cnn", lr=1e-3, train=(data["x_train"], data["y_train"]),
                      test=(data["x_test"], data["y_test"]), device=device, seed=settings["seed"])
    maps = trainer.test_equivariance(run_dir / "equivariance.png", shift_amount=settings["shift"])
    inner = slice(settings["shift"], -settings["shift"])
    return {"figure": "equivariance.png",
            "shift_mean_abs_difference": float(maps["shift"][inner, inner].mean()),
            "rotation_mean_abs_difference": float(maps["rotation"][inner, inner].mean())}
