"""Activation functions beyond ReLU, sigmoid, tanh and GELU (those are in elementwise.py): forward next to
local gradient. PyTorch's constants and conventions (the gradient at a kink is the one PyTorch uses)."""
from __future__ import annotations

from ..autograd import Function
from ..backend import get_array_module


class LeakyReLUFunction(Function):
    """a if a > 0 else slope a:  d/da = 1 or slope."""

    def forward(self, a, negative_slope):
        xp = get_array_module(a)
        self.slope = xp.where(a > 0, a.dtype.type(1), a.dtype.type(negative_slope))
        return a * self.slope

    def backward(self, grad):
        return grad * self.slope


class ELUFunction(Function):
    """scale (a if a > 0 else alpha (e^(a input_scale) - 1)): ELU, and SELU and CELU by their constants.
    d/da = scale, or scale alpha input_scale e^(a input_scale)."""

    def forward(self, a, alpha=1.0, scale=1.0, input_scale=1.0):
        xp = get_array_module(a)
        self.positive = a > 0
        self.exp = xp.exp(xp.minimum(a, 0) * input_scale)  # clamped: e^a of a large positive a is not used
        self.scale, self.negative_slope = scale, scale * alpha * input_scale
        return xp.where(self.positive, scale * a, scale * alpha * (self.exp - 1)).astype(a.dtype, copy=False)

    def backward(self, grad):
        xp = get_array_module(grad)
        return grad * xp.where(self.positive, self.scale, self.negative_slope * self.exp)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _softplus(xp, a):
    """log(1 + e^a) without overflow: max(a, 0) + log1p(e^-|a|)."""
    return xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a)))


def _sigmoid(xp, a):
    z = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + z), z / (1 + z))


class SiLUFunction(Function):
    """a sigmoid(a):  d/da = s + a s (1 - s)."""

    def forward(self, a):
        self.a, self.s = a, _sigmoid(get_array_module(a), a)
        return a * self.s

    def backward(self, grad):
        return grad * self.s * (1 + self.a * (1 - self.s))


class MishFunction(Function):
    """a tanh(softplus(a)):  d/da = t + a (1 - t²) sigmoid(a), t = tanh(softplus(a))."""

    def forward(self, a):
        xp = get_array_module(a)
        self.a = a
        self.t = xp.tanh(_softplus(xp, a))
        return a * self.t

    def backward(self, grad):
        xp = get_array_module(grad)
        return grad * (self.t + self.a * (1 - self.t * self.t) * _sigmoid(xp, self.a))


class SoftplusFunction(Function):
    """log(1 + e^(beta a)) / beta, and a itself where beta a > threshold:  d/da = sigmoid(beta a) (or 1)."""

    def forward(self, a, beta=1.0, threshold=20.0):
        xp = get_array_module(a)
        z = a * beta
        self.linear = z > threshold
        self.slope = _sigmoid(xp, z)
        return xp.where(self.linear, a, _softplus(xp, z) / beta).astype(a.dtype, copy=False)

    def backward(self, grad):
        return grad * get_array_module(grad).where(self.linear, 1, self.slope)


class HardtanhFunction(Function):
    """a clamped into [min_val, max_val]:  d/da = 1 strictly inside, 0 outside and at the edges (PyTorch)."""

    def forward(self, a, min_val=-1.0, max_val=1.0):
        xp = get_array_module(a)
        self.inside = (a > min_val) & (a < max_val)
        return xp.clip(a, min_val, max_val)

    def backward(self, grad):
        return grad * self.inside


class HardsigmoidFunction(Function):
    """relu6(a + 3) / 6:  d/da = 1/6 strictly between -3 and 3, else 0."""

    def forward(self, a):
        xp = get_array_module(a)
        self.inside = (a > -3) & (a < 3)
        return xp.clip(a + 3, 0, 6) / 6

    def backward(self, grad):
        return grad * self.inside / 6


class HardswishFunction(Function):
    """a relu6(a + 3) / 6:  d/da = 0 below -3, (2a + 3) / 6 up to 3, 1 above (PyTorch's choice at the edges)."""

    def forward(self, a):
        xp = get_array_module(a)
        self.slope = xp.where(a < -3, 0, xp.where(a <= 3, a / 3 + 0.5, 1)).astype(a.dtype, copy=False)
        return a * xp.clip(a + 3, 0, 6) / 6

    def backward(self, grad):
        return grad * self.slope


class LogSigmoidFunction(Function):
    """log sigmoid(a) = -softplus(-a), never overflowing:  d/da = 1 - sigmoid(a) = sigmoid(-a)."""

    def forward(self, a):
        xp = get_array_module(a)
        self.slope = _sigmoid(xp, -a)
        return -_softplus(xp, -a)

    def backward(self, grad):
        return grad * self.slope


class SoftsignFunction(Function):
    """a / (1 + |a|):  d/da = 1 / (1 + |a|)²."""

    def forward(self, a):
        self.denominator = 1 + get_array_module(a).abs(a)
        return a / self.denominator

    def backward(self, grad):
        return grad / (self.denominator * self.denominator)
