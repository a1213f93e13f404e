"""Reductions (sum, mean, max, logsumexp) and softmax along an axis: forward next to local gradient."""
from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module
from ..autograd import Function


# ----- reductions ------------------------------------------------------------------------------------
def _restore_reduced(grad, axis, keepdims, shape):
    """Give a reduced gradient back its size-1 axes so that it broadcasts against the input."""
    if keepdims or axis is None:
        return grad.reshape([1] * len(shape)) if axis is None else grad
    xp = get_array_module(grad)
    return xp.expand_dims(grad, axis)


class Sum(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        return a.sum(axis=axis, keepdims=keepdims)

    def backward(self, grad):
        xp = get_array_module(grad)
        return xp.broadcast_to(_restore_reduced(grad, self.axis, self.keepdims, self.shape), self.shape)


class Mean(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        self.count = a.size if axis is None else math.prod(a.shape[i] for i in axis)
        return a.mean(axis=axis, keepdims=keepdims)

    def backward(self, grad):
        xp = get_array_module(grad)
        grad = _restore_reduced(grad, self.axis, self.keepdims, self.shape) / self.count
        return xp.broadcast_to(grad, self.shape)


class Prod(Function):
    """Π a over axes:  d/da_j = the product of all the others, computed as the product of the elements before j
    times the product of those after it (exact when some a_j is 0, unlike out / a_j)."""

    def forward(self, a, axis=None, keepdims=False):
        xp = get_array_module(a)
        self.a, self.axis, self.keepdims = a, axis, keepdims
        return xp.prod(a, axis=axis, keepdims=keepdims)

    def backward(self, grad):
        xp = get_array_module(grad)
        a = self.a
        axes = tuple(range(a.ndim)) if self.axis is None else self.axis
        kept = [d for d in range(a.ndim) if d not in axes]
        flat = xp.transpose(a, kept + list(axes)).reshape([a.shape[d] for d in kept] + [-1])
        ones = xp.ones(flat.shape[:-1] + (1,), dtype=a.dtype)
        before = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
        others = (before * after).reshape([a.shape[d] for d in kept] + [a.shape[d] for d in axes])
        others = xp.transpose(others, list(np.argsort(kept + list(axes))))
        return _restore_reduced(grad, self.axis, self.keepdims, a.shape) * others


class Max(Function):
    """Maximum over axes; the gradient is shared equally among tied maxima."""

    reduce = "max"

    def forward(self, a, axis=None, keepdims=False):
        self.axis, self.keepdims, self.shape = axis, keepdims, a.shape
        out = getattr(a, self.reduce)(axis=axis, keepdims=True)
        self.mask = a == out
        self.count = self.mask.sum(axis=axis, keepdims=True).astype(a.dtype)
        return out if keepdims else (out.reshape(()) if axis is None else out.squeeze(axis))

    def backward(self, grad):
        grad = _restore_reduced(grad, self.axis, self.keepdims, self.shape)
        return grad * self.mask / self.count


class Min(Max):
    """Minimum over axes (computed directly: -max(-a) is wrong on unsigned and boolean arrays)."""

    reduce = "min"


class LogSumExp(Function):
    """log Σ e^a, shifted by the max so that logits of 1e5 stay finite:  d/da = softmax(a)."""

    def forward(self, a, axis=None, keepdims=False):
        xp = get_array_module(a)
        self.axis, self.keepdims, self.shape = axis, keepdims, a.shape
        shift = a.max(axis=axis, keepdims=True)
        exp = xp.exp(a - shift)
        total = exp.sum(axis=axis, keepdims=True)
        self.softmax = exp / total
        out = xp.log(total) + shift
        return out if keepdims else (out.reshape(()) if axis is None else out.squeeze(axis))

    def backward(self, grad):
        return _restore_reduced(grad, self.axis, self.keepdims, self.shape) * self.softmax


class SoftmaxFunction(Function):
    """e^(a - max) / Σ e^(a - max):  the vector-Jacobian product is s (g - Σ g s)."""

    def forward(self, a, axis=-1):
        xp = get_array_module(a)
        self.axis = axis
        exp = xp.exp(a - a.max(axis=axis, keepdims=True))
        self.out = exp / exp.sum(axis=axis, keepdims=True)
        return self.out

    def backward(self, grad):
        s = self.out
        return s * (grad - (grad * s).sum(axis=self.axis, keepdims=True))


class LogSoftmaxFunction(Function):
    """a - logsumexp(a):  the vector-Jacobian product is g - softmax(a) Σ g."""

    def forward(self, a, axis=-1):
        xp = get_array_module(a)
        self.axis = axis
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        self.out = out
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        return grad - xp.exp(self.out) * grad.sum(axis=self.axis, keepdims=True)
