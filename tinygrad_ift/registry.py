"""The model registry: model families add themselves by name, so the library never imports them.

A package of models calls `register_model(name, cls, default_config)` when it is imported (the course's
top-level `models` package does) and declares itself under the entry-point group `tinygrad_ift.models`
(see setup.cfg), so that the training command line finds it: the look-ups below import every package of
that group the first time they are used.
"""
from __future__ import annotations

import inspect
import json
import os
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Mapping, NamedTuple

from .nn import Module

ENTRY_POINT_GROUP = "tinygrad_ift.models"


class ModelEntry(NamedTuple):
    cls: type[Module]
    default_config: Path  # the JSON file of its constructor keywords


_registry: dict[str, ModelEntry] = {}
_entry_points_loaded = False


def register_model(name: str, cls: type[Module], default_config: str | os.PathLike) -> None:
    """Make `cls` buildable as `name`, by default with the keywords in the JSON file `default_config`."""
    _registry[name] = ModelEntry(cls, Path(default_config))


def _entries() -> dict[str, ModelEntry]:
    global _entry_points_loaded
    if not _entry_points_loaded:
        _entry_points_loaded = True
        for point in entry_points(group=ENTRY_POINT_GROUP):
            import_module(point.value)  # registers its models
    return _registry


def model_names() -> tuple[str, ...]:
    """The registered model names, sorted."""
    return tuple(sorted(_entries()))


def model_entry(name: str) -> ModelEntry:
    entries = _entries()
    if name not in entries:
        hint = "" if entries else " (no model package is registered: install the project with `pip install -e .`, or run `python main.py` from the checkout)"
        raise ValueError(f"unknown model {name!r}; available models are {sorted(entries)}{hint}")
    return entries[name]


def load_config(name: str, config: Mapping[str, Any] | str | os.PathLike | None = None) -> dict[str, Any]:
    """The constructor keywords of model `name`: from a dict, from a JSON file, or (None) its packaged default."""
    default = model_entry(name).default_config
    if isinstance(config, Mapping):
        return dict(config)
    path = default if config is None else Path(config)
    if not path.is_file():
        raise FileNotFoundError(f"model config for {name!r}: no file {path}")
    with open(path, encoding="utf-8") as file:
        loaded = json.load(file)
    if not isinstance(loaded, dict):
        raise ValueError(f"model config {path}: expected a JSON object of constructor keywords, "
                         f"got {type(loaded).__name__}")
    return loaded


def build_model(name: str, config: Mapping[str, Any] | str | os.PathLike | None = None) -> Module:
    """The registered class of `name` called with the config's keywords; an error names any it does not take."""
    cls = model_entry(name).cls
    kwargs = load_config(name, config)
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(f"{cls.__name__} config: unknown keys {unknown}; {cls.__name__} takes {accepted}")
    return cls(**kwargs)
