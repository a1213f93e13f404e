"""PyTorch's type promotion, decided here once for every op.

NumPy and PyTorch disagree on mixed dtypes: NumPy turns int64 + float32 into float64 and int / int into
float64, PyTorch gives float32 (its default float dtype) in both cases. Ported code must get PyTorch's
answers, so every op that mixes operands asks `result_type`, and every op that only makes sense in floats
(exp, division, mean, ...) asks `float_dtype`.

PyTorch's rule: order dtypes by category, bool < integer < floating. Tensors with dimensions decide the
result; 0-d tensors count only when their category is higher, and Python numbers only when theirs is
higher still, and then a Python float gives the default float dtype (float32) and a Python int int64.
"""
from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_FLOAT = np.dtype(np.float32)

_BOOL, _INT, _FLOAT, _COMPLEX = range(4)


def category(dtype: np.dtype) -> int:
    """0 for bool, 1 for integers, 2 for floats, 3 for complex."""
    return {"b": _BOOL, "i": _INT, "u": _INT, "f": _FLOAT, "c": _COMPLEX}[np.dtype(dtype).kind]


def _promote(dtypes: list) -> np.dtype:
    """PyTorch's promote_types over several dtypes: the highest category wins outright (int64 with float32 is
    float32, where NumPy says float64); within one category NumPy's rule (widest type) holds."""
    top = max(category(d) for d in dtypes)
    return np.result_type(*(d for d in dtypes if category(d) == top))


def _python_number_dtype(value: Any) -> np.dtype:
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(value, (int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(value, complex):
        return np.dtype(np.complex64)
    return DEFAULT_FLOAT


def result_type(*operands: Any) -> np.dtype:
    """The dtype PyTorch gives an op over these operands (Tensors, arrays or Python numbers; None is skipped)."""
    dims, zero_dims, numbers = [], [], []
    for x in operands:
        if x is None:
            continue
        dtype = getattr(x, "dtype", None)
        if dtype is None or isinstance(x, np.generic):
            numbers.append(_python_number_dtype(x))
        elif x.ndim == 0:
            zero_dims.append(np.dtype(dtype))
        else:
            dims.append(np.dtype(dtype))
    result = None
    for group in (dims, zero_dims):
        if group and (result is None or max(map(category, group)) > category(result)):
            result = _promote(group)
    if numbers and (result is None or max(map(category, numbers)) > category(result)):
        result = _promote(numbers)  # the default dtype of the numbers' category
    return result


def float_dtype(dtype: np.dtype) -> np.dtype:
    """`dtype` if it is floating (or complex), else the default float dtype: what exp(int) or int / int give."""
    dtype = np.dtype(dtype)
    return dtype if category(dtype) >= _FLOAT else DEFAULT_FLOAT


def is_floating(dtype: np.dtype) -> bool:
    return np.dtype(dtype).kind in "fc"


def extreme(dtype: np.dtype, lowest: bool = True):
    """The lowest (or highest) value of `dtype`: what a maximum (minimum) starts from, or pads with, so that
    it never wins (-inf and inf for floats, False and True for bools)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return -np.inf if lowest else np.inf
    if dtype.kind == "b":
        return not lowest
    return np.iinfo(dtype).min if lowest else np.iinfo(dtype).max
