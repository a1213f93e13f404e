"""Shape and indexing ops: reshape, permute, broadcast, indexing, concatenation, padding."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..backend import get_array_module
from ..autograd import Function


class Reshape(Function):
    def forward(self, a, shape):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.shape)


class Permute(Function):
    def forward(self, a, dims):
        self.inverse = tuple(np.argsort(dims))
        return a.transpose(dims)

    def backward(self, grad):
        return grad.transpose(self.inverse)


class Expand(Function):
    def forward(self, a, shape):
        return get_array_module(a).broadcast_to(a, shape)

    def backward(self, grad):
        return grad  # the engine sums the broadcast dims back


class GetItem(Function):
    """Indexing: slices, integer arrays and boolean masks.

    Backward scatters the gradient into zeros; integer arrays may repeat an
    index, so that case accumulates with an unbuffered scatter-add.
    """

    def forward(self, a, index):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, grad):
        xp = get_array_module(grad)
        out = xp.zeros(self.shape, dtype=grad.dtype)
        if _has_integer_array(self.index):
            backend.scatter_add(out, self.index, grad)
        else:
            out[self.index] = grad
        return out


def _has_integer_array(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(p, "dtype") and p.dtype.kind in "iu" for p in parts)


class Concat(Function):
    def forward(self, *arrays, axis=0):
        xp = get_array_module(arrays[0])
        self.axis = axis
        self.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return xp.concatenate(arrays, axis=axis)

    def backward(self, grad):
        xp = get_array_module(grad)
        return tuple(xp.split(grad, self.bounds, axis=self.axis))


class Pad(Function):
    def forward(self, a, widths, value=0.0):
        xp = get_array_module(a)
        self.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
        return xp.pad(a, widths, mode="constant", constant_values=value)

    def backward(self, grad):
        return grad[self.crop]


class Scatter(Function):
    """out = a with src written at index (or added there, if accumulate); index is a full tuple of arrays.

    d/da = grad where nothing was written (all of grad when adding),  d/dsrc = grad at the written places.
    """

    def forward(self, a, src, index, accumulate=False):
        self.index, self.accumulate = index, accumulate
        out = a.copy()
        if accumulate:
            backend.scatter_add(out, index, src)
        else:
            out[index] = src
        return out

    def backward(self, grad):
        grad_src = grad[self.index]
        if self.accumulate:
            return grad, grad_src
        grad_a = grad.copy()
        grad_a[self.index] = 0
        return grad_a, grad_src


class Flip(Function):
    """Reverse the order along `axes`; its own inverse, so the gradient flips back."""

    def forward(self, a, axes):
        self.axes = axes
        return get_array_module(a).flip(a, axes)

    def backward(self, grad):
        return get_array_module(grad).flip(grad, self.axes)


class Roll(Function):
    """Shift cyclically by `shifts` along `axes`; the gradient shifts back."""

    def forward(self, a, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return get_array_module(a).roll(a, shifts, axes)

    def backward(self, grad):
        return get_array_module(grad).roll(grad, tuple(-s for s in self.shifts), self.axes)


class Tile(Function):
    """Repeat the whole array `reps[i]` times along dim i (torch's repeat):  d/da = the sum over the copies."""

    def forward(self, a, reps):
        self.shape, self.reps = a.shape, reps
        return get_array_module(a).tile(a, reps)

    def backward(self, grad):
        shape = (1,) * (len(self.reps) - len(self.shape)) + self.shape
        split = [n for rep, size in zip(self.reps, shape) for n in (rep, size)]  # (r0, s0, r1, s1, ...)
        return grad.reshape(split).sum(axis=tuple(range(0, 2 * len(shape), 2))).reshape(self.shape)
