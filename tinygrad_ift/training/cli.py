"""`python -m tinygrad_ift train`: train a course model on CIFAR-10 (or MNIST / Fashion-MNIST) from the shell.

Every flag, the logdir, the model's JSON settings and the plotting library are checked before any data is
read, so a mistake prints the usage and a one-line reason (exit status 2) instead of a traceback, and never
costs an epoch. An earlier run in --logdir is kept unless --resume or --overwrite says what to do with it.
Ctrl-C writes the finished epochs' results and exits with status 130.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable

from ..backend import Device, require_cuda
from ..data import default_data_dir
from ..data.download import DataUnavailableError, download_dir
from ..registry import model_names
from .builders import (OPTIMIZERS, THREE_CHANNEL_MODELS, default_model_config, has_visualization,
                       read_model_config)
from .checkpoint import CHECKPOINT_FILE, CheckpointError
from .datasets import DATASETS, prepare_data
from .results import RESULTS_FILE
from .trainer import (RUN_FILES, ModelConfigError, NonFiniteLossError, ResumeMismatchError, TrainingInterrupted,
                      train)

DEFAULT_WEIGHT_DECAY = 5e-4  # the course's value for sgd, momentum and adamw; plain adam gets none
INTERRUPTED = 130  # the shell's exit status for a program stopped by Ctrl-C (128 + SIGINT)


def _number(kind: type, check: Callable[[float], bool], expected: str) -> Callable[[str], float]:
    """An argparse type: parse with `kind`, then reject values for which `check` fails."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not check(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


positive_int = _number(int, lambda v: v > 0, "a positive integer")
non_negative_int = _number(int, lambda v: v >= 0, "an integer >= 0")
positive_float = _number(float, lambda v: 0 < v < float("inf"), "a positive number")
non_negative_float = _number(float, lambda v: 0 <= v < float("inf"), "a number >= 0")
momentum_float = _number(float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def existing_file(text: str) -> str:
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    return str(Path(text).resolve())


def existing_path(text: str) -> str:
    if not Path(text).exists():
        raise argparse.ArgumentTypeError(f"no such file or folder: {text!r}")
    return str(Path(text).resolve())


def device_type(text: str) -> str:
    """'cpu', 'cuda' or 'cuda:N'; a GPU device must be usable (CuPy installed, GPU visible)."""
    try:
        device = Device(text)
        if device.is_cuda:
            require_cuda(device)
    except (ValueError, RuntimeError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return str(device)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_ift train",
        description="Train an MLP, ResNet-18 or MLP-Mixer on CIFAR-10 (45k train / 5k valid / 10k test); "
                    "writes results.json, loss/accuracy plots and a checkpoint per epoch to --logdir.")
    add = parser.add_argument
    add("--model", choices=model_names(), default="mlp", help="architecture (default: %(default)s)")
    add("--model_config", type=existing_file, default=None,
        help="JSON file of the model's settings (default: models/configs/<model>.json)")
    add("--dataset", choices=DATASETS, default="cifar10",
        help="cifar10, or a grayscale set for quick MLP runs (default: %(default)s)")
    add("--epochs", type=positive_int, default=15, help="(default: %(default)s)")
    add("--batch_size", type=positive_int, default=128, help="(default: %(default)s)")
    add("--optimizer", choices=OPTIMIZERS, default="adamw",
        help="sgd: plain SGD; momentum: SGD with --momentum; adam; adamw (default: %(default)s)")
    add("--lr", type=positive_float, default=1e-3, help="learning rate (default: %(default)s)")
    add("--momentum", type=momentum_float, default=0.9, help="for --optimizer momentum (default: %(default)s)")
    add("--weight_decay", type=non_negative_float, default=None,
        help=f"(default: {DEFAULT_WEIGHT_DECAY}, or 0 for adam)")
    add("--device", type=device_type, default="cpu", metavar="{cpu,cuda}",
        help="cpu, cuda or cuda:N (default: %(default)s)")
    add("--seed", type=non_negative_int, default=42,
        help="fixes initialisation, the train/valid split, shuffling and augmentation (default: %(default)s)")
    add("--logdir", default=None, help="folder for results.json, plots and the checkpoint "
                                       "(default: runs/<dataset>_<model>_<optimizer>_lr<lr>)")
    add("--data_dir", type=existing_path, default=None,
        help="the dataset's folder, or its file (default: $TINYGRAD_IFT_DATA, else ../shared/data, else the "
             "official files, downloaded once into ~/.cache/tinygrad_ift/datasets or $TINYGRAD_IFT_DOWNLOADS)")
    add("--visualize", action="store_true", help="also save the model's own visualisation to --logdir")
    add("--print_every", type=non_negative_int, default=0,
        help="print a line every N training steps; 0: only the progress bar and the epoch summary "
             "(default: %(default)s)")
    earlier_run = parser.add_mutually_exclusive_group()
    earlier_run.add_argument("--resume", action="store_true",
                             help="continue the run in --logdir from its checkpoint, if there is one")
    earlier_run.add_argument("--overwrite", action="store_true",
                             help="delete the run in --logdir (results, checkpoint, plots) and start again")
    add("--subset", type=positive_int, default=None, metavar="N", help="train on the first N training images only")
    return parser


def resolve_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    """Fill the defaults that depend on other flags; the result is the run's full configuration."""
    config = vars(args).copy()
    if config["weight_decay"] is None:
        config["weight_decay"] = 0.0 if config["optimizer"] == "adam" else DEFAULT_WEIGHT_DECAY
    if config["dataset"] != "cifar10" and config["model"] in THREE_CHANNEL_MODELS:
        parser.error(f"--model {config['model']} takes RGB images; --dataset {config['dataset']} is grayscale "
                     "(use --model mlp, or --dataset cifar10)")
    if config["visualize"] and not has_visualization(config["model"]):
        drawable = [name for name in model_names() if has_visualization(name)]
        parser.error(f"--visualize: --model {config['model']} has no visualisation (models that have one: {drawable})")
    if config["model_config"] is None:
        config["model_config"] = default_model_config(config["model"])
    try:
        read_model_config(config["model"], config["model_config"])
    except ValueError as err:
        parser.error(f"--model_config {err}")
    if config["data_dir"] is None:  # $TINYGRAD_IFT_DATA, ../shared/data, else the official files, downloaded once
        try:
            config["data_dir"] = str(default_data_dir() or download_dir(config["dataset"]))
        except DataUnavailableError as err:
            parser.error(str(err))
    if config["logdir"] is None:
        config["logdir"] = str(Path("runs") / f"{config['dataset']}_{config['model']}_{config['optimizer']}"
                                                f"_lr{config['lr']:g}")
    problem = unwritable(config["logdir"]) or earlier_run_problem(config)
    if problem:
        parser.error(f"--logdir: {problem}")
    try:
        import matplotlib  # noqa: F401  (the plots need it; found out now rather than after the last epoch)
    except ImportError:
        parser.error("the loss/accuracy plots need matplotlib, which is not installed: "
                     "pip install matplotlib (or pip install -e \".[cli]\")")
    return config


def unwritable(logdir: str) -> str | None:
    """Why a run could not write to `logdir` (checked before training, so no epoch is lost), or None."""
    if not logdir.strip():
        return "expected a folder path, got an empty string"
    path = Path(logdir)
    existing = next(p for p in (path, *path.parents) if os.path.exists(p))
    if not existing.is_dir():
        return f"{existing} is a file, not a folder" + (f", so {path} cannot be made" if existing != path else "")
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable (pick a folder of yours)"
    return None


def earlier_run_problem(config: dict) -> str | None:
    """Why training into config['logdir'] would clobber an earlier run without the user's say-so, or None."""
    logdir = Path(config["logdir"])
    held = [name for name in RUN_FILES if (logdir / name).exists()]
    if config["resume"] and (logdir / RESULTS_FILE).exists() and not (logdir / CHECKPOINT_FILE).exists():
        return (f"{logdir} holds {RESULTS_FILE} but no {CHECKPOINT_FILE} to resume from; pass --overwrite "
                "instead of --resume to replace that run, or choose another --logdir")
    if held and not (config["resume"] or config["overwrite"]):
        return (f"{logdir} already holds a run ({', '.join(held)}); pass --resume to continue it, --overwrite "
                "to delete it and start again, or choose another --logdir")
    return None


def main(argv: list[str] | None = None) -> dict:
    """Parse `argv` (default: sys.argv[1:]), train, and return the results (also in <logdir>/results.json)."""
    parser = build_parser()
    config = resolve_config(parser.parse_args(argv), parser)
    try:
        return _run(config, parser)
    except TrainingInterrupted as err:
        print(f"\n{err}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\ninterrupted before training started; nothing was written", file=sys.stderr)
    sys.exit(INTERRUPTED)


def _run(config: dict, parser: argparse.ArgumentParser) -> dict:
    """Load the data and train; a problem with the data, the model's settings or the checkpoint is one line."""
    try:
        data = prepare_data(config)
    except (FileNotFoundError, ValueError) as err:  # no dataset there, or a damaged file
        parser.error(f"--data_dir: {err}")
    try:
        return train(config, data)
    except ModelConfigError as err:
        parser.error(f"--model_config {err}")
    except (ResumeMismatchError, CheckpointError) as err:
        parser.error(f"--resume: {err}")
    except NonFiniteLossError as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    main()
