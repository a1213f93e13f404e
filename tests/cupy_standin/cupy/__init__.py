"""A strict NumPy-backed stand-in for the parts of CuPy that tinygrad_ift uses: TEST SUPPORT, NEVER A RESULT.

Selected by `pytest --cupy-standin` (or TINYGRAD_IFT_CUPY_STANDIN=1), which puts this folder first on the
import path, so `import cupy` in the library finds it. It runs the library's CUDA path on a machine without a
GPU and is as strict as CuPy 14 about device discipline, no stricter:

- `ndarray` is its own type; `np.asarray(a)` / `__array__` raise CuPy's TypeError;
- an operation mixing it with an `np.ndarray` raises TypeError (Python and NumPy scalars are fine);
  reductions return 0-d arrays; `a[basic index] = np_array` raises CuPy's ValueError;
- integer-array indices wrap around (CuPy does not raise on out-of-range indices);
- `random.default_rng` gives a Generator with only CuPy 14's methods and a stream unlike NumPy's;
- `_standin.counters` counts device-to-host syncs and host-to-device copies, for budgets in tests.

Every public name and keyword here exists in CuPy 14 (tests/test_cupy_standin.py checks it against the real
package). Speed and GPU figures come only from a real GPU.
"""
from __future__ import annotations

import numpy as _np

from . import _standin  # _standin.counters: the test hook
from ._standin import _wrap, ndarray, ufunc

__version__ = "14.0.0+standin"

# ----- dtypes and constants (CuPy re-exports NumPy's) -------------------------------------------------
bool_, float16, float32, float64 = _np.bool_, _np.float16, _np.float32, _np.float64
int8, int16, int32, int64 = _np.int8, _np.int16, _np.int32, _np.int64
uint8, uint16, uint32, uint64 = _np.uint8, _np.uint16, _np.uint32, _np.uint64
dtype, inf, nan, pi, e, newaxis = _np.dtype, _np.inf, _np.nan, _np.pi, _np.e, _np.newaxis
can_cast, iinfo, finfo = _np.can_cast, _np.iinfo, _np.finfo


def result_type(*arrays_and_dtypes):
    """NumPy's promotion, from the dtypes of device arrays (their data stays on the device)."""
    return _np.result_type(*[a.dtype if isinstance(a, ndarray) else a for a in arrays_and_dtypes])

# ----- ufuncs: keywords out and dtype only, as CuPy's ----------------------------------------------------
_UFUNCS = (  # every ufunc CuPy 14 shares with NumPy by name
    "abs", "absolute", "acos", "acosh", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and", "bitwise_count", "bitwise_invert",
    "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "cbrt", "ceil", "conj",
    "conjugate", "copysign", "cos", "cosh", "deg2rad", "degrees", "divide", "divmod", "equal", "exp", "exp2", "expm1",
    "fabs", "float_power", "floor", "floor_divide", "fmax", "fmin", "fmod", "frexp", "gcd", "greater",
    "greater_equal", "heaviside", "hypot", "invert", "isfinite", "isinf", "isnan", "lcm", "ldexp", "left_shift",
    "less", "less_equal", "log", "log10", "log1p", "log2", "logaddexp", "logaddexp2", "logical_and", "logical_not",
    "logical_or", "logical_xor", "maximum", "minimum", "mod", "modf", "multiply", "negative", "nextafter",
    "not_equal", "positive", "pow", "power", "rad2deg", "radians", "reciprocal", "remainder", "right_shift", "rint",
    "sign", "signbit", "sin", "sinh", "sqrt", "square", "subtract", "tan", "tanh", "true_divide", "trunc")
for _name in _UFUNCS:
    if hasattr(_np, _name):  # (a few are NumPy 2 names)
        globals()[_name] = ufunc(_name, getattr(_np, _name))

# ----- functions: (name, NumPy function, the keywords CuPy 14 takes) ---------------------------------------
_FUNCTIONS = {
    "zeros": ("shape", "dtype", "order"), "ones": ("shape", "dtype", "order"),
    "empty": ("shape", "dtype", "order"), "full": ("shape", "fill_value", "dtype", "order"),
    "zeros_like": ("a", "dtype", "order", "subok", "shape"), "ones_like": ("a", "dtype", "order", "subok", "shape"),
    "empty_like": ("prototype", "dtype", "order", "subok", "shape"),
    "full_like": ("a", "fill_value", "dtype", "order", "subok", "shape"),
    "arange": ("start", "stop", "step", "dtype"), "eye": ("N", "M", "k", "dtype", "order"),
    "linspace": ("start", "stop", "num", "endpoint", "retstep", "dtype", "axis"),
    "where": ("condition", "x", "y"), "clip": ("a", "a_min", "a_max", "out"),
    "concatenate": ("tup", "axis", "out", "dtype", "casting"), "stack": ("tup", "axis", "out", "dtype", "casting"),
    "split": ("ary", "indices_or_sections", "axis"), "pad": ("array", "pad_width", "mode", "constant_values"),
    "expand_dims": ("a", "axis"), "broadcast_to": ("array", "shape"), "ascontiguousarray": ("a", "dtype"),
    "swapaxes": ("a", "axis1", "axis2"), "transpose": ("a", "axes"), "reshape": ("a", "newshape", "order"),
    "squeeze": ("a", "axis"), "moveaxis": ("a", "source", "destination"), "flip": ("a", "axis"),
    "take": ("a", "indices", "axis", "out"), "take_along_axis": ("a", "indices", "axis"),
    "argmax": ("a", "axis", "dtype", "out", "keepdims"), "argmin": ("a", "axis", "dtype", "out", "keepdims"),
    "sum": ("a", "axis", "dtype", "out", "keepdims"), "mean": ("a", "axis", "dtype", "out", "keepdims"),
    "amax": ("a", "axis", "out", "keepdims"), "amin": ("a", "axis", "out", "keepdims"),
    "max": ("a", "axis", "out", "keepdims"), "min": ("a", "axis", "out", "keepdims"),
    "prod": ("a", "axis", "dtype", "out", "keepdims"), "cumsum": ("a", "axis", "dtype", "out"),
    "all": ("a", "axis", "out", "keepdims"), "any": ("a", "axis", "out", "keepdims"),
    "count_nonzero": ("a", "axis"), "einsum": ("out", "dtype", "optimize"), "matmul": ("out", "dtype"),
    "dot": ("a", "b", "out"), "tensordot": ("a", "b", "axes"), "outer": ("a", "b", "out"),
    "meshgrid": ("indexing", "sparse", "copy"), "round": ("a", "decimals", "out"), "around": ("a", "decimals", "out"),
    "sort": ("a", "axis", "kind"), "argsort": ("a", "axis", "kind"), "repeat": ("a", "repeats", "axis"),
    "tile": ("A", "reps"), "roll": ("a", "shift", "axis"), "atleast_1d": (), "ravel": ("a", "order"),
    "isclose": ("a", "b", "rtol", "atol", "equal_nan"), "array_equal": ("a1", "a2", "equal_nan"),
    "cumprod": ("a", "axis", "dtype", "out"), "tri": ("N", "M", "k", "dtype"), "tril": ("m", "k"), "triu": ("m", "k"),
    "diag": ("v", "k"), "diagonal": ("a", "offset", "axis1", "axis2"),
    "trace": ("a", "offset", "axis1", "axis2", "dtype", "out"), "var": ("a", "axis", "dtype", "out", "ddof", "keepdims"),
    "std": ("a", "axis", "dtype", "out", "ddof", "keepdims"), "median": ("a", "axis", "out", "overwrite_input", "keepdims"),
    "searchsorted": ("a", "v", "side", "sorter"), "nanmax": ("a", "axis", "out", "keepdims"),
    "nanmin": ("a", "axis", "out", "keepdims"), "nansum": ("a", "axis", "dtype", "out", "keepdims"),
    "nanmean": ("a", "axis", "dtype", "out", "keepdims"), "vstack": ("tup", "dtype", "casting"),
    "hstack": ("tup", "dtype", "casting"), "diff": ("a", "n", "axis", "prepend", "append"), "identity": ("n", "dtype"),
    "nan_to_num": ("x", "copy", "nan", "posinf", "neginf"), "array_split": ("ary", "indices_or_sections", "axis"),
    "kron": ("a", "b"), "inner": ("a", "b"), "argpartition": ("a", "kth", "axis"), "partition": ("a", "kth", "axis"),
    "isin": ("element", "test_elements", "assume_unique", "invert"),
    "put_along_axis": ("arr", "indices", "values", "axis"),
    "logspace": ("start", "stop", "num", "endpoint", "base", "dtype", "axis"), "copy": ("a", "order"),
    "flipud": ("a",), "fliplr": ("a",), "rot90": ("a", "k", "axes"), "append": ("arr", "values", "axis"),
    "atleast_2d": (), "broadcast_arrays": (),
}
# Functions whose result size depends on the data: CuPy reads a count back from the GPU (a sync).
_SYNCING = {"nonzero": ("a",), "argwhere": ("a",), "unique": ("ar", "return_index", "return_inverse",
                                                                 "return_counts", "axis"),
            "flatnonzero": ("a",), "bincount": ("x", "weights", "minlength")}
for _name, _keywords in _FUNCTIONS.items():
    globals()[_name] = _standin.device_function(_name, getattr(_np, _name), _keywords)
for _name, _keywords in _SYNCING.items():
    globals()[_name] = _standin.device_function(_name, getattr(_np, _name), _keywords, syncs=True)


def copyto(dst, src, casting="same_kind", where=None):
    """dst[...] = src (where `where` is true), on the device: no sync, no copy from the host."""
    if not isinstance(dst, ndarray):
        raise TypeError(f"copyto: dst must be a cupy.ndarray, got {type(dst)}")
    kwargs = {} if where is None else {"where": _standin.device_operand(where)}
    _standin.counters.operation("copyto")
    _np.copyto(dst._array, _standin.device_operand(src), casting=casting, **kwargs)


def asarray(a, dtype=None, order=None, *, blocking=False):
    """A device array: `a` itself when it is one (cast if needed), else a copy from the host (counted)."""
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == _np.dtype(dtype) else a.astype(dtype)
    _standin.counters.host_to_device += 1
    _standin.counters.operation("asarray")
    return _wrap(_np.array(a, dtype=dtype, order=order or "K", copy=True))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    """A new device array (always a copy, as CuPy's default); from host data it is a counted copy."""
    _standin.counters.operation("array")
    if isinstance(obj, ndarray):
        return _wrap(_np.array(obj._array, dtype=dtype, copy=True, order=order, ndmin=ndmin))
    _standin.counters.host_to_device += 1
    return _wrap(_np.array(obj, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    """A host copy of a device array (a counted sync); host data comes back as np.asarray(a)."""
    if not isinstance(a, ndarray):
        return _np.asarray(a, order=order)
    return a.get(stream=stream, order=order, out=out, blocking=blocking)


def get_array_module(*args):
    """This module when any argument is a device array, else NumPy."""
    import sys
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else _np


from . import cuda, lib, random  # noqa: E402,F401
