"""The course's model families on tinygrad_ift, under PyTorch-course names: MLP, ResNet18, MLP-Mixer, and the
regression Trainer. `build_model(name, config)` makes one from a JSON configuration (see models/configs/)."""
from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any, Mapping

from tinygrad_ift import nn

from .mlp import MLP, Linear
from .mlpmixer import MixerBlock, Mlp, MLPMixer, PatchEmbed
from .regression import NetworkConfiguration, Trainer
from .resnet18 import BasicBlock, ResNet18

MODELS: dict[str, type[nn.Module]] = {"mlp": MLP, "resnet18": ResNet18, "mlpmixer": MLPMixer}
CONFIG_DIR = Path(__file__).resolve().parent / "configs"

__all__ = ["MODELS", "CONFIG_DIR", "build_model", "load_config", "Linear", "MLP", "BasicBlock", "ResNet18",
           "PatchEmbed", "Mlp", "MixerBlock", "MLPMixer", "NetworkConfiguration", "Trainer"]


def _model_class(name: str) -> type[nn.Module]:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; available models are {sorted(MODELS)}")
    return MODELS[name]


def load_config(name: str, config: Mapping[str, Any] | str | os.PathLike | None = None) -> dict[str, Any]:
    """The constructor keywords of model `name`: from a dict, from a JSON file, or (None) its packaged default."""
    _model_class(name)
    if isinstance(config, Mapping):
        return dict(config)
    path = CONFIG_DIR / f"{name}.json" if config is None else Path(config)
    if not path.is_file():
        raise FileNotFoundError(f"model config for {name!r}: no file {path}")
    with open(path, encoding="utf-8") as file:
        loaded = json.load(file)
    if not isinstance(loaded, dict):
        raise ValueError(f"model config {path}: expected a JSON object of constructor keywords, "
                         f"got {type(loaded).__name__}")
    return loaded


def build_model(name: str, config: Mapping[str, Any] | str | os.PathLike | None = None) -> nn.Module:
    """MODELS[name](**config), with an error naming any keyword the constructor does not take."""
    cls = _model_class(name)
    kwargs = load_config(name, config)
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(f"{cls.__name__} config: unknown keys {unknown}; {cls.__name__} takes {accepted}")
    return cls(**kwargs)
