"""More elementwise math: trigonometric and hyperbolic functions, erf, other bases of exp and log, rounding,
and the two-operand functions (remainder, fmod, copysign, logaddexp, lerp). Forward next to local gradient."""
from __future__ import annotations

import math

from .. import backend
from ..autograd import Function
from ..backend import get_array_module

_LN2, _LN10 = math.log(2), math.log(10)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


# ----- trigonometric and hyperbolic ------------------------------------------------------------------
class Sin(Function):
    """sin a:  d/da = cos a."""

    def forward(self, a):
        self.a = a
        return get_array_module(a).sin(a)

    def backward(self, grad):
        return grad * get_array_module(grad).cos(self.a)


class Cos(Function):
    """cos a:  d/da = -sin a."""

    def forward(self, a):
        self.a = a
        return get_array_module(a).cos(a)

    def backward(self, grad):
        return -grad * get_array_module(grad).sin(self.a)


class Tan(Function):
    """tan a:  d/da = 1 + tan² a."""

    def forward(self, a):
        self.out = get_array_module(a).tan(a)
        return self.out

    def backward(self, grad):
        return grad * (1 + self.out * self.out)


class Asin(Function):
    """arcsin a:  d/da = 1 / sqrt(1 - a²)."""

    def forward(self, a):
        self.a = a
        return get_array_module(a).arcsin(a)

    def backward(self, grad):
        return grad / get_array_module(grad).sqrt(1 - self.a * self.a)


class Acos(Function):
    """arccos a:  d/da = -1 / sqrt(1 - a²)."""

    def forward(self, a):
        self.a = a
        return get_array_module(a).arccos(a)

    def backward(self, grad):
        return -grad / get_array_module(grad).sqrt(1 - self.a * self.a)


class Atan(Function):
    """arctan a:  d/da = 1 / (1 + a²)."""

    def forward(self, a):
        self.a = a
        return get_array_module(a).arctan(a)

    def backward(self, grad):
        return grad / (1 + self.a * self.a)


class Sinh(Function):
    """sinh a:  d/da = cosh a."""

    def forward(self, a):
        self.a = a
        return get_array_module(a).sinh(a)

    def backward(self, grad):
        return grad * get_array_module(grad).cosh(self.a)


class Cosh(Function):
    """cosh a:  d/da = sinh a."""

    def forward(self, a):
        self.a = a
        return get_array_module(a).cosh(a)

    def backward(self, grad):
        return grad * get_array_module(grad).sinh(self.a)


# ----- special functions, exponentials and logarithms in other bases ---------------------------------------
class Erf(Function):
    """erf a = 2/sqrt(pi) ∫_0^a e^(-t²) dt:  d/da = 2/sqrt(pi) e^(-a²)."""

    def forward(self, a):
        self.a = a
        return backend.erf(a).astype(a.dtype, copy=False)

    def backward(self, grad):
        return grad * _TWO_OVER_SQRT_PI * get_array_module(grad).exp(-self.a * self.a)


class Exp2(Function):
    """2^a:  d/da = 2^a ln 2."""

    def forward(self, a):
        self.out = get_array_module(a).exp2(a)
        return self.out

    def backward(self, grad):
        return grad * self.out * _LN2


class Log2(Function):
    """log2 a:  d/da = 1 / (a ln 2)."""

    def forward(self, a):
        self.a = a
        return get_array_module(a).log2(a)

    def backward(self, grad):
        return grad / (self.a * _LN2)


class Log10(Function):
    """log10 a:  d/da = 1 / (a ln 10)."""

    def forward(self, a):
        self.a = a
        return get_array_module(a).log10(a)

    def backward(self, grad):
        return grad / (self.a * _LN10)


class Rsqrt(Function):
    """a^(-1/2):  d/da = -a^(-3/2) / 2."""

    def forward(self, a):
        self.out = 1 / get_array_module(a).sqrt(a)
        return self.out

    def backward(self, grad):
        return grad * -0.5 * self.out * self.out * self.out


# ----- rounding: piecewise constant, so the gradient is 0 wherever it exists (PyTorch's zeros) -------------
class Rounding(Function):
    """floor, ceil, round (half to even), trunc or sign, by name:  d/da = 0."""

    def forward(self, a, mode):
        xp = get_array_module(a)
        return {"floor": xp.floor, "ceil": xp.ceil, "round": xp.round, "trunc": xp.trunc, "sign": xp.sign}[mode](a)

    def backward(self, grad):
        return get_array_module(grad).zeros_like(grad)


class FloorDivide(Function):
    """floor(a / b): piecewise constant in both operands, gradient 0."""

    def forward(self, a, b):
        return get_array_module(a).floor_divide(a, b)

    def backward(self, grad):
        zero = get_array_module(grad).zeros_like(grad)
        return zero, zero


# ----- functions of two operands -------------------------------------------------------------------------
class Remainder(Function):
    """a - b floor(a / b), the sign of b (Python's %):  d/da = 1,  d/db = -floor(a / b)."""

    def forward(self, a, b):
        xp = get_array_module(a)
        self.quotient = xp.floor_divide(a, b)
        return xp.remainder(a, b)

    def backward(self, grad):
        return grad, -grad * self.quotient


class Fmod(Function):
    """a - b trunc(a / b), the sign of a (C's fmod):  d/da = 1,  d/db = -trunc(a / b)."""

    def forward(self, a, b):
        xp = get_array_module(a)
        self.quotient = xp.trunc(a / b)
        return xp.fmod(a, b)

    def backward(self, grad):
        return grad, -grad * self.quotient


class Copysign(Function):
    """|a| with the sign of b:  d/da = sign(a) sign(out) (0 at a = 0),  d/db = 0."""

    def forward(self, a, b):
        xp = get_array_module(a)
        out = xp.copysign(a, b)
        self.slope = xp.sign(a) * xp.sign(out)
        return out

    def backward(self, grad):
        return grad * self.slope, get_array_module(grad).zeros_like(grad)


class LogAddExp(Function):
    """log(e^a + e^b), computed without overflow:  d/da = sigmoid(a - b) = e^(a - out),  d/db = e^(b - out)."""

    def forward(self, a, b):
        xp = get_array_module(a)
        self.a, self.b = a, b
        self.out = xp.logaddexp(a, b)
        return self.out

    def backward(self, grad):
        xp = get_array_module(grad)
        return grad * xp.exp(self.a - self.out), grad * xp.exp(self.b - self.out)


class Lerp(Function):
    """start + weight (end - start):  d/dstart = 1 - weight,  d/dend = weight,  d/dweight = end - start."""

    def forward(self, start, end, weight):
        self.span, self.weight = end - start, weight
        return start + weight * self.span

    def backward(self, grad):
        return grad * (1 - self.weight), grad * self.weight, grad * self.span
