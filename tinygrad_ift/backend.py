"""The one place that chooses between NumPy (CPU) and CuPy (GPU).

Every other module asks this one for the array module of a device or an array
(`get_array_module`) and never imports CuPy itself, so the library imports and
runs on machines without CuPy or without a GPU.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

try:  # CuPy is optional: a missing package or a broken CUDA install both mean "no GPU".
    import cupy as _cupy
    import cupyx as _cupyx
except Exception as _err:  # pragma: no cover - depends on the machine
    _cupy = None
    _cupyx = None
    _CUPY_IMPORT_ERROR: Exception | None = _err
else:  # pragma: no cover - GPU machines only
    _CUPY_IMPORT_ERROR = None


class Device:
    """A device: ``cpu`` or ``cuda:N``. Compares equal to its string forms ("cuda" is "cuda:0")."""

    __slots__ = ("type", "index")

    def __init__(self, spec: "str | Device | None" = None):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        spec = "cpu" if spec is None else str(spec).strip().lower()
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda") or (kind == "cpu" and idx) or (idx and not idx.isdigit()):
            raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {spec!r}")
        self.type = kind
        self.index = int(idx) if kind == "cuda" and idx else (0 if kind == "cuda" else None)

    @property
    def is_cuda(self) -> bool:
        return self.type == "cuda"

    def __str__(self) -> str:
        return "cpu" if self.type == "cpu" else f"cuda:{self.index}"

    def __repr__(self) -> str:
        return f"device('{self}')"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except ValueError:
                return False
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = Device("cpu")


def cuda_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # pragma: no cover - GPU machines only
        return False


def cuda_device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy or a GPU)."""
    return _cupy.cuda.runtime.getDeviceCount() if cuda_available() else 0


def require_cuda(device: Device) -> None:
    """Raise a clear error saying whether CuPy or the GPU is what is missing."""
    if _cupy is None:
        raise RuntimeError(
            f"device {device}: CuPy is not installed (or failed to import: {_CUPY_IMPORT_ERROR}); "
            "pip install cupy-cuda13x (CUDA 13 drivers), or cupy-cuda12x for CUDA 12")
    try:
        count = _cupy.cuda.runtime.getDeviceCount()
    except Exception as err:
        raise RuntimeError(f"device {device}: CuPy is installed but no CUDA GPU is usable ({err})") from err
    if device.index >= count:
        raise RuntimeError(f"device {device}: only {count} CUDA GPU(s) are visible")


def get_array_module(obj: Any):
    """NumPy or CuPy: for a Device, a device string, or an array."""
    if isinstance(obj, (Device, str)):
        return _cupy if Device(obj).is_cuda else np
    if _cupy is not None and isinstance(obj, _cupy.ndarray):
        return _cupy
    return np


def device_of(array: Any) -> Device:
    """The Device that holds an array."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return Device(f"cuda:{array.device.id}")
    return CPU


def on_device(device: Device):
    """Context manager making `device` current for CuPy; a no-op on CPU."""
    if device.is_cuda:
        return _cupy.cuda.Device(device.index)
    return _NullContext()


class _NullContext:
    __slots__ = ()

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def to_device(array: Any, device: Device):
    """Copy an array to `device` (no copy when it is already there)."""
    if device.is_cuda:
        require_cuda(device)
        with _cupy.cuda.Device(device.index):
            return _cupy.asarray(array)
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy.asnumpy(array)
    return np.asarray(array)


_constants: dict = {}
MAX_CONSTANTS = 4096  # distinct constants kept per process; past this the cache starts over


def constant(key: Any, device: Device, make: Callable[[], Any]):
    """The array `make()` builds on the host, moved to `device` once per (key, device) and kept there.

    For the constants an op needs at every call (normalisation statistics, pooling tables, the numbers in
    `x * 0.5`): on a GPU each would otherwise be a host-to-device copy per call. Callers never write into it.
    """
    found = _constants.get((key, device))
    if found is None:
        if len(_constants) >= MAX_CONSTANTS:
            _constants.clear()
        found = _constants[(key, device)] = to_device(make(), device)
    return found


def scalar(value: Any, dtype: Any, device: Device):
    """A Python number as a 0-d array of `dtype` on `device` (cached on a GPU, see `constant`)."""
    if not device.is_cuda:
        return np.asarray(value, dtype=dtype)
    dtype = np.dtype(dtype)
    return constant(("scalar", type(value), value, dtype), device, lambda: np.asarray(value, dtype=dtype))


if _cupy is not None:  # a subclass of CuPy's ndarray: it exists only where CuPy imports
    class HostWritableArray(_cupy.ndarray):
        """A CuPy array whose item assignment also takes host values (NumPy arrays, lists), as a PyTorch tensor's
        does: `a[...] = numpy_array` copies them to the device (one host-to-device copy), then assigns.

        CuPy itself refuses a host array assigned through basic indexing (ValueError). The parameters' `.data`
        is a view of this type on a GPU, so that the course pattern `layer.weight.data[:] = numpy_array` works
        there as on the CPU. Everything else is CuPy's ndarray, unchanged.
        """

        def __setitem__(self, index, value):
            if isinstance(value, (np.ndarray, list, tuple)):
                value = _cupy.asarray(value, dtype=self.dtype)
            super().__setitem__(index, value)


def host_writable(array: Any) -> Any:
    """`array` itself on the CPU; on a GPU, a view of it (no copy) that accepts host values in item assignment."""
    if _cupy is None or not isinstance(array, _cupy.ndarray) or isinstance(array, HostWritableArray):
        return array
    return array.view(type=HostWritableArray)


def to_numpy(array: Any) -> np.ndarray:
    """A host NumPy array, whatever the array's device."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy.asnumpy(array)
    return np.asarray(array)


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """target[index] += values, accumulating over repeated indices (unbuffered)."""
    if _cupy is not None and isinstance(target, _cupy.ndarray):
        _cupyx.scatter_add(target, index, values)
    else:
        np.add.at(target, index, values)


_np_erf = None


def erf(x: Any, out: Any = None):
    """The error function, elementwise, on either backend (double precision); into `out` if given."""
    global _np_erf
    if _cupy is not None and isinstance(x, _cupy.ndarray):
        import cupyx.scipy.special  # noqa: WPS433 - part of CuPy, loaded on first use
        return cupyx.scipy.special.erf(x)
    if _np_erf is None:
        try:
            from scipy.special import erf as scipy_erf
            _np_erf = scipy_erf
        except ImportError:  # exact but slower fallback keeps the core NumPy-only
            _np_erf = np.vectorize(math.erf, otypes=[np.float64])
    if out is not None and isinstance(_np_erf, np.ufunc):
        return _np_erf(x, out=out)
    result = _np_erf(x).astype(x.dtype, copy=False)
    if out is None:
        return result
    out[...] = result
    return out


def versions() -> dict:
    """Library versions for results files."""
    out = {"numpy": np.__version__}
    if _cupy is not None:
        out["cupy"] = _cupy.__version__
    return out


def device_name(device: Device) -> str:
    """A human-readable name for results files, e.g. the GPU model."""
    if device.is_cuda:
        require_cuda(device)
        props = _cupy.cuda.runtime.getDeviceProperties(device.index)
        name = props["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    try:  # Linux names the CPU model here; platform.processor() often gives just the architecture
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine() or "cpu"


def allow_tf32(enabled: bool = True) -> None:
    """Opt in (or back out) to TF32 tensor-core matrix products for float32 CuPy arrays, as PyTorch's
    `torch.backends.cuda.matmul.allow_tf32`: faster on Ampere and later GPUs, with about 10 bits of mantissa
    in the products instead of 23. Off by default, so that results match the float32 reference."""
    require_cuda(Device("cuda"))
    from cupy._core import _routines_linalg as linalg  # CuPy's cuBLAS compute-type switch
    linalg.set_compute_type(np.float32, linalg.COMPUTE_TYPE_TF32 if enabled else linalg.COMPUTE_TYPE_DEFAULT)
