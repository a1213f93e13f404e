"""Make a run's model and optimiser from its configuration."""
from __future__ import annotations

import inspect
import json
import math
import typing
from collections.abc import Sequence

from .. import registry
from ..nn import Module
from ..optim import SGD, Adam, AdamW, Optimizer
from .datasets import DataSplits

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
THREE_CHANNEL_MODELS = ("resnet18", "mlpmixer")  # their first layer takes RGB images


def default_model_config(name: str) -> str:
    """The JSON file of a registered model's default settings (the course's: models/configs/<name>.json)."""
    return str(registry.model_entry(name).default_config)


def has_visualization(name: str) -> bool:
    """Whether the model class can draw its own weights (`visualize(logdir)`)."""
    return hasattr(registry.model_entry(name).cls, "visualize")


# Constructor keywords the data fixes, whatever the model's settings say.
SIZES_FROM_DATA = {"num_classes": lambda data: data.num_classes,
                   "input_size": lambda data: math.prod(data.image_shape),  # the MLP's flattened image
                   "img_size": lambda data: data.image_shape[1]}  # the MLP-Mixer's (square) image side


def _parameters(name: str) -> dict[str, inspect.Parameter]:
    """The constructor's parameters of model `name`, by keyword."""
    parameters = inspect.signature(registry.model_entry(name).cls.__init__).parameters
    return {key: p for key, p in parameters.items() if key != "self"}


def model_settings(config: dict, data: DataSplits) -> dict:
    """The model's constructor keywords from config['model_config'], with the sizes the data fixes set from it:
    the number of classes, the MLP's input size (channels x height x width) and the MLP-Mixer's image size."""
    settings = registry.load_config(config["model"], config["model_config"])
    accepted = _parameters(config["model"])
    settings.update({key: size(data) for key, size in SIZES_FROM_DATA.items() if key in accepted})
    return settings


def build_model(config: dict, data: DataSplits) -> Module:
    return registry.build_model(config["model"], model_settings(config, data))


def build_optimizer(config: dict, parameters: list) -> Optimizer:
    """sgd (no momentum), momentum (SGD with config['momentum']), adam or adamw, with lr and weight decay."""
    name, lr, weight_decay = config["optimizer"], config["lr"], config["weight_decay"]
    if name == "sgd":
        return SGD(parameters, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return SGD(parameters, lr=lr, momentum=config["momentum"], weight_decay=weight_decay)
    if name == "adam":
        return Adam(parameters, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return AdamW(parameters, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"build_optimizer: unknown optimizer {name!r}, expected one of {OPTIMIZERS}")


def read_model_config(name: str, path: str) -> dict:
    """The JSON settings of model `name` in `path`, checked against its constructor's signature: a ValueError
    names the file and the first bad key (unknown, or a value of the wrong type; integers are sizes or counts
    in every course model, so they must be positive)."""
    try:
        with open(path, encoding="utf-8") as file:
            settings = json.load(file)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a text file of JSON") from None
    if not isinstance(settings, dict):
        raise ValueError(f"{path}: expected a JSON object of the model's settings, got {json.dumps(settings)}")
    accepted = _parameters(name)
    hints = typing.get_type_hints(registry.model_entry(name).cls.__init__)
    for key, value in settings.items():
        if key not in accepted:
            raise ValueError(f"{path}: unknown key {key!r}; --model {name} takes {list(accepted)}")
        if key in hints and not _has_type(value, hints[key]):
            raise ValueError(f"{path}: {key!r} should be {_type_name(hints[key])}, got {json.dumps(value)}")
    missing = [key for key, p in accepted.items()
               if p.default is inspect.Parameter.empty and key not in settings and key not in SIZES_FROM_DATA]
    if missing:
        raise ValueError(f"{path}: missing key{'s' * (len(missing) > 1)} {', '.join(map(repr, missing))}")
    return settings


def _has_type(value, hint) -> bool:
    """Whether a JSON value fits a constructor annotation (int, float, str, Sequence[...]; others pass)."""
    if typing.get_origin(hint) in (list, tuple, Sequence):
        return isinstance(value, list) and all(_has_type(item, typing.get_args(hint)[0]) for item in value)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return True


def _type_name(hint, plural: bool = False) -> str:
    if typing.get_origin(hint) in (list, tuple, Sequence):
        return f"a list of {_type_name(typing.get_args(hint)[0], plural=True)}"
    names = {int: ("a positive integer", "positive integers"), float: ("a number", "numbers"),
             str: ("a string", "strings")}
    return names[hint][plural] if hint in names else str(hint)
