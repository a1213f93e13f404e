"""Fast paths: faster versions of the reference ops, one module per device, and the one place that picks them.

Every op (tinygrad_ift.ops, the Functions of tinygrad_ift.nn, the optimisers' `update`) is written once as
plain array math: the reference, which reads like the formulas and which every test compares against. A
device module may replace one with a subclass that overrides `forward`/`backward` (or `update`) and gives
the same results faster on that device:

- `fast/cpu.py`: NumPy passes over cache-sized slices of the batch, shared out over threads (`slices.py`),
  with large outputs and scratch arrays recycled through a buffer pool (`buffer_pool.py`);
- `fast/cuda.py`: fused CuPy kernels (`ElementwiseKernel`, `ReductionKernel`, `RawKernel`).

A replacement registers itself with `@replaces(Reference, "cpu")`. `Function.apply` and `Optimizer.step`
call `implementation(cls, device)`, the only place where the choice is made. `use_reference_ops(True)`,
or `TINYGRAD_IFT_REFERENCE_OPS=1` in the environment, runs the reference everywhere.
"""
from __future__ import annotations

import os
from typing import Callable

DEVICE_TYPES = ("cpu", "cuda")
ENV_SWITCH = "TINYGRAD_IFT_REFERENCE_OPS"

_registered: dict[str, dict[type, type]] = {kind: {} for kind in DEVICE_TYPES}
_no_fast_paths: dict[str, dict[type, type]] = {kind: {} for kind in DEVICE_TYPES}
_active = _no_fast_paths if os.environ.get(ENV_SWITCH, "0") not in ("", "0") else _registered


def replaces(reference: type, device_type: str) -> Callable[[type], type]:
    """Class decorator: run the decorated subclass of `reference` instead of it on `device_type` ("cpu", "cuda")."""
    if device_type not in DEVICE_TYPES:
        raise ValueError(f"replaces: device_type must be one of {DEVICE_TYPES}, got {device_type!r}")

    def register(fast: type) -> type:
        if not issubclass(fast, reference):
            raise TypeError(f"replaces: {fast.__name__} must subclass the reference {reference.__name__}")
        _registered[device_type][reference] = fast
        return fast
    return register


def implementation(cls: type, device) -> type:
    """The class that runs `cls` on `device`: its registered fast path, or `cls` itself."""
    return _active[device.type].get(cls, cls)


def use_reference_ops(enabled: bool = True) -> None:
    """Run every op's reference (plain array math) instead of its fast paths, on every device, or stop doing so."""
    global _active
    _active = _no_fast_paths if enabled else _registered


def using_reference_ops() -> bool:
    """Whether use_reference_ops (or the environment switch) has turned the fast paths off."""
    return _active is _no_fast_paths


def registered(device_type: str) -> dict[type, type]:
    """The fast paths of one device type: reference class -> its replacement."""
    return dict(_registered[device_type])
