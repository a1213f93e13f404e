"""Cumulative ops along one axis (cumsum, cumprod, logcumsumexp) and the running-extremum indices that
cummax/cummin gather with: forward next to local gradient."""
from __future__ import annotations

from ..autograd import Function
from ..backend import get_array_module


def _reverse_cumsum(xp, a, axis):
    """out_i = Σ_{j >= i} a_j: how the gradient of a prefix sum flows back."""
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)


class CumSum(Function):
    """out_i = Σ_{j <= i} a_j:  d/da_j = Σ_{i >= j} g_i."""

    def forward(self, a, axis):
        self.axis = axis
        return get_array_module(a).cumsum(a, axis=axis)

    def backward(self, grad):
        return _reverse_cumsum(get_array_module(grad), grad, self.axis)


class CumProd(Function):
    """out_i = Π_{j <= i} a_j:  d/da_j = Σ_{i >= j} g_i out_i / a_j, written without the division (exact with
    zeros in a): moving a_j's factor out of each prefix product costs one pass per position."""

    def forward(self, a, axis):
        xp = get_array_module(a)
        self.a, self.axis = a, axis
        self.out = xp.cumprod(a, axis=axis)
        return self.out

    def backward(self, grad):
        xp = get_array_module(grad)
        a = xp.moveaxis(self.a, self.axis, -1)
        g = xp.moveaxis(xp.broadcast_to(grad, self.out.shape), self.axis, -1)
        if (a != 0).all():
            out = xp.moveaxis(self.out, self.axis, -1)
            return xp.moveaxis(_reverse_cumsum(xp, g * out, -1) / a, -1, self.axis)
        result = xp.empty_like(g)
        for j in range(a.shape[-1]):  # prefix products with a_j replaced by 1, from position j on
            without_j = a.copy()
            without_j[..., j] = 1
            result[..., j] = (g[..., j:] * xp.cumprod(without_j, axis=-1)[..., j:]).sum(axis=-1)
        return xp.moveaxis(result, -1, self.axis)


class LogCumSumExp(Function):
    """out_i = log Σ_{j <= i} e^(a_j), shifted by the max:  d/da_j = Σ_{i >= j} g_i e^(a_j - out_i)."""

    def forward(self, a, axis):
        xp = get_array_module(a)
        self.a, self.axis = a, axis
        shift = a.max(axis=axis, keepdims=True) if a.size else 0
        self.shift = shift
        self.out = xp.log(xp.cumsum(xp.exp(a - shift), axis=axis)) + shift
        return self.out

    def backward(self, grad):
        xp = get_array_module(grad)
        weighted = grad * xp.exp(self.shift - self.out)
        return xp.exp(self.a - self.shift) * _reverse_cumsum(xp, weighted, self.axis)


def running_extremum_index(xp, a, axis, largest: bool):
    """For each position, the index of the max (min) so far, the last one on ties (as torch.cummax/cummin)."""
    best = (xp.maximum if largest else xp.minimum).accumulate(a, axis=axis)
    shape = [1] * a.ndim
    shape[axis] = a.shape[axis]
    positions = xp.arange(a.shape[axis]).reshape(shape)
    return xp.maximum.accumulate(xp.where(a == best, positions, 0), axis=axis)
