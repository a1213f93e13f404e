"""Where NumPy's answer differs from PyTorch's, ported code must get PyTorch's: dtypes, index order, axes,
min on unsigned/bool, gradients of pow at zero, integer max-pooling, negative padding, clip's bounds.
Every check compares with torch itself, forward and (where differentiable) backward."""
import numpy as np
import pytest
import torch

import tinygrad_ift as tg
import tinygrad_ift.nn.functional as F

INTS = np.array([[1, -2, 3], [4, 5, -6]])


def _same(ours: tg.Tensor, theirs: torch.Tensor, rtol=1e-6, device=None):
    assert device is None or ours.device == device, (ours.device, device)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol)


def _float64_2(x):
    """A 0-d float64 2.0 of x's library, on x's device."""
    if isinstance(x, torch.Tensor):
        return torch.tensor(2.0, dtype=torch.float64)
    return tg.tensor(2.0, dtype=np.float64, device=x.device)


# ----- type promotion ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, fn", [
    ("int + 0.5", lambda x: x + 0.5), ("0.5 - int", lambda x: 0.5 - x), ("int * 2.5", lambda x: x * 2.5),
    ("int / int", lambda x: x / x), ("int / 2", lambda x: x / 2), ("3 / int", lambda x: 3 / x),
    ("exp(int)", lambda x: x.exp()), ("int ** 0.5", lambda x: abs(x) ** 0.5), ("2.0 ** int", lambda x: 2.0 ** x),
    ("tanh(int)", lambda x: x.tanh()), ("sigmoid(int)", lambda x: x.sigmoid()),
    ("logsumexp(int)", lambda x: x.logsumexp(1)),
    ("maximum(int, 0.5)", lambda x: x.maximum(0.5) if isinstance(x, tg.Tensor) else x.clamp(min=0.5)),
    ("clip(int, 0.5)", lambda x: x.clip(0.5) if isinstance(x, tg.Tensor) else x.clamp(0.5)),
    ("int + int32", lambda x: x + x.int() if isinstance(x, torch.Tensor) else x + x.to(dtype=np.int32)),
    ("int32 + 7", lambda x: (x.int() if isinstance(x, torch.Tensor) else x.to(dtype=np.int32)) + 7),
    ("bool + 1", lambda x: (x > 0) + 1), ("int + float32 tensor", lambda x: x + x.float()),
    ("int * float64 0-d", lambda x: x * _float64_2(x)), ("float32 * float64 0-d", lambda x: x.float() * _float64_2(x)),
])
def test_integer_operands_promote_as_in_torch(name, fn, device):
    _same(fn(tg.tensor(INTS, device=device)), fn(torch.tensor(INTS)), device=device)


def test_mean_of_integers_is_default_float(device):
    """torch refuses mean() of integers; we give the float32 mean it would give after .float()."""
    _same(tg.tensor(INTS, device=device).mean(1), torch.tensor(INTS).float().mean(1), device=device)


def test_linear_on_integer_input_gives_float32_and_its_gradients(device):
    w_np = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    w, tw = tg.tensor(w_np, requires_grad=True, device=device), torch.tensor(w_np, requires_grad=True)
    out = F.linear(tg.tensor(INTS, device=device), w)
    expected = torch.nn.functional.linear(torch.tensor(INTS).float(), tw)
    _same(out, expected.detach(), rtol=1e-5, device=device)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-6)


def test_float_gradient_flows_through_a_mixed_dtype_op(device):
    x_np = np.array([0.5, -1.5, 2.0])
    x = tg.tensor(x_np, dtype=np.float64, requires_grad=True, device=device)
    tx = torch.tensor(x_np, requires_grad=True)
    i, ti = tg.tensor([1, 2, 3], device=device), torch.tensor([1, 2, 3])
    for a, b in ((x, i), (tx, ti)):
        ((a * b) / b.sum() + b / a).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    assert x.grad.dtype == np.float64


@pytest.mark.parametrize("value", [4, 4.0, True, -7])
def test_full_infers_dtype_from_the_value(value, device):
    _same(tg.full((2, 3), value, device=device), torch.full((2, 3), value), device=device)


# ----- advanced indexing -------------------------------------------------------------------------------
X = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5) / 7


@pytest.mark.parametrize("make_index", [
    lambda ix: (0, slice(None), ix([2, 0, 2])),
    lambda ix: (ix([1, 0]), slice(None), 1),
    lambda ix: (1, slice(1, 3), ix([[0, 3], [1, 1]]), slice(None)),
    lambda ix: (Ellipsis, 2, ix([4, 0])),
    lambda ix: (0, None, slice(None), ix([1, 1]), 3),
    lambda ix: (ix([0, 1]), slice(None), ix([3, 2]), 0),
    lambda ix: (ix(0), slice(None), ix([3, 2])),
], ids=["int_slice_array", "array_slice_int", "int_slice_2d_array", "ellipsis", "none", "two_arrays_and_int",
        "0d_array_counts_as_int"])
def test_mixed_integer_and_array_indices_give_torchs_dimension_order(make_index, device):
    x, tx = tg.tensor(X, requires_grad=True, device=device), torch.tensor(X, requires_grad=True)
    out = x[make_index(lambda v: np.asarray(v))]
    expected = tx[make_index(lambda v: torch.as_tensor(v))]
    _same(out.detach(), expected.detach(), device=device)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * tg.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


# ----- axes: 0-d tensors and out-of-range dims ---------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda t: t.sum(0), lambda t: t.sum(-1), lambda t: t.mean(0), lambda t: t.max(0).values,
    lambda t: t.logsumexp(0), lambda t: t.squeeze(0), lambda t: t.squeeze(-1),
    lambda t: t.unsqueeze(-1), lambda t: t.softmax(0), lambda t: t.sum(0, True) if isinstance(t, tg.Tensor)
    else t.sum(0, keepdim=True),
], ids=["sum0", "sum-1", "mean0", "max0", "logsumexp0", "squeeze0", "squeeze-1", "unsqueeze-1", "softmax0",
        "sum0_keep"])
def test_dims_0_and_minus_1_of_a_0d_tensor(fn, device):
    x, tx = tg.tensor(1.5, requires_grad=True, device=device), torch.tensor(1.5, requires_grad=True)
    out, expected = fn(x), fn(tx)
    _same(out.detach(), expected.detach(), device=device)
    out.backward()
    expected.backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("name, fn", [
    ("squeeze", lambda t: t.squeeze(6)), ("squeeze", lambda t: t.squeeze(-5)),
    ("unsqueeze", lambda t: t.unsqueeze(5)), ("unsqueeze", lambda t: t.unsqueeze(-6)),
    ("stack", lambda t: (tg if isinstance(t, tg.Tensor) else torch).stack([t, t], 5)),
    ("cat", lambda t: (tg if isinstance(t, tg.Tensor) else torch).cat([t, t], 4)),
    ("cat", lambda t: (tg if isinstance(t, tg.Tensor) else torch).cat([t, t], -5)),
    ("sum", lambda t: t.sum(4)), ("transpose", lambda t: t.transpose(0, 4)), ("softmax", lambda t: t.softmax(4)),
])
def test_out_of_range_dims_raise_as_in_torch(name, fn, device):
    with pytest.raises(IndexError):
        fn(torch.zeros(2, 1, 3, 1))
    with pytest.raises(IndexError, match=f"{name}: dim -?\\d is out of range for [45] dims"):
        fn(tg.zeros(2, 1, 3, 1, device=device))


# ----- min on unsigned and bool, pow's gradients at zero -----------------------------------------------
@pytest.mark.parametrize("dtype", ["uint8", "bool", "int16"])
def test_min_on_unsigned_and_bool(dtype, device):
    data = np.array([[3, 0, 200], [7, 1, 255]]).astype(dtype)
    ours, theirs = tg.tensor(data, device=device), torch.tensor(data)
    _same(ours.min(), theirs.min(), device=device)
    _same(ours.amin(1), theirs.amin(1), device=device)
    _same(ours.amax(0), theirs.amax(0), device=device)
    for mine, expected in zip(ours.min(1), theirs.min(1)):
        _same(mine, expected, device=device)


TIES = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 0.0, 2.0], [-1.0, -1.0, -1.0, 5.0]])


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(1, False), (0, True), (-1, True), (-2, False)])
def test_max_and_min_along_a_dim_return_values_and_indices_as_torch(name, dim, keepdim, device):
    """x.max(1)[0] is the values, as ported code expects; with ties the index (and the gradient) is the first."""
    x, tx = tg.tensor(TIES, requires_grad=True, device=device), torch.tensor(TIES, requires_grad=True)
    out, expected = getattr(x, name)(dim, keepdim=keepdim), getattr(tx, name)(dim, keepdim=keepdim)
    assert isinstance(out, tg.ValuesIndices) and out._fields == ("values", "indices")
    values, indices = out  # unpacks as a pair, as torch's
    assert values.device == device and indices.device == device and not indices.requires_grad
    _same(out[0].detach(), expected[0].detach())
    _same(indices, expected.indices)
    weights = np.random.default_rng(4).standard_normal(values.shape)
    (values * tg.tensor(weights, device=device)).sum().backward()
    (expected.values * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_max_and_min_forms_as_torch(device):
    x, tx = tg.tensor(TIES, device=device), torch.tensor(TIES)
    _same(x.max(), tx.max())  # no dim: a 0-d tensor
    _same(tg.max(x, 1)[0], torch.max(tx, 1)[0])
    _same(tg.min(x, dim=0, keepdim=True).indices, torch.min(tx, dim=0, keepdim=True).indices)
    _same(tg.max(x, x.flip(0)), torch.max(tx, tx.flip(0)))  # of two tensors: elementwise
    _same(tg.min(x, x * 0), torch.min(tx, tx * 0))
    _same(x.amax((0, 1), keepdim=True), tx.amax((0, 1), keepdim=True))
    _same(x.amin(()), tx.amin(()))
    scalar = tg.tensor(2.5, device=device).max(0)
    _same(scalar.values, torch.tensor(2.5).max(0).values)
    _same(scalar.indices, torch.tensor(2.5).max(0).indices)
    _same(tg.tensor([[True, False]], device=device).max(1).indices, torch.tensor([[True, False]]).max(1).indices)


def test_max_errors_name_the_op():
    with pytest.raises(TypeError, match=r"max: dim must be an int, got \(0, 1\); amax/amin reduce several dims"):
        tg.zeros(2, 3).max((0, 1))
    with pytest.raises(TypeError, match="min: keepdim needs a dim"):
        tg.zeros(2, 3).min(keepdim=True)
    with pytest.raises(IndexError, match=r"max: dim 1 of shape \(2, 0\) is empty"):
        tg.zeros(2, 0).max(1)
    with pytest.raises(IndexError, match="min: dim 2 is out of range for 2 dims"):
        tg.zeros(2, 3).min(2)


@pytest.mark.parametrize("case", ["x**0 at 0", "0**0", "0**b", "x**b"])
def test_pow_gradients_at_zero_match_torch(case, tg_on):
    base = {"x**0 at 0": [0.0, 1.5], "0**0": [0.0], "0**b": [0.0, 0.0, 0.0], "x**b": [0.0, 2.0, 0.0]}[case]
    exponent = {"x**0 at 0": 0.0, "0**0": [0.0], "0**b": [0.0, 1.0, 2.5], "x**b": [2.0, -1.0, 0.0]}[case]
    grads = []
    for lib in (tg_on, torch):
        a = lib.tensor(base, requires_grad=True, dtype=lib.float64)
        b = exponent if isinstance(exponent, float) else lib.tensor(exponent, requires_grad=True, dtype=lib.float64)
        (a ** b).sum().backward()
        grads.append([a.grad.numpy()] + ([] if isinstance(exponent, float) else [b.grad.numpy()]))
    for ours, theirs in zip(*grads):
        np.testing.assert_array_equal(ours, theirs)
    assert np.isfinite(np.concatenate(grads[0])).all()


# ----- pooling, padding, clip --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int64", "uint8", "int32"])
def test_max_pool2d_on_integers_with_padding(dtype, device):
    data = (np.arange(32) * 7 % 23).reshape(1, 2, 4, 4).astype(dtype)
    _same(F.max_pool2d(tg.tensor(data, device=device), 3, stride=2, padding=1),
          torch.nn.functional.max_pool2d(torch.tensor(data), 3, stride=2, padding=1), device=device)


@pytest.mark.parametrize("widths", [(-1, 0), (0, -2), (-1, 2, 1, -1), (2, -3, -1, -1), (-1, -1, 0, 0, 1, 0)])
def test_negative_pad_widths_crop(widths, device):
    x_np = np.random.default_rng(2).standard_normal((3, 4, 5))
    x, tx = tg.tensor(x_np, requires_grad=True, device=device), torch.tensor(x_np, requires_grad=True)
    out, expected = tg.pad(x, widths, value=0.25), torch.nn.functional.pad(tx, widths, value=0.25)
    _same(out.detach(), expected.detach(), device=device)
    weights = np.random.default_rng(3).standard_normal(out.shape)
    (out * tg.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_pad_cropping_more_than_the_input_raises():
    with pytest.raises(ValueError, match=r"pad: widths \(-3, -3\) crop more than the input's shape \(2, 5\)"):
        tg.pad(tg.zeros(2, 5), (-3, -3))


def test_clip_without_bounds_raises():
    with pytest.raises(RuntimeError):
        torch.zeros(3).clamp(None, None)
    with pytest.raises(ValueError, match="clip: at least one of min and max"):
        tg.zeros(3).clip(None, None)


# ----- PyTorch's keyword names ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x, lib: x.sum(dim=1, keepdim=True), lambda x, lib: x.mean(dim=(0, 1)), lambda x, lib: x.softmax(dim=0),
    lambda x, lib: x.log_softmax(dim=-1), lambda x, lib: x.argmax(dim=1, keepdim=True),
    lambda x, lib: x.var(dim=1, keepdim=True, correction=0), lambda x, lib: x.cumsum(dim=1),
    lambda x, lib: x.sort(dim=0).values, lambda x, lib: x.topk(2, dim=1).indices,
    lambda x, lib: x.unsqueeze(dim=0).squeeze(dim=0), lambda x, lib: lib.cat([x, x], dim=1),
    lambda x, lib: lib.stack([x, x], dim=2), lambda x, lib: x.roll(1, dims=0), lambda x, lib: lib.sum(x, dim=0),
    lambda x, lib: x.logsumexp(dim=1, keepdim=True), lambda x, lib: x.prod(dim=1),
    lambda x, lib: x.amax(dim=1), lambda x, lib: x.max(dim=1).values, lambda x, lib: x.min(dim=0, keepdim=True).indices,
])
def test_pytorch_keyword_names_dim_and_keepdim(fn, tg_on, device):
    data = np.array([[1.0, -2.0, 3.5], [0.5, 4.0, -1.0]], dtype=np.float32)
    _same(fn(tg_on.tensor(data), tg_on), fn(torch.tensor(data), torch), rtol=1e-6, device=device)
