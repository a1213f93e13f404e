"""The framework's random number generators, one per device, all seeded by `manual_seed`.

Initialisation, shuffling, dropout and augmentation draw from here, so one seed
fixes a whole run.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .backend import Device, get_array_module, on_device

_seed = 0
_generators: dict = {}


def manual_seed(seed: int) -> None:
    """Reseed every device's generator (CPU now, GPUs lazily from the same seed)."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def initial_seed() -> int:
    return _seed


def generator(device: "Device | str" = "cpu"):
    """The `Generator` (NumPy or CuPy) that draws random arrays on `device`."""
    device = Device(device)
    gen = _generators.get(device)
    if gen is None:
        xp = get_array_module(device)
        with on_device(device):
            gen = xp.random.default_rng(_seed + (device.index or 0))
        _generators[device] = gen
    return gen


def get_rng_state() -> dict[str, Any]:
    """The CPU generator's state (a plain dict, saved in checkpoints)."""
    return {"seed": _seed, "cpu": generator("cpu").bit_generator.state}


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `get_rng_state` returned."""
    manual_seed(state["seed"])
    gen = np.random.default_rng()
    gen.bit_generator.state = state["cpu"]
    _generators[Device("cpu")] = gen
