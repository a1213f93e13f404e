"""The framework's random number generators, one per device, all seeded by `manual_seed`.

Initialisation, shuffling, dropout and augmentation draw from here, so one seed
fixes a whole run. Inside `derived_streams(*words)` (a training step, a batch's
augmentation) every generator is a fresh one seeded by (seed, *words).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from .backend import Device, get_array_module, on_device

_seed = 0
_generators: dict = {}
_words: tuple = ()  # what names the current derived_streams block


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
        seed = _derived_seed(device) if _words else _seed + (device.index or 0)
        with on_device(device):
            gen = xp.random.default_rng(seed)
        _generators[device] = gen
    return gen


@contextmanager
def derived_streams(*words: int) -> Iterator[None]:
    """Within the block, every device's generator starts afresh from (the manual seed, *words), non-negative ints.

    The Trainer runs each training step in derived_streams(epoch, step) and the DataLoader augments each batch
    in derived_streams(seed, epoch, batch), so their draws (dropout, flips, crops) depend only on where the run
    is, never on what was drawn before: a resumed run repeats them exactly, on a GPU too, where CuPy's
    generator state can be neither read nor saved. The generators in use before the block come back after it.
    """
    global _generators, _words
    saved = _generators, _words
    _generators, _words = {}, tuple(int(w) for w in words)
    try:
        yield
    finally:
        _generators, _words = saved


def _derived_seed(device: Device) -> int:
    """A 63-bit seed from the host seed sequence (manual seed, the block's words, the device index)."""
    entropy = [_seed, *_words, device.index or 0]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> np.uint64(1))


def get_rng_state() -> dict[str, Any]:
    """The CPU generator's state (a plain dict, saved in checkpoints)."""
    return {"seed": _seed, "cpu": generator("cpu").bit_generator.state}


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `get_rng_state` returned."""
    manual_seed(state["seed"])
    gen = np.random.default_rng()
    gen.bit_generator.state = state["cpu"]
    _generators[Device("cpu")] = gen
