"""The Tensor API's non-differentiable corners against torch: bitwise and logical operators, special-value
tests, integer division and remainder, casts, rounding of integers, and their errors."""
import numpy as np
import pytest
import torch

import tinygrad_ift as tg

A = np.array([[5, -7, 0], [12, 3, -1]])
B = np.array([[3, 2, 5], [-5, 3, 4]])


def _same(ours, theirs):
    theirs = theirs if isinstance(theirs, torch.Tensor) else torch.as_tensor(theirs)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("fn", [
    lambda a, b: a & b, lambda a, b: a | b, lambda a, b: a ^ b, lambda a, b: ~a, lambda a, b: a & 6,
    lambda a, b: 6 | a, lambda a, b: (a > 0) & (b > 0), lambda a, b: ~(a > 0), lambda a, b: a.abs() << 2,
    lambda a, b: a.abs() >> 1, lambda a, b: a.logical_and(b), lambda a, b: a.logical_or(b > 3),
    lambda a, b: a.logical_xor(b), lambda a, b: a.logical_not(), lambda a, b: a.bitwise_xor(b),
    lambda a, b: a // b, lambda a, b: a % b, lambda a, b: 7 // b, lambda a, b: -7 % b,
    lambda a, b: a.div(b, rounding_mode="trunc"), lambda a, b: a.div(b, rounding_mode="floor"),
    lambda a, b: a.fmod(b), lambda a, b: a.remainder(b), lambda a, b: a.floor(), lambda a, b: a.round(),
    lambda a, b: a.sign(), lambda a, b: a.int(), lambda a, b: a.bool(), lambda a, b: a.half(),
    lambda a, b: a.float().div(b, rounding_mode="trunc"),
])
def test_integer_and_boolean_operators_match_torch(fn):
    _same(fn(tg.tensor(A), tg.tensor(B)), fn(torch.tensor(A), torch.tensor(B)))


def test_isnan_isinf_isfinite():
    values = [1.0, float("nan"), float("inf"), -float("inf"), 0.0]
    for name in ("isnan", "isinf", "isfinite"):
        _same(getattr(tg.tensor(values), name)(), getattr(torch.tensor(values), name)())


def test_bitwise_on_floats_names_the_operation_and_dtypes():
    with pytest.raises(TypeError, match=r"bitwise_and: needs integer or boolean tensors, got dtypes \[dtype\('float32'\)"):
        tg.tensor([1.0]) & tg.tensor([1])
    with pytest.raises(ValueError, match="div: rounding_mode must be"):
        tg.tensor([1.0]).div(2, rounding_mode="ceil")


@pytest.mark.parametrize("name, args", [
    ("LeakyReLU", (0.1,)), ("ELU", (0.5,)), ("SELU", ()), ("CELU", (2.0,)), ("SiLU", ()), ("Mish", ()),
    ("Softplus", (1.5, 3.0)), ("Hardtanh", (-0.5, 2.0)), ("ReLU6", ()), ("Hardsigmoid", ()), ("Hardswish", ()),
    ("LogSigmoid", ()), ("Softsign", ()), ("Softmin", (1,)), ("LogSoftmax", (0,)),
])
def test_activation_modules_match_torch(name, args):
    x = np.linspace(-8, 8, 30).reshape(5, 6) + 0.013  # off every kink
    ours = getattr(tg.nn, name)(*args)(tg.tensor(x, requires_grad=True))
    theirs = getattr(torch.nn, name)(*args)(torch.tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
