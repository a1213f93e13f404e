"""Make a run's model and optimiser from its configuration."""
from __future__ import annotations

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


def model_settings(config: dict, data: DataSplits) -> dict:
    """The model's constructor keywords from config['model_config'], with the sizes the data fixes set from it:
    the number of classes, the MLP's input size (channels x height x width) and the MLP-Mixer's image size."""
    settings = registry.load_config(config["model"], config["model_config"])
    channels, height, width = data.image_shape
    settings["num_classes"] = data.num_classes
    if config["model"] == "mlp":
        settings["input_size"] = channels * height * width
    if config["model"] == "mlpmixer":
        settings["img_size"] = height
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
