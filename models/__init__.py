"""The course's model families on tinygrad_ift, under PyTorch-course names: MLP, ResNet18, MLP-Mixer, and the
regression Trainer. Importing this package registers the first three with `tinygrad_ift.registry`, so that
`build_model(name, config)` makes one from a JSON configuration (see models/configs/)."""
from __future__ import annotations

from pathlib import Path

from tinygrad_ift.registry import build_model, load_config, register_model

from .mlp import MLP, Linear
from .mlpmixer import MixerBlock, Mlp, MLPMixer, PatchEmbed
from .regression import NetworkConfiguration, Trainer
from .resnet18 import BasicBlock, ResNet18

MODELS = {"mlp": MLP, "resnet18": ResNet18, "mlpmixer": MLPMixer}
CONFIG_DIR = Path(__file__).resolve().parent / "configs"
for _name, _cls in MODELS.items():
    register_model(_name, _cls, CONFIG_DIR / f"{_name}.json")

__all__ = ["MODELS", "CONFIG_DIR", "build_model", "load_config", "Linear", "MLP", "BasicBlock", "ResNet18",
           "PatchEmbed", "Mlp", "MixerBlock", "MLPMixer", "NetworkConfiguration", "Trainer"]
