"""Functions that make new tensors: from data, constants, ranges and the seeded random generator."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import random as _random
from .backend import Device, get_array_module, on_device
from .dtypes import DEFAULT_FLOAT, result_type
from .tensor import Tensor


def _make(fn, shape, dtype, device, requires_grad: bool, **kwargs) -> Tensor:
    """Call `fn(xp, shape, dtype)` on the device's array module and wrap the result."""
    device = Device(device)
    xp = get_array_module(device)
    if device.is_cuda:
        from .backend import require_cuda
        require_cuda(device)
    with on_device(device):
        data = fn(xp, _shape(shape), np.dtype(dtype or DEFAULT_FLOAT), **kwargs)
    return Tensor._wrap(data, device).requires_grad_(requires_grad) if requires_grad else Tensor._wrap(data, device)


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> Tensor:
    """A tensor holding a copy of `data` (float32 by default for Python floats)."""
    if isinstance(data, Tensor):
        data = data.data
    data = get_array_module(data).array(data, copy=True) if hasattr(data, "shape") else data
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def zeros(*shape, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    return _make(lambda xp, s, d: xp.zeros(s, dtype=d), shape, dtype, device, requires_grad)


def ones(*shape, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    return _make(lambda xp, s, d: xp.ones(s, dtype=d), shape, dtype, device, requires_grad)


def full(shape, fill_value: float, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    """A tensor of `fill_value`; its dtype follows the value's type as in PyTorch (bool, int64 or float32)."""
    if dtype is None:
        dtype = result_type(fill_value)
    return _make(lambda xp, s, d: xp.full(s, fill_value, dtype=d), (shape,), dtype, device, requires_grad)


def empty(*shape, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    """A tensor whose values are not to be read before being written (here: zeros, so runs stay reproducible)."""
    return zeros(*shape, dtype=dtype, device=device, requires_grad=requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, device: Any = "cpu",
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end inclusive (float32 by default)."""
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _make(lambda xp, s, d: xp.linspace(start, end, steps).astype(d), (), dtype, device, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    return _make(lambda xp, s, d: xp.eye(n, m, dtype=d), (), dtype, device, requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    """Integers give int64 (as in PyTorch), any float argument gives float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = np.int64 if all(float(v).is_integer() for v in (start, end, step)) else DEFAULT_FLOAT
    return _make(lambda xp, s, d: xp.arange(start, end, step, dtype=d), (), dtype, device, requires_grad)


def rand(*shape, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    """Uniform in [0, 1), from the framework's seeded generator."""
    return _make(lambda xp, s, d: _random.generator(device).random(s, dtype=d), shape, dtype, device, requires_grad)


def randn(*shape, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    """Standard normal, from the framework's seeded generator."""
    return _make(lambda xp, s, d: _random.generator(device).standard_normal(s, dtype=d),
                 shape, dtype, device, requires_grad)


def randint(low: int, high: int, size: tuple, device: Any = "cpu") -> Tensor:
    """Integers in [low, high), int64."""
    return _make(lambda xp, s, d: _random.generator(device).integers(low, high, size=s, dtype=d),
                 (size,), np.int64, device, False)


def _like(factory):
    def like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return factory(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)
    like.__name__ = factory.__name__ + "_like"
    like.__doc__ = f"`{factory.__name__}` with the shape, dtype and device of `t`."
    return like


zeros_like = _like(zeros)
empty_like = _like(empty)
ones_like = _like(ones)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(t: Tensor, fill_value: float, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)
