"""The stand-in's `cupy.random`: a Generator with CuPy 14's methods only, and a stream unlike NumPy's.

CuPy's Generator (XORWOW) has no permutation, shuffle or choice, and its state cannot be read or set; so
has this one. Its draws come from NumPy's Philox, so no test can pass by assuming the CPU's stream.
"""
import numpy as _np

from ._standin import _wrap
from ._standin import counters as _counters
from ._standin import device_operand as _device_operand


class Generator:
    def __init__(self, bit_generator):
        self.__rng = _np.random.Generator(bit_generator)

    def random(self, size=None, dtype=_np.float64, out=None):
        return self.__fill(self.__rng.random(size, dtype=_np.dtype(dtype)), out)

    def standard_normal(self, size=None, dtype=_np.float64, out=None):
        return self.__fill(self.__rng.standard_normal(size, dtype=_np.dtype(dtype)), out)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=_np.float64):
        _counters.operation("random.uniform")
        return _wrap(_np.asarray(self.__rng.uniform(_device_operand(low), _device_operand(high), size),
                                 dtype=dtype))

    def integers(self, low, high=None, size=None, dtype=_np.int64, endpoint=False):
        _counters.operation("random.integers")
        return _wrap(_np.asarray(self.__rng.integers(_device_operand(low), _device_operand(high), size,
                                                     dtype=dtype, endpoint=endpoint)))

    @staticmethod
    def __fill(values, out):
        _counters.operation("random")
        if out is None:
            return _wrap(_np.asarray(values))
        out._array[...] = values
        return out


def default_rng(seed=None):
    """A Generator seeded by an int (or None: fresh entropy); CuPy takes no seed sequences."""
    if seed is not None and not isinstance(seed, (int, _np.integer)):
        raise TypeError(f"default_rng: seed must be an int or None, got {type(seed)}")
    return Generator(_np.random.Philox(seed))
