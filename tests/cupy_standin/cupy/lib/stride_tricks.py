"""The stand-in's `cupy.lib.stride_tricks.as_strided`: a strided view of a device array."""
from numpy.lib import stride_tricks as _np_stride_tricks

from .._standin import _wrap
from .._standin import device_operand as _device_operand


def as_strided(x, shape=None, strides=None):
    return _wrap(_np_stride_tricks.as_strided(_device_operand(x), shape=shape, strides=strides))
