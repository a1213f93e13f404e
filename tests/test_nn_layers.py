"""Every layer and functional op: gradcheck in float64, and PyTorch parity (outputs and all gradients, float32).

Parity copies the torch layer's weights into ours by name through state_dict, then compares the outputs and
the gradients of the input and of every parameter, in train and eval mode.
"""
from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_ift as tg
import tinygrad_ift.nn.functional as F
from tinygrad_ift import nn

SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def as64(module: nn.Module) -> nn.Module:
    return module.double()


def check_parity(ours: nn.Module, theirs: torch.nn.Module, x: np.ndarray, train: bool = True,
                 atol: float = 1e-5, rtol: float = 1e-4, steps: int = 1):
    """Same weights, same input: outputs, input gradient and parameter gradients agree (and buffers)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours.train(train)
    theirs.train(train)
    weights = np.random.default_rng(1).standard_normal
    for _ in range(steps):
        mine = tg.Tensor(x, requires_grad=True)
        ref = torch.tensor(x, requires_grad=True)
        out, expected = ours(mine), theirs(ref)
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=atol, rtol=rtol)
        w = weights(out.shape).astype(np.float32)
        ours.zero_grad()
        theirs.zero_grad()
        (out * tg.Tensor(w)).sum().backward()
        (expected * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), atol=atol * 10, rtol=rtol * 10)
        torch_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), torch_params[name].grad.numpy(), atol=atol * 10,
                                       rtol=rtol * 10, err_msg=name)
    torch_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value.numpy(), torch_state[name].numpy(), atol=atol, rtol=rtol, err_msg=name)


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ----- PyTorch parity, one row per layer --------------------------------------------------------------
PARITY = [
    ("linear", lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (4, 5)),
    ("linear_nobias_3d", lambda: nn.Linear(5, 3, bias=False), lambda: torch.nn.Linear(5, 3, bias=False), (2, 4, 5)),
    ("conv2d", lambda: nn.Conv2d(3, 4, 3, padding=1), lambda: torch.nn.Conv2d(3, 4, 3, padding=1), (2, 3, 6, 6)),
    ("conv2d_stride_dil", lambda: nn.Conv2d(2, 4, (3, 2), stride=2, padding=(2, 1), dilation=(2, 1)),
     lambda: torch.nn.Conv2d(2, 4, (3, 2), stride=2, padding=(2, 1), dilation=(2, 1)), (2, 2, 9, 7)),
    ("conv2d_groups", lambda: nn.Conv2d(4, 6, 3, groups=2, bias=False),
     lambda: torch.nn.Conv2d(4, 6, 3, groups=2, bias=False), (2, 4, 5, 5)),
    ("maxpool", lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), (2, 3, 6, 6)),
    ("maxpool_pad_stride", lambda: nn.MaxPool2d(3, stride=2, padding=1),
     lambda: torch.nn.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 7)),
    ("avgpool", lambda: nn.AvgPool2d(3, stride=2, padding=1),
     lambda: torch.nn.AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 7)),
    ("avgpool_exclude_pad", lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
     lambda: torch.nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 2, 6, 6)),
    ("adaptive_avg_1x1", lambda: nn.AdaptiveAvgPool2d(1), lambda: torch.nn.AdaptiveAvgPool2d(1), (2, 3, 4, 4)),
    ("adaptive_avg_uneven", lambda: nn.AdaptiveAvgPool2d((3, 2)), lambda: torch.nn.AdaptiveAvgPool2d((3, 2)),
     (2, 3, 7, 5)),
    ("adaptive_max_3x3_to_4x4", lambda: nn.AdaptiveMaxPool2d((4, 4)), lambda: torch.nn.AdaptiveMaxPool2d((4, 4)),
     (2, 3, 3, 3)),
    ("adaptive_max_uneven", lambda: nn.AdaptiveMaxPool2d(3), lambda: torch.nn.AdaptiveMaxPool2d(3), (2, 2, 7, 8)),
    ("batchnorm1d", lambda: nn.BatchNorm1d(4), lambda: torch.nn.BatchNorm1d(4), (8, 4)),
    ("batchnorm1d_3d", lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (4, 3, 5)),
    ("batchnorm2d", lambda: nn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3), (4, 3, 5, 5)),
    ("batchnorm2d_noaffine", lambda: nn.BatchNorm2d(3, affine=False, momentum=0.3),
     lambda: torch.nn.BatchNorm2d(3, affine=False, momentum=0.3), (4, 3, 2, 2)),
    ("layernorm", lambda: nn.LayerNorm(6), lambda: torch.nn.LayerNorm(6), (3, 4, 6)),
    ("layernorm_2d_eps", lambda: nn.LayerNorm((4, 6), eps=1e-6), lambda: torch.nn.LayerNorm((4, 6), eps=1e-6),
     (3, 4, 6)),
    ("relu", nn.ReLU, torch.nn.ReLU, (4, 5)),
    ("tanh", nn.Tanh, torch.nn.Tanh, (4, 5)),
    ("sigmoid", nn.Sigmoid, torch.nn.Sigmoid, (4, 5)),
    ("gelu", nn.GELU, torch.nn.GELU, (4, 5)),
    ("gelu_tanh", lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh"), (4, 5)),
    ("flatten", nn.Flatten, torch.nn.Flatten, (2, 3, 4)),
    ("sequential", lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)),
     lambda: torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)), (5, 4)),
]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name,ours,theirs,shape", PARITY, ids=[p[0] for p in PARITY])
def test_layer_matches_torch(name, ours, theirs, shape, train):
    torch.manual_seed(0)
    reference = theirs()
    if "batchnorm" in name:  # non-trivial affine parameters and running statistics
        with torch.no_grad():
            for p in reference.parameters():
                p.uniform_(0.5, 1.5)
            reference.running_mean.uniform_(-0.5, 0.5)
            reference.running_var.uniform_(0.5, 2.0)
    check_parity(ours(), reference, randn(*shape), train=train, steps=3 if "batchnorm" in name else 1)


# ----- gradcheck (float64) over hypothesis-drawn configurations ---------------------------------------
def gradcheck_module(module: nn.Module, x: np.ndarray, atol=1e-6, rtol=1e-4):
    module = as64(module)
    params = list(module.parameters())
    inputs = [tg.Tensor(x.astype(np.float64), requires_grad=True)] + params
    assert tg.gradcheck(lambda xi, *ps: module(xi), inputs, atol=atol, rtol=rtol)


@SETTINGS
@given(n=st.integers(1, 2), c=st.integers(1, 3), out_c=st.integers(1, 3), size=st.integers(3, 6),
       k=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 1), dilation=st.integers(1, 2),
       bias=st.booleans())
def test_conv2d_gradcheck(n, c, out_c, size, k, stride, padding, dilation, bias):
    if size + 2 * padding < dilation * (k - 1) + 1:
        return
    tg.manual_seed(0)
    gradcheck_module(nn.Conv2d(c, out_c, k, stride, padding, dilation, bias=bias),
                     np.random.default_rng(0).standard_normal((n, c, size, size)))


@SETTINGS
@given(n=st.integers(1, 2), c=st.integers(1, 2), size=st.integers(2, 6), k=st.integers(1, 3),
       stride=st.integers(1, 3), padding=st.integers(0, 1), dilation=st.integers(1, 2),
       kind=st.sampled_from(["max", "avg", "avg_exclude"]))
def test_pool_gradcheck(n, c, size, k, stride, padding, dilation, kind):
    if 2 * padding > k or size + 2 * padding < dilation * (k - 1) + 1:
        return
    if kind == "max":
        module = nn.MaxPool2d(k, stride, padding, dilation)
    else:
        if size + 2 * padding < k:
            return
        module = nn.AvgPool2d(k, stride, padding, count_include_pad=(kind == "avg"))
    x = np.random.default_rng(0).permutation(n * c * size * size).reshape(n, c, size, size) * 0.1  # no ties
    gradcheck_module(module, x)


@SETTINGS
@given(size=st.integers(1, 7), out=st.integers(1, 5), kind=st.sampled_from(["max", "avg"]))
def test_adaptive_pool_gradcheck(size, out, kind):
    module = nn.AdaptiveMaxPool2d(out) if kind == "max" else nn.AdaptiveAvgPool2d(out)
    x = np.random.default_rng(0).permutation(2 * size * size).reshape(1, 2, size, size) * 0.1
    gradcheck_module(module, x)


@pytest.mark.parametrize("make,shape", [
    (lambda: nn.Linear(4, 3), (2, 4)),
    (lambda: nn.BatchNorm1d(3), (5, 3)),
    (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
    (lambda: nn.LayerNorm(4), (2, 3, 4)),
    (lambda: nn.GELU(), (3, 4)),
    (lambda: nn.GELU("tanh"), (3, 4)),
], ids=["linear", "batchnorm1d", "batchnorm2d", "layernorm", "gelu", "gelu_tanh"])
def test_layer_gradcheck(make, shape):
    tg.manual_seed(0)
    module = make()
    for p in module.parameters():
        nn.init.uniform_(p, 0.5, 1.5)
    gradcheck_module(module, np.random.default_rng(0).standard_normal(shape))


def test_batchnorm_eval_gradcheck():
    module = as64(nn.BatchNorm2d(2)).eval()
    module.running_mean.data[:] = [0.3, -0.2]
    module.running_var.data[:] = [1.5, 0.7]
    gradcheck_module(module, np.random.default_rng(0).standard_normal((2, 2, 3, 3)))


# ----- functional losses --------------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(1, 5), c=st.integers(2, 5), smoothing=st.sampled_from([0.0, 0.1, 0.3]),
       reduction=st.sampled_from(["mean", "sum", "none"]), data=st.data())
def test_cross_entropy_matches_torch_and_gradcheck(n, c, smoothing, reduction, data):
    logits = data.draw(hnp.arrays(np.float64, (n, c), elements=st.floats(-5, 5)))
    labels = np.asarray(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    mine = tg.Tensor(logits.astype(np.float32), requires_grad=True)
    ref = torch.tensor(logits.astype(np.float32), requires_grad=True)
    out = F.cross_entropy(mine, labels, reduction=reduction, label_smoothing=smoothing)
    expected = torch.nn.functional.cross_entropy(ref, torch.as_tensor(labels), reduction=reduction,
                                                 label_smoothing=smoothing)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-4, atol=1e-6)
    x64 = tg.Tensor(logits, requires_grad=True)
    assert tg.gradcheck(lambda t: F.cross_entropy(t, labels, reduction=reduction, label_smoothing=smoothing), [x64])


def test_cross_entropy_spatial_and_huge_logits():
    logits = randn(2, 3, 4, 4)
    labels = np.random.default_rng(0).integers(0, 3, (2, 4, 4))
    np.testing.assert_allclose(F.cross_entropy(tg.Tensor(logits), labels).item(),
                               torch.nn.functional.cross_entropy(torch.tensor(logits), torch.as_tensor(labels)).item(),
                               rtol=1e-5)
    huge = tg.Tensor([[1e5, 0.0, -1e5]], requires_grad=True)
    loss = F.cross_entropy(huge, np.array([1]))
    loss.backward()
    assert loss.item() == pytest.approx(1e5) and np.isfinite(huge.grad.numpy()).all()


@pytest.mark.parametrize("fn,torch_fn", [(F.mse_loss, torch.nn.functional.mse_loss),
                                         (F.l1_loss, torch.nn.functional.l1_loss)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(fn, torch_fn, reduction):
    a, b = randn(4, 3, seed=1), randn(4, 3, seed=2)
    mine, ref = tg.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, expected = fn(mine, tg.Tensor(b), reduction=reduction), torch_fn(ref, torch.tensor(b), reduction=reduction)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert tg.gradcheck(lambda t: fn(t, tg.Tensor(b.astype(np.float64)), reduction=reduction),
                        [tg.Tensor(a.astype(np.float64), requires_grad=True)])


def test_nll_loss_and_one_hot():
    logp = np.log(np.random.default_rng(0).dirichlet(np.ones(4), size=3)).astype(np.float32)
    labels = np.array([3, 0, 2])
    assert F.nll_loss(tg.Tensor(logp), labels).item() == pytest.approx(
        torch.nn.functional.nll_loss(torch.tensor(logp), torch.as_tensor(labels)).item(), rel=1e-6)
    np.testing.assert_array_equal(F.one_hot(labels, 5).numpy(), np.eye(5, dtype=np.int64)[labels])


def test_dropout_is_seeded_scaled_and_identity_in_eval():
    x = tg.ones(1000, 10, requires_grad=True)
    drop = nn.Dropout(0.3)
    tg.manual_seed(7)
    a = drop(x)
    tg.manual_seed(7)
    b = drop(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    kept = a.detach().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(a.detach().numpy()[kept], 1 / 0.7, rtol=1e-6)
    a.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), a.detach().numpy())
    assert drop.eval()(x) is x


# ----- bad input ---------------------------------------------------------------------------------------
def test_conv_wrong_channels_names_both_numbers():
    with pytest.raises(ValueError, match=r"expected 3 input channels, got 4"):
        nn.Conv2d(3, 8, 3)(tg.randn(1, 4, 8, 8))


@pytest.mark.parametrize("layer", [nn.Conv2d(3, 8, 3), nn.MaxPool2d(2), nn.BatchNorm2d(3), nn.AdaptiveAvgPool2d(2)])
def test_wrong_rank_names_the_layout(layer):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(3, 8, 8\)"):
        layer(tg.randn(3, 8, 8))


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="expected 3 channels.*got 4"):
        nn.BatchNorm1d(3)(tg.randn(2, 4))
    with pytest.raises(ValueError, match="5 features.*\\(2, 4\\)"):
        nn.Linear(5, 2)(tg.randn(2, 4))
    with pytest.raises(ValueError, match="kernel extent"):
        nn.Conv2d(1, 1, 5)(tg.randn(1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 1\)"):
        F.mse_loss(tg.randn(4), tg.randn(4, 1))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        F.cross_entropy(tg.randn(2, 3), np.array([0, 3]))
    with pytest.raises(TypeError, match="integer"):
        F.cross_entropy(tg.randn(2, 3), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target of shape \(2,\)"):
        F.cross_entropy(tg.randn(2, 3), np.array([[0], [1]]))
