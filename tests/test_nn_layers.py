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
                 atol: float = 1e-5, rtol: float = 1e-4, steps: int = 1, device: str = "cpu"):
    """Same weights, same input: outputs, input gradient and parameter gradients agree (and buffers)."""
    ours.to(device).load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours.train(train)
    theirs.train(train)
    weights = np.random.default_rng(1).standard_normal
    for _ in range(steps):
        mine = tg.Tensor(x, requires_grad=True, device=device)
        ref = torch.tensor(x, requires_grad=True)
        out, expected = ours(mine), theirs(ref)
        assert out.device == device
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=atol, rtol=rtol)
        w = weights(out.shape).astype(np.float32)
        ours.zero_grad()
        theirs.zero_grad()
        (out * tg.Tensor(w, device=device)).sum().backward()
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
    ("batchnorm2d_cumulative", lambda: nn.BatchNorm2d(3, momentum=None),
     lambda: torch.nn.BatchNorm2d(3, momentum=None), (4, 3, 3, 2)),
    ("batchnorm1d_untracked", lambda: nn.BatchNorm1d(3, track_running_stats=False),
     lambda: torch.nn.BatchNorm1d(3, track_running_stats=False), (6, 3)),
    ("batchnorm1d_nobias", lambda: nn.BatchNorm1d(3, bias=False), lambda: torch.nn.BatchNorm1d(3, bias=False),
     (6, 3)),
    ("layernorm", lambda: nn.LayerNorm(6), lambda: torch.nn.LayerNorm(6), (3, 4, 6)),
    ("layernorm_noaffine", lambda: nn.LayerNorm(5, elementwise_affine=False),
     lambda: torch.nn.LayerNorm(5, elementwise_affine=False), (4, 5)),
    ("layernorm_nobias", lambda: nn.LayerNorm(5, bias=False), lambda: torch.nn.LayerNorm(5, bias=False), (4, 5)),
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
def test_layer_matches_torch(name, ours, theirs, shape, train, device):
    torch.manual_seed(0)
    reference = theirs()
    if "norm" in name:  # non-trivial affine parameters and running statistics
        with torch.no_grad():
            for p in reference.parameters():
                p.uniform_(0.5, 1.5)
            if getattr(reference, "running_mean", None) is not None:
                reference.running_mean.uniform_(-0.5, 0.5)
                reference.running_var.uniform_(0.5, 2.0)
    check_parity(ours(), reference, randn(*shape), train=train, steps=3 if "batchnorm" in name else 1, device=device)


# ----- gradcheck (float64) over hypothesis-drawn configurations ---------------------------------------
def gradcheck_module(module: nn.Module, x: np.ndarray, atol=1e-6, rtol=1e-4, device="cpu"):
    module = as64(module).to(device)
    params = list(module.parameters())
    inputs = [tg.Tensor(x.astype(np.float64), requires_grad=True, device=device)] + params
    assert tg.gradcheck(lambda xi, *ps: module(xi), inputs, atol=atol, rtol=rtol)


@pytest.mark.parametrize("make,shape", [
    (lambda: nn.Linear(4, 3), (2, 4)),
    (lambda: nn.BatchNorm1d(3), (5, 3)),
    (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
    (lambda: nn.LayerNorm(4), (2, 3, 4)),
    (lambda: nn.GELU(), (3, 4)),
    (lambda: nn.GELU("tanh"), (3, 4)),
], ids=["linear", "batchnorm1d", "batchnorm2d", "layernorm", "gelu", "gelu_tanh"])
def test_layer_gradcheck(make, shape, device):
    tg.manual_seed(0)
    module = make()
    for p in module.parameters():
        nn.init.uniform_(p, 0.5, 1.5)
    gradcheck_module(module, np.random.default_rng(0).standard_normal(shape), device=device)


def test_batchnorm_eval_gradcheck(device):
    module = as64(nn.BatchNorm2d(2)).eval()
    module.running_mean.data[:] = [0.3, -0.2]
    module.running_var.data[:] = [1.5, 0.7]
    gradcheck_module(module, np.random.default_rng(0).standard_normal((2, 2, 3, 3)), device=device)


@pytest.mark.parametrize("training,affine", [(True, True), (False, True), (True, False)])
def test_batch_norm_relu_is_relu_of_batch_norm(training, affine, device):
    """BatchNormReLU2d (one op, so that a GPU can fuse it) gives relu(BatchNorm2d(x)) exactly: outputs, input and
    parameter gradients, running statistics; with BatchNorm2d's state-dict names."""
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32) * 2 + 0.5
    dy = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    results = []
    for make, apply in ((nn.BatchNormReLU2d, lambda bn, t: bn(t)), (nn.BatchNorm2d, lambda bn, t: bn(t).relu())):
        bn = make(3, affine=affine)
        if affine:
            bn.weight.data[:], bn.bias.data[:] = [1.5, -0.5, 1.0], [0.1, 0.2, -0.3]
        bn.running_mean.data[:], bn.running_var.data[:] = [0.4, 0.6, 0.5], [3.0, 4.0, 5.0]
        bn.train(training).to(device)
        xt = tg.Tensor(x, requires_grad=True, device=device)
        out = apply(bn, xt)
        out.backward(tg.Tensor(dy, device=device))
        results.append([out.numpy(), xt.grad.numpy(), bn.running_mean.numpy(), bn.running_var.numpy()] +
                       ([bn.weight.grad.numpy(), bn.bias.grad.numpy()] if affine else []))
        assert list(bn.state_dict()) == list(nn.BatchNorm2d(3, affine=affine).state_dict())
    for ours, expected in zip(*results):
        np.testing.assert_array_equal(ours, expected)
    assert (results[0][0] == 0).any() and (results[0][0] > 0).any()
    with pytest.raises(ValueError, match=r"batch_norm_relu: expected input of shape \(N, C\)"):
        F.batch_norm_relu(tg.ones(3), None, None)


# ----- functional losses --------------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(1, 5), c=st.integers(2, 5), smoothing=st.sampled_from([0.0, 0.1, 0.3]),
       reduction=st.sampled_from(["mean", "sum", "none"]), data=st.data())
def test_cross_entropy_matches_torch_and_gradcheck(n, c, smoothing, reduction, data, device):
    logits = data.draw(hnp.arrays(np.float64, (n, c), elements=st.floats(-5, 5)))
    labels = np.asarray(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    mine = tg.Tensor(logits.astype(np.float32), requires_grad=True, device=device)
    ref = torch.tensor(logits.astype(np.float32), requires_grad=True)
    out = F.cross_entropy(mine, labels, reduction=reduction, label_smoothing=smoothing)
    expected = torch.nn.functional.cross_entropy(ref, torch.as_tensor(labels), reduction=reduction,
                                                 label_smoothing=smoothing)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-4, atol=1e-6)
    x64 = tg.Tensor(logits, requires_grad=True, device=device)
    assert tg.gradcheck(lambda t: F.cross_entropy(t, labels, reduction=reduction, label_smoothing=smoothing), [x64])


def test_cross_entropy_spatial_and_huge_logits(device):
    logits = randn(2, 3, 4, 4)
    labels = np.random.default_rng(0).integers(0, 3, (2, 4, 4))
    np.testing.assert_allclose(F.cross_entropy(tg.Tensor(logits, device=device), labels).item(),
                               torch.nn.functional.cross_entropy(torch.tensor(logits), torch.as_tensor(labels)).item(),
                               rtol=1e-5)
    huge = tg.Tensor([[1e5, 0.0, -1e5]], requires_grad=True, device=device)
    loss = F.cross_entropy(huge, np.array([1]))
    loss.backward()
    assert loss.item() == pytest.approx(1e5) and np.isfinite(huge.grad.numpy()).all()


@pytest.mark.parametrize("fn,torch_fn", [(F.mse_loss, torch.nn.functional.mse_loss),
                                         (F.l1_loss, torch.nn.functional.l1_loss)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(fn, torch_fn, reduction, device):
    a, b = randn(4, 3, seed=1), randn(4, 3, seed=2)
    mine, ref = tg.Tensor(a, requires_grad=True, device=device), torch.tensor(a, requires_grad=True)
    out, expected = fn(mine, tg.Tensor(b, device=device), reduction=reduction), torch_fn(ref, torch.tensor(b), reduction=reduction)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert tg.gradcheck(lambda t: fn(t, tg.Tensor(b.astype(np.float64), device=device), reduction=reduction),
                        [tg.Tensor(a.astype(np.float64), requires_grad=True, device=device)])


def test_nll_loss_and_one_hot(device):
    logp = np.log(np.random.default_rng(0).dirichlet(np.ones(4), size=3)).astype(np.float32)
    labels = np.array([3, 0, 2])
    assert F.nll_loss(tg.Tensor(logp, device=device), labels).item() == pytest.approx(
        torch.nn.functional.nll_loss(torch.tensor(logp), torch.as_tensor(labels)).item(), rel=1e-6)
    np.testing.assert_array_equal(F.one_hot(labels, 5).numpy(), np.eye(5, dtype=np.int64)[labels])
    on_device = F.one_hot(tg.Tensor(labels, device=device), 5)
    assert on_device.device == device
    np.testing.assert_array_equal(on_device.numpy(), np.eye(5, dtype=np.int64)[labels])


def test_dropout_is_seeded_scaled_and_identity_in_eval(device):
    x = tg.ones(1000, 10, requires_grad=True, device=device)
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
def test_conv_wrong_channels_names_both_numbers(device):
    with pytest.raises(ValueError, match=r"expected 3 input channels, got 4"):
        nn.Conv2d(3, 8, 3)(tg.randn(1, 4, 8, 8, device=device))


@pytest.mark.parametrize("layer", [nn.Conv2d(3, 8, 3), nn.MaxPool2d(2), nn.BatchNorm2d(3), nn.AdaptiveAvgPool2d(2)])
def test_wrong_rank_names_the_layout(layer, device):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(3, 8, 8\)"):
        layer(tg.randn(3, 8, 8, device=device))


def test_other_bad_inputs(device):
    with pytest.raises(ValueError, match="expected 3 channels.*got 4"):
        nn.BatchNorm1d(3)(tg.randn(2, 4, device=device))
    with pytest.raises(ValueError, match="5 features.*\\(2, 4\\)"):
        nn.Linear(5, 2)(tg.randn(2, 4, device=device))
    with pytest.raises(ValueError, match="kernel extent"):
        nn.Conv2d(1, 1, 5)(tg.randn(1, 1, 3, 3, device=device))
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 1\)"):
        F.mse_loss(tg.randn(4, device=device), tg.randn(4, 1, device=device))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        F.cross_entropy(tg.randn(2, 3, device=device), np.array([0, 3]))
    with pytest.raises(TypeError, match="integer"):
        F.cross_entropy(tg.randn(2, 3, device=device), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target of shape \(2,\)"):
        F.cross_entropy(tg.randn(2, 3, device=device), np.array([[0], [1]]))


# ----- functional forms: gradcheck (float64) -----------------------------------------------------------
def _param(*shape, seed=3, low=0.5, high=1.5):
    return tg.Tensor(np.random.default_rng(seed).uniform(low, high, shape), requires_grad=True)


def _running(c, like):
    return (tg.Tensor(np.linspace(-0.3, 0.3, c), device=like.device),
            tg.Tensor(np.linspace(0.5, 1.5, c), device=like.device))


def _reseeded_dropout(x):
    tg.manual_seed(5)  # the same mask at every evaluation of the finite differences
    return F.dropout(x, 0.4)


FUNCTIONAL = [  # (name, fn(*tensors), input shapes, extra parameter tensors)
    ("linear", lambda x, w, b: F.linear(x, w, b), (3, 4), [_param(2, 4), _param(2)]),
    ("linear_3d_nobias", lambda x, w: F.linear(x, w), (2, 3, 4), [_param(5, 4)]),
    ("batch_norm_train", lambda x, w, b: F.batch_norm(x, *_running(3, x), w, b, training=True), (4, 3, 2),
     [_param(3), _param(3)]),
    ("batch_norm_weight_only", lambda x, w: F.batch_norm(x, None, None, w, training=True), (5, 3), [_param(3)]),
    ("batch_norm_bias_only", lambda x, b: F.batch_norm(x, None, None, None, b, training=True), (5, 3), [_param(3)]),
    ("batch_norm_eval", lambda x, w, b: F.batch_norm(x, *_running(2, x), w, b), (3, 2, 2, 2), [_param(2), _param(2)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (2, 3), w, b), (2, 2, 3), [_param(2, 3), _param(2, 3)]),
    ("layer_norm_plain", lambda x: F.layer_norm(x, [4]), (3, 4), []),
    ("dropout", _reseeded_dropout, (4, 5), []),
    ("softmax", lambda x: F.softmax(x, dim=0), (3, 4), []),
    ("log_softmax", lambda x: F.log_softmax(x, dim=1), (3, 4), []),
    ("relu", F.relu, (3, 4), []),
    ("gelu", F.gelu, (3, 4), []),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), (3, 4), []),
    ("tanh", F.tanh, (3, 4), []),
    ("sigmoid", F.sigmoid, (3, 4), []),
    ("pad", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), (2, 3), []),
    ("nll_loss", lambda x: F.nll_loss(x, np.array([2, 0, 1])), (3, 4), []),
    ("cross_entropy_spatial", lambda x: F.cross_entropy(x, np.array([[[0, 2]], [[1, 1]]]), label_smoothing=0.2),
     (2, 3, 1, 2), []),
]


@pytest.mark.parametrize("name,fn,shape,params", FUNCTIONAL, ids=[f[0] for f in FUNCTIONAL])
def test_functional_gradcheck(name, fn, shape, params, device):
    x = np.random.default_rng(0).standard_normal(shape)
    if name == "relu":
        x[np.abs(x) < 0.05] = 0.1  # away from the kink
    params = [tg.Tensor(p.data, requires_grad=True, device=device) for p in params]
    assert tg.gradcheck(fn, [tg.Tensor(x, requires_grad=True, device=device)] + params, atol=1e-6, rtol=1e-4)

def assert_same_gradients(out, expected, mine, ref):
    """Backpropagate the same random output gradient through both; every input's gradient agrees."""
    g = randn(*out.shape, seed=9)
    out.backward(g)
    expected.backward(torch.tensor(g))
    for a, r in zip(mine, ref):
        np.testing.assert_allclose(a.grad.numpy(), r.grad.numpy(), rtol=1e-3, atol=1e-4)



# ----- normalisation against torch over drawn shapes ---------------------------------------------------
@SETTINGS
@given(n=st.integers(2, 4), c=st.integers(1, 3), spatial=st.lists(st.integers(1, 3), max_size=2),
       training=st.booleans(), momentum=st.sampled_from([0.1, 0.5, None]), eps=st.sampled_from([1e-5, 1e-3]),
       affine=st.booleans())
def test_batch_norm_functional_matches_torch(n, c, spatial, training, momentum, eps, affine, device):
    shape = (n, c, *spatial)
    x = randn(*shape, seed=n * 7 + c)
    mean, var = randn(c, seed=1) * 0.3, np.abs(randn(c, seed=2)) + 0.5
    w, b = (randn(c, seed=3), randn(c, seed=4)) if affine else (None, None)
    momentum = 0.2 if momentum is None else momentum
    ours_stats, theirs_stats = (tg.Tensor(mean.copy(), device=device), tg.Tensor(var.copy(), device=device)), (torch.tensor(mean), torch.tensor(var))
    mine = [tg.Tensor(a, requires_grad=True, device=device) for a in (x, w, b) if a is not None]
    ref = [torch.tensor(a, requires_grad=True) for a in (x, w, b) if a is not None]
    out = F.batch_norm(mine[0], *ours_stats, *mine[1:], training=training, momentum=momentum, eps=eps)
    expected = torch.nn.functional.batch_norm(ref[0], *theirs_stats, *ref[1:], training=training,
                                              momentum=momentum, eps=eps)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert_same_gradients(out, expected, mine, ref)
    for a, r in zip(ours_stats, theirs_stats):
        np.testing.assert_allclose(a.numpy(), r.numpy(), rtol=1e-5, atol=1e-6)


@SETTINGS
@given(batch=st.lists(st.integers(1, 3), max_size=2), normalized=st.lists(st.integers(1, 4), min_size=1, max_size=2),
       affine=st.booleans(), eps=st.sampled_from([1e-5, 1e-2]))
def test_layer_norm_functional_matches_torch(batch, normalized, affine, eps, device):
    shape = (*batch, *normalized)
    x = randn(*shape, seed=len(shape))
    params = [randn(*normalized, seed=3), randn(*normalized, seed=4)] if affine else []
    mine = [tg.Tensor(a, requires_grad=True, device=device) for a in [x] + params]
    ref = [torch.tensor(a, requires_grad=True) for a in [x] + params]
    out = F.layer_norm(mine[0], normalized, *mine[1:], eps=eps)
    expected = torch.nn.functional.layer_norm(ref[0], normalized, *ref[1:], eps=eps)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert_same_gradients(out, expected, mine, ref)


def test_batchnorm_running_statistics_use_the_unbiased_variance(device):
    bn = nn.BatchNorm1d(2, momentum=1.0).to(device)
    x = np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)
    bn(tg.Tensor(x, device=device))
    np.testing.assert_allclose(bn.running_var.numpy(), x.var(axis=0, ddof=1))
    np.testing.assert_allclose(bn.eval()(tg.Tensor(x, device=device)).numpy(),
                               (x - x.mean(0)) / np.sqrt(x.var(axis=0, ddof=1) + 1e-5), rtol=1e-5)


def test_dropout_functional_edge_cases(device):
    x = tg.randn(3, 4, requires_grad=True, device=device)
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.9, training=False) is x
    dropped = F.dropout(x, 1.0)
    dropped.sum().backward()
    assert not dropped.detach().numpy().any() and not x.grad.numpy().any()
    with pytest.raises(ValueError, match=r"\[0, 1\], got 1.5"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="got -0.1"):
        nn.Dropout(-0.1)


def test_more_bad_inputs(device):
    with pytest.raises(ValueError, match=r"\(\*, 4\).*\(2, 3\)"):
        nn.LayerNorm(4)(tg.randn(2, 3, device=device))
    with pytest.raises(ValueError, match=r"\(N, C\) or \(N, C, L\).*\(2, 3, 4, 5\)"):
        nn.BatchNorm1d(3)(tg.randn(2, 3, 4, 5, device=device))
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        nn.BatchNorm1d(3)(tg.randn(1, 3, device=device))
    with pytest.raises(ValueError, match=r"running_mean.*3 channels.*\(3,\), got \(4,\)"):
        F.batch_norm(tg.randn(2, 3, device=device), tg.zeros(4, device=device), tg.ones(3, device=device))
    with pytest.raises(ValueError, match=r"expected 4 features.*\(3, 4\).*got 2.*\(5, 2\)"):
        F.linear(tg.randn(5, 2, device=device), tg.randn(3, 4, device=device))
    with pytest.raises(ValueError, match=r"\(N, C\).*\(3,\)"):
        F.cross_entropy(tg.randn(3, device=device), np.array([0]))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\), got values in \[-1, 2\]"):
        F.nll_loss(tg.randn(3, 4, device=device), np.array([0, -1, 2]))
    with pytest.raises(ValueError, match=r"\(3,\).*\(1, 3\)"):
        F.l1_loss(tg.randn(3, device=device), tg.randn(1, 3, device=device))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(tg.randn(3, device=device), tg.randn(3, device=device), reduction="avg")
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        F.cross_entropy(tg.randn(2, 3, device=device), np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(TypeError, match="integers"):
        F.one_hot(np.array([0.5]), 3)
    with pytest.raises(ValueError, match=r"\[0, 3\), got \[0, 3\]"):
        F.one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


def test_one_hot_infers_the_class_count_and_keeps_the_device(device):
    out = F.one_hot(tg.Tensor(np.array([[1], [3]]), device=device))
    assert out.shape == (2, 1, 4) and out.dtype == np.int64 and out.device == device


def test_batchnorm_eval_backward_uses_the_statistics_of_its_own_forward():
    """A training step between an eval forward and its backward updates the running buffers in place."""
    tg.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    bn.running_mean.data[:] = [1.0, -2.0, 0.5]
    bn.running_var.data[:] = [4.0, 0.25, 1.0]
    bn.eval()
    x = tg.randn(2, 3, 4, 4, requires_grad=True)
    y = bn(x)
    expected = (1.0 / np.sqrt(bn.running_var.numpy() + bn.eps))[None, :, None, None]
    bn.train()
    bn(tg.randn(2, 3, 4, 4) * 5 + 3)  # moves running_mean and running_var
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(expected, x.shape), rtol=1e-6)
    dweight = ((x.numpy() - np.array([1.0, -2.0, 0.5])[None, :, None, None]) * expected).sum(axis=(0, 2, 3))
    np.testing.assert_allclose(bn.weight.grad.numpy(), dweight, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("threads", [1, 2], indirect=True)
@pytest.mark.parametrize("shape", [(128, 16, 32, 32), (2048, 64, 4, 4)])  # 8 MB: long rows; short rows
def test_batchnorm2d_over_many_slices_matches_torch(shape, threads):
    """Inputs of 8 MB go through BatchNorm in 8 cache-sized slices (on one or two threads); the
    per-channel sums then take the long-row or the short-row way. A mean far from zero checks the
    shifted one-pass variance."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) * 2 + 30).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    ours, theirs = nn.BatchNorm2d(shape[1]), torch.nn.BatchNorm2d(shape[1])
    weight = rng.uniform(0.5, 1.5, shape[1]).astype(np.float32)
    ours.weight.data[:] = weight
    theirs.weight.data[:] = torch.from_numpy(weight)
    mine, ref = tg.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(mine), theirs(ref)
    out.backward(tg.Tensor(g))
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name in ("weight", "bias"):  # sums of 32k-131k terms per channel, up to ~900 in size
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), getattr(theirs, name).grad.numpy(),
                                   rtol=1e-5, atol=1e-3)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-5)
