"""Elementwise ops: arithmetic, casts and the functions of one or two arrays, each forward next to its local
gradient."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..backend import get_array_module
from ..autograd import Function


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
    """a ** p for a constant p:  d/da = p a^(p-1)  (0 when p = 0, also at a = 0, as in PyTorch)."""

    def forward(self, a, exponent):
        self.a, self.p = a, exponent
        return a ** exponent

    def backward(self, grad):
        if self.p == 0:
            return get_array_module(grad).zeros_like(grad)
        if self.p == 2:
            return grad * 2 * self.a
        return grad * self.p * self.a ** (self.p - 1)


class Pow(Function):
    """a ** b for tensors:  d/da = b a^(b-1),  d/db = a^b log a; PyTorch's zeros where these read 0 * inf
    (d/da where b = 0, d/db where a = 0 and b >= 0)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, grad):
        xp = get_array_module(self.a)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_a = xp.where(self.b == 0, 0, grad * self.b * self.a ** (self.b - 1))
            grad_b = xp.where((self.a == 0) & (self.b >= 0), 0, grad * self.out * xp.log(self.a))
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
    """max(a, 0):  d/da = 1 where a > 0, else 0."""

    def forward(self, a):
        self.out = get_array_module(a).maximum(a, 0)
        return self.out

    def backward(self, grad):
        return grad * (self.out > 0)


class SigmoidFunction(Function):
    """s(a) = 1 / (1 + e^-a), computed from z = e^-|a| so it never overflows: s = 1 / (1 + z) for a >= 0, and
    z / (1 + z) below.  ds/da = s (1 - s)."""

    def forward(self, a):
        xp = get_array_module(a)
        z = xp.exp(-xp.abs(a))
        self.out = xp.where(a >= 0, 1, z) / (1 + z)
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
