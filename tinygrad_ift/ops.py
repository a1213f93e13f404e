"""Every differentiable operation: the forward math and its local gradient, side by side.

Each `forward` takes raw arrays (NumPy or CuPy) and saves on `self` what its
`backward` needs; `backward(grad)` returns one gradient per input, or None for
an input that takes none. Gradients may keep the broadcast output shape: the
engine sums them back to each input's shape.
"""
from __future__ import annotations

import math

import numpy as np

from . import backend
from .backend import get_array_module
from .batch_blocks import map_slices
from .autograd import Function, unbroadcast


# ----- arithmetic ------------------------------------------------------------------------------------
class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, -grad


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        return grad * self.b, grad * self.a


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, grad):
        grad_a = grad / self.b
        return grad_a, -grad_a * self.a / self.b


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class PowScalar(Function):
    """a ** p for a constant p:  d/da = p a^(p-1)."""

    def forward(self, a, exponent):
        self.a, self.p = a, exponent
        return a ** exponent

    def backward(self, grad):
        if self.p == 2:
            return grad * 2 * self.a
        return grad * self.p * self.a ** (self.p - 1)


class Pow(Function):
    """a ** b for tensors:  d/da = b a^(b-1),  d/db = a^b log a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, grad):
        xp = get_array_module(self.a)
        grad_a = grad * self.b * self.a ** (self.b - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_b = grad * self.out * xp.log(self.a)
        return grad_a, grad_b


class Clone(Function):
    def forward(self, a):
        return a.copy()

    def backward(self, grad):
        return grad


class Cast(Function):
    def forward(self, a, dtype):
        self.dtype_in = a.dtype
        return a.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.dtype_in)


class ToDevice(Function):
    def forward(self, a, device):
        self.source = backend.device_of(a)
        return backend.to_device(a, device)

    def backward(self, grad):
        return backend.to_device(grad, self.source)


# ----- elementwise functions -------------------------------------------------------------------------
class Exp(Function):
    def forward(self, a):
        self.out = get_array_module(a).exp(a)
        return self.out

    def backward(self, grad):
        return grad * self.out


class Log(Function):
    def forward(self, a):
        self.a = a
        return get_array_module(a).log(a)

    def backward(self, grad):
        return grad / self.a


class Sqrt(Function):
    def forward(self, a):
        self.out = get_array_module(a).sqrt(a)
        return self.out

    def backward(self, grad):
        return grad / (2 * self.out)


class Abs(Function):
    def forward(self, a):
        self.a = a
        return get_array_module(a).abs(a)

    def backward(self, grad):
        return grad * get_array_module(self.a).sign(self.a)


class ReLUFunction(Function):
    """max(a, 0):  d/da = 1 where a > 0, else 0. Large arrays go a cache-sized slice at a time on all cores."""

    def forward(self, a):
        xp = get_array_module(a)
        zero = xp.zeros(a.shape[1:], dtype=a.dtype)  # NumPy's maximum is faster against an array than a scalar
        self.out = map_slices(lambda a, out=None: xp.maximum(a, zero, out=out), a)
        return self.out

    def backward(self, grad):
        xp = get_array_module(grad)
        return map_slices(lambda grad, y, out=None: xp.multiply(grad, y > 0, out=out), grad, self.out)


class SigmoidFunction(Function):
    """s(a) = 1 / (1 + e^-a), computed from e^-|a| so it never overflows:  ds/da = s (1 - s)."""

    def forward(self, a):
        xp = get_array_module(a)
        z = xp.exp(-xp.abs(a))
        self.out = xp.where(a >= 0, 1 / (1 + z), z / (1 + z))
        return self.out

    def backward(self, grad):
        return grad * self.out * (1 - self.out)


class TanhFunction(Function):
    def forward(self, a):
        self.out = get_array_module(a).tanh(a)
        return self.out

    def backward(self, grad):
        return grad * (1 - self.out * self.out)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


class GELUFunction(Function):
    """x Φ(x) with Φ the normal CDF (exact, via erf), or PyTorch's tanh approximation of it."""

    def forward(self, a, approximate="none"):
        xp = get_array_module(a)
        self.a, self.approximate = a, approximate
        if approximate == "tanh":
            self.t = xp.tanh(_SQRT_2_OVER_PI * (a + 0.044715 * a ** 3))
            return 0.5 * a * (1 + self.t)
        self.cdf = 0.5 * (1 + backend.erf(a * _INV_SQRT_2))
        return a * self.cdf

    def backward(self, grad):
        xp = get_array_module(self.a)
        a = self.a
        if self.approximate == "tanh":
            dt = (1 - self.t * self.t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a * a)
            return grad * (0.5 * (1 + self.t) + 0.5 * a * dt)
        pdf = _INV_SQRT_2PI * xp.exp(-0.5 * a * a)
        return grad * (self.cdf + a * pdf)


class Maximum(Function):
    """Elementwise max; on ties the gradient is shared equally, as in PyTorch."""

    def forward(self, a, b):
        xp = get_array_module(a)
        self.take_a = _share_of_first(a > b, a == b, out_dtype=xp.result_type(a, b))
        return xp.maximum(a, b)

    def backward(self, grad):
        return grad * self.take_a, grad * (1 - self.take_a)


def _share_of_first(first_wins, tie, out_dtype):
    """1 where the first operand wins, 1/2 on ties, else 0."""
    return (first_wins + 0.5 * tie).astype(out_dtype, copy=False)


class Minimum(Function):
    def forward(self, a, b):
        xp = get_array_module(a)
        self.take_a = _share_of_first(a < b, a == b, out_dtype=xp.result_type(a, b))
        return xp.minimum(a, b)

    def backward(self, grad):
        return grad * self.take_a, grad * (1 - self.take_a)


class Clip(Function):
    """Clamp into [low, high]; the gradient passes where low <= a <= high."""

    def forward(self, a, low=None, high=None):
        xp = get_array_module(a)
        inside = xp.ones(a.shape, dtype=bool)
        if low is not None:
            inside &= a >= low
        if high is not None:
            inside &= a <= high
        self.inside = inside
        return xp.clip(a, low, high)

    def backward(self, grad):
        return grad * self.inside


class Where(Function):
    def forward(self, a, b, condition):
        xp = get_array_module(a)
        self.condition = xp.asarray(condition, dtype=bool)
        return xp.where(self.condition, a, b)

    def backward(self, grad):
        zero = grad.dtype.type(0)
        xp = get_array_module(grad)
        return xp.where(self.condition, grad, zero), xp.where(self.condition, zero, grad)


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


class Max(Function):
    """Maximum over axes; the gradient is shared equally among tied maxima."""

    def forward(self, a, axis=None, keepdims=False):
        self.axis, self.keepdims, self.shape = axis, keepdims, a.shape
        out = a.max(axis=axis, keepdims=True)
        self.mask = a == out
        self.count = self.mask.sum(axis=axis, keepdims=True).astype(a.dtype)
        return out if keepdims else (out.reshape(()) if axis is None else out.squeeze(axis))

    def backward(self, grad):
        grad = _restore_reduced(grad, self.axis, self.keepdims, self.shape)
        return grad * self.mask / self.count


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


# ----- matrix product --------------------------------------------------------------------------------
class MatMul(Function):
    """a @ b with NumPy's rules: 1-D operands are promoted to matrices, batch dims broadcast.

    d/da = g @ b^T,  d/db = a^T @ g, summed over the batch dims each operand was broadcast along.
    """

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
        k_a, k_b = a.shape[-1], (b.shape[0] if b.ndim == 1 else b.shape[-2])
        if k_a != k_b:
            raise ValueError(f"shapes {a.shape} and {b.shape} cannot be multiplied "
                             f"({k_a} columns in the first, {k_b} rows in the second)")
        self.a_shape, self.b_shape = a.shape, b.shape
        self.a = a[None, :] if a.ndim == 1 else a
        self.b = b[:, None] if b.ndim == 1 else b
        out = self.a @ self.b
        self.out_shape = out.shape
        if a.ndim == 1 or b.ndim == 1:  # drop the promoted axes again
            out = out.reshape(out.shape[:-2] + out.shape[-2:-1] * (a.ndim > 1) + out.shape[-1:] * (b.ndim > 1))
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        grad = xp.ascontiguousarray(grad.reshape(self.out_shape))  # BLAS needs real strides, not a broadcast view
        grad_a = (grad @ xp.swapaxes(self.b, -1, -2)).reshape(
            grad.shape[:-2] + self.a.shape[-2:])
        grad_b = (xp.swapaxes(self.a, -1, -2) @ grad).reshape(grad.shape[:-2] + self.b.shape[-2:])
        grad_a = unbroadcast(grad_a, self.a.shape).reshape(self.a_shape)
        grad_b = unbroadcast(grad_b, self.b.shape).reshape(self.b_shape)
        return grad_a, grad_b


# ----- shape operations ------------------------------------------------------------------------------
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
