"""INF8225 runs: the by-hand logistic regression and MLP grids on Fashion-MNIST (one run per optimiser, each
scoring its best setting once on the test set) and the Bayesian-network queries, through their scripts."""
from __future__ import annotations

from pathlib import Path

from . import bayesnet, logistic_regression, manual_mlp
from .sources import SYNTHETIC, fashion_mnist_file

PROFILES = {
    "smoke": {"dataset": SYNTHETIC, "image_size": 28, "n_synthetic": 300, "subset": None,
              "logistic": {"epochs": 1, "lrs": [0.1], "batch_sizes": [20]},
              "mlp": {"epochs": 1, "depths": [1], "widths": [25]}},
    "cpu": {"dataset": "fashion_mnist", "subset": None,
            "logistic": {"epochs": 5, "lrs": [0.1, 0.01, 0.001], "batch_sizes": [20, 200, 1000]},
            "mlp": {"epochs": 3, "depths": [1, 3], "widths": [100]}},
    "full": {"dataset": "fashion_mnist", "subset": None,
             "logistic": {"epochs": 5, "lrs": [0.1, 0.01, 0.001], "batch_sizes": [1, 20, 200, 1000]},
             "mlp": {"epochs": 3, "depths": [1, 3, 5], "widths": [25, 100, 300, 500, 1000]}},
}


def _data_settings(profile: str) -> dict:
    p = PROFILES[profile]
    keep = ("dataset", "image_size", "n_synthetic", "subset")
    return {key: p[key] for key in keep if key in p}


def logistic_run(profile: str, optimizer: str) -> dict:
    return {"kind": "logistic_regression", "optimizer": optimizer, "seed": 0, **PROFILES[profile]["logistic"],
            **_data_settings(profile)}


def manual_mlp_run(profile: str, optimizer: str) -> dict:
    lr = {"sgd": 0.1, "adam": 0.001}[optimizer]
    return {"kind": "manual_mlp", "optimizer": optimizer, "lr": lr, "batch_size": 100, "seed": 0,
            **PROFILES[profile]["mlp"], **_data_settings(profile)}


def bayesnet_run(profile: str) -> dict:
    return {"kind": "bayesnet"}


def _flags(settings: dict, names: tuple[str, ...]) -> list[str]:
    flags = []
    for name in names:
        value = settings[name]
        if value is not None:
            flags += [f"--{name}", *map(str, value if isinstance(value, list) else [value])]
    return flags


def execute_logistic(settings: dict, run_dir: Path, device: str, data_dir: str | None) -> dict:
    data = fashion_mnist_file(settings, data_dir, run_dir)
    argv = ["--optimizers", settings["optimizer"], *_flags(settings, ("epochs", "lrs", "batch_sizes", "subset",
                                                                       "seed")),
            "--data_dir", str(data), "--logdir", str(run_dir)]
    return logistic_regression.main(argv)


def execute_manual_mlp(settings: dict, run_dir: Path, device: str, data_dir: str | None) -> dict:
    data = fashion_mnist_file(settings, data_dir, run_dir)
    lr_flag = f"--lr_{settings['optimizer']}"
    argv = ["--optimizers", settings["optimizer"], lr_flag, str(settings["lr"]),
            *_flags(settings, ("epochs", "batch_size", "depths", "widths", "subset", "seed")),
            "--data_dir", str(data), "--logdir", str(run_dir)]
    return manual_mlp.main(argv)


def execute_bayesnet(settings: dict, run_dir: Path, device: str, data_dir: str | None) -> dict:
    return {"queries": bayesnet.main(["--logdir", str(run_dir)])}
