"""The Tensor API's non-differentiable corners against torch: bitwise and logical operators, special-value
tests, integer division and remainder, casts, rounding of integers, and their errors."""
import numpy as np
import pytest
import torch

import tinygrad_ift as tg

A = np.array([[5, -7, 0], [12, 3, -1]])
B = np.array([[3, 2, 5], [-5, 3, 4]])


def _same(ours, theirs, device=None):
    theirs = theirs if isinstance(theirs, torch.Tensor) else torch.as_tensor(theirs)
    assert device is None or ours.device == device, (ours.device, device)
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
def test_integer_and_boolean_operators_match_torch(fn, device):
    _same(fn(tg.tensor(A, device=device), tg.tensor(B, device=device)), fn(torch.tensor(A), torch.tensor(B)), device)


def test_isnan_isinf_isfinite(device):
    values = [1.0, float("nan"), float("inf"), -float("inf"), 0.0]
    for name in ("isnan", "isinf", "isfinite"):
        _same(getattr(tg.tensor(values, device=device), name)(), getattr(torch.tensor(values), name)(), device)


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
def test_activation_modules_match_torch(name, args, device):
    x = np.linspace(-8, 8, 30).reshape(5, 6) + 0.013  # off every kink
    ours = getattr(tg.nn, name)(*args)(tg.tensor(x, requires_grad=True, device=device))
    assert ours.device == device
    theirs = getattr(torch.nn, name)(*args)(torch.tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


X = np.array([[0.5, -1.0, 2.0, 0.0], [3.0, 0.0, -2.5, 1.5], [0.25, 4.0, -1.0, 2.0]], dtype=np.float32)


@pytest.mark.parametrize("fn", [
    lambda x, lib: x.argsort(1), lambda x, lib: x.argsort(0, descending=True), lambda x, lib: x.sort(1).indices,
    lambda x, lib: x.topk(2, 0).indices, lambda x, lib: x.cummax(1).indices, lambda x, lib: x.cummin(0).indices,
    lambda x, lib: x.kthvalue(2, 1).indices, lambda x, lib: x.median(0, keepdim=True).indices,
    lambda x, lib: x.median(1).indices, lambda x, lib: lib.median(x), lambda x, lib: lib.kthvalue(x, 3, 0).values,
    lambda x, lib: x.nonzero(), lambda x, lib: lib.stack(x.nonzero(as_tuple=True)),
    lambda x, lib: x.any(1), lambda x, lib: (x > 0).all(0), lambda x, lib: (x > 0).any(),
    lambda x, lib: x.isclose(x + 1e-7), lambda x, lib: lib.linspace(-1, 2, 7), lambda x, lib: lib.empty(2, 3) * 0,
    lambda x, lib: lib.tensor(x.allclose(x * (1 + 1e-6))),
    lambda x, lib: lib.tensor([c.shape[1] for c in x.chunk(3, 1)]),
    lambda x, lib: lib.tensor([c.shape[0] for c in lib.arange(10).chunk(4)]),
    lambda x, lib: lib.tensor(5).cumsum(0), lambda x, lib: lib.tensor([[0, 1], [2, 0]]).nonzero(),
    lambda x, lib: lib.tensor(3.0).sort().values, lambda x, lib: lib.tensor([1, 5, 2]).cumprod(0),
    lambda x, lib: lib.zeros(4, dtype=lib.float64).scatter(0, lib.tensor([2, 0]), 7.0),
    *(lambda x, lib, r=reduce, i=include: lib.tensor([[5, -1, 7], [2, 2, 0]]).scatter_reduce(
        1, lib.tensor([[0, 0, 2, 0], [1, 1, 1, 2]]), lib.tensor([[3, 9, 2, -4], [6, 1, 3, 8]]), r, include_self=i)
      for reduce in ("sum", "prod", "mean", "amax", "amin") for include in (True, False)),
])
def test_indices_and_boolean_results_match_torch(fn, tg_on, device):
    ours, theirs = fn(tg_on.tensor(X), tg_on), fn(torch.tensor(X), torch)
    _same(ours, theirs, device)


def test_gather_and_scatter_errors_name_the_op_and_shapes(device):
    """The same errors on a GPU, where CuPy would wrap an out-of-range index around silently."""
    x = tg.zeros(2, 3, device=device)
    with pytest.raises(IndexError, match=r"gather: index values must be in \[0, 3\) for dim 1"):
        x.gather(1, np.array([[0, 3]]))
    with pytest.raises(ValueError, match=r"gather: index has 1 dims, expected as many as the input \(2, 3\)"):
        x.gather(1, np.array([0]))
    with pytest.raises(TypeError, match="index_select: index must hold integers, got dtype float64"):
        x.index_select(0, np.array([0.0]))
    with pytest.raises(TypeError, match="masked_fill: the mask must be boolean"):
        x.masked_fill(np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match=r"topk: k=4 is out of range for dim 1 of size 3"):
        x.topk(4)
    with pytest.raises(ValueError, match=r"kthvalue: k=0 is out of range for dim 1 of size 3"):
        x.kthvalue(0)
    with pytest.raises(ValueError, match="repeat: 1 repeat counts for a tensor of 2 dims"):
        x.repeat(2)
    with pytest.raises(ValueError, match="scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or 'amin'"):
        x.scatter_reduce(1, np.array([[0]]), tg.ones(1, 1, device=device), "max")


def test_flip_takes_dims_as_a_keyword_as_torch(device):
    x_np = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for dims in [(0,), (0, 2), [1, -1]]:
        _same(tg.tensor(x_np, device=device).flip(dims=dims), torch.tensor(x_np).flip(dims=dims), device)
    with pytest.raises(TypeError, match="flip"):
        tg.tensor(x_np, device=device).flip(0, dims=(1,))
