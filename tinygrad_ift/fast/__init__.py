"""Fast paths: faster versions of the reference ops, one module per device, and the one place that picks them.

Every op (tinygrad_ift.ops, the Functions of tinygrad_ift.nn, the optimisers' `update`) is written once as
plain array math: the reference, which reads like the formulas and which every test compares against. A
device module may replace one with a subclass that overrides `forward`/`backward` (or `update`) and gives
the same results faster on that device:

- `fast/cpu.py`: NumPy passes over cache-sized slices of the batch, shared out over threads (`slices.py`),
  with large outputs and scratch arrays recycled through a buffer pool (`buffer_pool.py`), matrix products split
  over the same threads, each part on one BLAS thread (`slices.shared_matmul`, `blas_threads.py`), and 3x3
  convolutions by Winograd's F(2x2, 3x3) (`winograd.py`), their inputs copied channels-last (`layout.py`);
- `fast/cuda.py`: fused CuPy kernels (`ElementwiseKernel`, `ReductionKernel`, `RawKernel`).

A replacement registers itself with `@replaces(Reference, "cpu")`. `Function.apply` and `Optimizer.step`
call `implementation(cls, device)`, the only place where the choice is made. `use_reference_ops(True)`,
or `TINYGRAD_IFT_REFERENCE_OPS=1` in the environment, runs the reference everywhere (`"cpu"` or `"cuda"`
instead of 1: on that device type only, e.g. `cuda` on the CuPy stand-in of the tests, which runs no kernels).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Callable, Iterator

DEVICE_TYPES = ("cpu", "cuda")
ENV_SWITCH = "TINYGRAD_IFT_REFERENCE_OPS"

_registered: dict[str, dict[type, type]] = {kind: {} for kind in DEVICE_TYPES}
_no_fast_paths: dict[type, type] = {}
_active: dict[str, dict[type, type]] = dict(_registered)


def replaces(reference: type, device_type: str) -> Callable[[type], type]:
    """Class decorator: run the decorated subclass of `reference` instead of it on `device_type` ("cpu", "cuda")."""
    _check_device_type("replaces", device_type)

    def register(fast: type) -> type:
        if not issubclass(fast, reference):
            raise TypeError(f"replaces: {fast.__name__} must subclass the reference {reference.__name__}")
        _registered[device_type][reference] = fast
        return fast
    return register


def implementation(cls: type, device) -> type:
    """The class that runs `cls` on `device`: its registered fast path, or `cls` itself."""
    return _active[device.type].get(cls, cls)


def use_reference_ops(enabled: bool = True, device_type: str | None = None) -> None:
    """Run every op's reference (plain array math) instead of its fast paths, on `device_type` ("cpu" or
    "cuda"; None: every device), or (enabled=False) go back to the fast paths there."""
    for kind in DEVICE_TYPES if device_type is None else (_check_device_type("use_reference_ops", device_type),):
        _active[kind] = _no_fast_paths if enabled else _registered[kind]


@contextmanager
def reference_ops(device_type: str | None = None) -> Iterator[None]:
    """Within the block, run the reference ops (on `device_type`, or every device); afterwards the choice that
    was in force before comes back, an environment switch's included."""
    saved = dict(_active)
    use_reference_ops(True, device_type)
    try:
        yield
    finally:
        _active.update(saved)


def using_reference_ops(device_type: str = "cpu") -> bool:
    """Whether use_reference_ops (or the environment switch) has turned the fast paths of a device type off."""
    return _active[_check_device_type("using_reference_ops", device_type)] is _no_fast_paths


def registered(device_type: str) -> dict[type, type]:
    """The fast paths of one device type: reference class -> its replacement."""
    return dict(_registered[_check_device_type("registered", device_type)])


def reference_of(cls: type) -> type:
    """The reference op that a fast path replaces; a reference op itself for any other class."""
    for fast_paths in _registered.values():
        for reference, fast in fast_paths.items():
            if fast is cls:
                return reference
    return cls


def _check_device_type(name: str, device_type: str) -> str:
    if device_type not in DEVICE_TYPES:
        raise ValueError(f"{name}: device_type must be one of {DEVICE_TYPES}, got {device_type!r}")
    return device_type


def _switch_from_environment(value: str) -> None:
    """TINYGRAD_IFT_REFERENCE_OPS: unset, "" or "0" keep the fast paths; "cpu" or "cuda" turn one device type's
    off; anything else (e.g. "1") turns them all off."""
    if value in ("", "0"):
        return
    use_reference_ops(True, value if value in DEVICE_TYPES else None)


_switch_from_environment(os.environ.get(ENV_SWITCH, ""))
