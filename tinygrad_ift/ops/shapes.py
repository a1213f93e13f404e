"""Shape and indexing ops: reshape, permute, broadcast, indexing, concatenation, padding."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..backend import get_array_module
from ..autograd import Function
from ..dtypes import extreme


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


def reduce_into(out, target, values, ufunc) -> None:
    """out[target[k]] = ufunc(out[target[k]], values[k]) for every k, repeated targets included (a 1-D `out`).

    NumPy's ufunc.at does this, but CuPy offers it for few ufuncs; so the values go in rounds, the k-th
    value of each target in round k, and within a round no target repeats (one read-back: the round sizes)."""
    xp = get_array_module(out)
    order = xp.argsort(target)
    ranked = target[order]
    rank = xp.arange(ranked.size) - xp.searchsorted(ranked, ranked, side="left")  # k-th value of its target
    by_round = order[xp.argsort(rank)]
    start = 0
    for size in backend.to_numpy(xp.bincount(rank)).tolist():
        k = by_round[start:start + size]
        out[target[k]] = ufunc(out[target[k]], values[k])
        start += size


class ScatterReduce(Function):
    """out = a with each src value reduced into the place `index` names (sum, prod, mean, amax or amin), as
    torch.scatter_reduce; include_self=False leaves a's values at those places out of the reduction.

    Gradients, at a place p reduced from the members m (a_p too when include_self):
    sum: g_p each;  mean: g_p / count_p each;  prod: g_p × the product of the other members;
    amax/amin: g_p shared equally among the members equal to the result.  An a_p left out gets 0.
    """

    def forward(self, a, src, index, reduce, include_self):
        xp = get_array_module(a)
        target = xp.zeros(index[0].shape if index[0].ndim else (), dtype=np.int64)
        for grid, size in zip(xp.broadcast_arrays(*index), a.shape):  # the flat position each src value goes to
            target = target * size + grid
        self.target, self.src, self.a = target.reshape(-1), src.reshape(-1), a.reshape(-1)
        self.reduce, self.shape, self.src_shape = reduce, a.shape, src.shape
        scattered = xp.zeros(a.size, dtype=bool)
        scattered[self.target] = True
        self.keep_self = xp.ones(a.size, dtype=bool) if include_self else ~scattered  # a's values reduced
        self.members = self.keep_self.astype(np.int64)  # the reduction's size at each place
        backend.scatter_add(self.members, self.target, xp.ones(self.target.shape, dtype=np.int64))
        out = self.a.copy()
        if not include_self:
            xp.copyto(out, _identity(reduce, a.dtype), where=scattered)
        if reduce in ("sum", "mean"):
            backend.scatter_add(out, self.target, self.src)
        else:
            reduce_into(out, self.target, self.src, {"prod": xp.multiply, "amax": xp.maximum,
                                                     "amin": xp.minimum}[reduce])
        if reduce == "mean":
            count = xp.maximum(self.members, 1).astype(a.dtype)
            out = out // count if a.dtype.kind in "iub" else out / count
        self.out = out
        return out.reshape(a.shape)

    def backward(self, grad):
        xp = get_array_module(grad)
        g, keep_self = grad.reshape(-1), self.keep_self
        if self.reduce == "sum":
            grad_a, grad_src = g, g[self.target]
        elif self.reduce == "mean":
            share = g / xp.maximum(self.members, 1)
            grad_a, grad_src = share, share[self.target]
        elif self.reduce == "prod":
            grad_a, grad_src = self._prod_others(xp, g)
        else:  # amax, amin: ties share
            self_wins = (self.a == self.out) & keep_self
            src_wins = self.src == self.out[self.target]
            winners = self_wins.astype(g.dtype)
            backend.scatter_add(winners, self.target, src_wins.astype(g.dtype))
            share = g / xp.maximum(winners, 1)
            grad_a, grad_src = share * self_wins, share[self.target] * src_wins
        return (grad_a * keep_self).reshape(self.shape), grad_src.reshape(self.src_shape)

    def _prod_others(self, xp, g):
        """g times the product of the other members of each place's reduction, exact with one zero member."""
        keep_self = self.keep_self
        zeros = ((self.a == 0) & keep_self).astype(np.int64)
        backend.scatter_add(zeros, self.target, (self.src == 0).astype(np.int64))
        nonzero_product = xp.where((self.a != 0) & keep_self, self.a, 1)
        reduce_into(nonzero_product, self.target, xp.where(self.src != 0, self.src, 1), xp.multiply)

        def others(member, zeros_at, product_at):
            lone_zero = xp.where(zeros_at == 1, product_at, 0)
            without_member = product_at / xp.where(member == 0, 1, member)
            return xp.where(member == 0, lone_zero, xp.where(zeros_at == 0, without_member, 0))
        return (g * others(self.a, zeros, nonzero_product),
                g[self.target] * others(self.src, zeros[self.target], nonzero_product[self.target]))


def _identity(reduce: str, dtype):
    """The value a reduction starts from: 0 for sums, 1 for products, the lowest (highest) for amax (amin)."""
    return {"sum": 0, "mean": 0, "prod": 1}.get(reduce, extreme(dtype, lowest=reduce == "amax"))
