"""Activation functions by name, as the course code chooses them ("relu", "tanh", "sigmoid", "gelu")."""
from __future__ import annotations

from tinygrad_ift import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}


def check_activation(owner: str, name: str) -> str:
    """The name itself if it is a known activation; otherwise an error that lists the valid names."""
    if name not in ACTIVATIONS:
        raise ValueError(f"{owner}: unknown activation {name!r}; valid names are {sorted(ACTIVATIONS)}")
    return name


def create_activation(owner: str, name: str) -> nn.Module:
    """A new activation module for `name` (e.g. "relu" -> nn.ReLU())."""
    return ACTIVATIONS[check_activation(owner, name)]()
