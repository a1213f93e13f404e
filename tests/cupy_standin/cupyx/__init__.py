"""The stand-in's `cupyx` (see cupy/__init__.py): scatter_add, and scipy.special.erf."""
import numpy as _np

from cupy._standin import device_operand as _device_operand


def scatter_add(a, slices, value):
    """a[slices] += value, accumulating repeated indices; device index arrays wrap as CuPy's."""
    from cupy._standin import _device_index, counters
    counters.operation("scatter_add")
    _np.add.at(_device_operand(a), _device_index(slices, a.shape), _device_operand(value))
