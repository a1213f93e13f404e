"""The losses' PyTorch options (class weights, ignore_index, probability targets, spatial inputs, label
smoothing, binary cross-entropy from probabilities and logits with weights and pos_weight), checked three ways:
gradcheck in float64, forward and input gradients against torch in float32; and the Conv1d, ConvTranspose2d
and Upsample modules against torch's with the same parameters."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_ift as tg
import tinygrad_ift.nn.functional as F

TF = torch.nn.functional
RNG = np.random.default_rng(7)
LOGITS = RNG.standard_normal((5, 4))
LABELS = np.array([0, 3, -100, 1, 3])
SPATIAL = RNG.standard_normal((2, 4, 3, 2))
SPATIAL_LABELS = np.array([[[0, 1], [3, -100], [2, 2]], [[1, 1], [0, 3], [-100, 2]]])
WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])
PROBS = RNG.dirichlet(np.ones(4), size=5)


def _lib_args(lib, kwargs, device="cpu"):
    """Arrays among the keyword arguments as tensors of that library (ours on `device`)."""
    wrap = (lambda a: tg.tensor(a, device=device)) if lib is tg else (lambda a: torch.tensor(a))
    return {k: wrap(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


CASES = {
    "ce_weight": ("cross_entropy", LOGITS, np.array([0, 3, 2, 1, 3]), dict(weight=WEIGHT)),
    "ce_ignore_index": ("cross_entropy", LOGITS, LABELS, dict()),
    "ce_ignore_weight_smoothing": ("cross_entropy", LOGITS, LABELS, dict(weight=WEIGHT, label_smoothing=0.2)),
    "ce_ignore_sum": ("cross_entropy", LOGITS, np.array([0, 3, 2, 1, 3]), dict(reduction="sum", ignore_index=3)),
    "ce_spatial_weight_ignore": ("cross_entropy", SPATIAL, SPATIAL_LABELS, dict(weight=WEIGHT)),
    "ce_spatial_none": ("cross_entropy", SPATIAL, SPATIAL_LABELS, dict(reduction="none", label_smoothing=0.1)),
    "ce_probabilities": ("cross_entropy", LOGITS, PROBS, dict()),
    "ce_probabilities_weight_smoothing": ("cross_entropy", LOGITS, PROBS, dict(weight=WEIGHT, label_smoothing=0.3)),
    "ce_spatial_probabilities": ("cross_entropy", SPATIAL, RNG.dirichlet(np.ones(4), (2, 3, 2)).transpose(0, 3, 1, 2),
                                 dict(reduction="sum")),
    "nll_weight_ignore": ("nll_loss", LOGITS, LABELS, dict(weight=WEIGHT)),
    "nll_spatial": ("nll_loss", SPATIAL, SPATIAL_LABELS, dict(reduction="none")),
    "bce": ("binary_cross_entropy", RNG.uniform(0.05, 0.95, (4, 3)), RNG.uniform(0, 1, (4, 3)), dict()),
    "bce_weight_sum": ("binary_cross_entropy", RNG.uniform(0.05, 0.95, (4, 3)), (RNG.uniform(size=(4, 3)) > 0.5) * 1.0,
                       dict(weight=RNG.uniform(0.5, 2, 3), reduction="sum")),
    "bce_logits": ("binary_cross_entropy_with_logits", RNG.standard_normal((4, 3)) * 3, RNG.uniform(0, 1, (4, 3)),
                   dict()),
    "bce_logits_pos_weight": ("binary_cross_entropy_with_logits", RNG.standard_normal((4, 3)) * 3,
                              RNG.uniform(0, 1, (4, 3)), dict(pos_weight=np.array([1.0, 3.0, 0.5]),
                                                              weight=RNG.uniform(0.5, 2, (4, 1)), reduction="none")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_matches_torch_and_finite_differences(case, device):
    name, x, target, kwargs = CASES[case]
    ours = getattr(F, name)
    # (a) float64 against finite differences
    x64 = tg.tensor(x, requires_grad=True, device=device)
    assert tg.gradcheck(lambda t: ours(t, target, **_lib_args(tg, kwargs, device)), [x64])
    # (b) float32 against torch, forward and input gradient
    x32 = tg.tensor(x.astype(np.float32), requires_grad=True, device=device)
    ref = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    kwargs32 = {k: v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
                for k, v in kwargs.items()}
    target32 = target.astype(np.float32) if target.dtype.kind == "f" else target
    out = ours(x32, target32, **_lib_args(tg, kwargs32, device))
    expected = getattr(TF, name)(ref, torch.tensor(target32), **_lib_args(torch, kwargs32))
    assert out.dtype == np.float32 and out.shape == tuple(expected.shape) and out.device == device
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(x32.grad.numpy(), ref.grad.numpy(), rtol=1e-4, atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(p=st.floats(0, 1), y=st.floats(0, 1), logit=st.floats(-120, 120))
def test_binary_cross_entropy_extremes_stay_finite_as_torch(p, y, logit, device):
    for fn, x in ((F.binary_cross_entropy, p), (F.binary_cross_entropy_with_logits, logit)):
        mine = tg.tensor([x], dtype=np.float64, requires_grad=True, device=device)
        ref = torch.tensor([x], dtype=torch.float64, requires_grad=True)
        out = fn(mine, tg.tensor([y], dtype=np.float64, device=device))
        expected = getattr(TF, fn.__name__)(ref, torch.tensor([y], dtype=torch.float64))
        out.backward()
        expected.backward()
        np.testing.assert_allclose(out.item(), expected.item(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_loss_modules_pass_their_options(tg_on):
    tg = tg_on
    logits, labels = tg.tensor(LOGITS.astype(np.float32)), LABELS
    assert tg.nn.CrossEntropyLoss(weight=tg.tensor(WEIGHT), label_smoothing=0.1)(logits, labels).item() == \
        pytest.approx(TF.cross_entropy(torch.tensor(LOGITS, dtype=torch.float32), torch.tensor(labels),
                                       weight=torch.tensor(WEIGHT, dtype=torch.float32), label_smoothing=0.1).item(),
                      rel=1e-5)
    assert tg.nn.NLLLoss(ignore_index=3, reduction="sum")(logits, np.array([0, 3, 3, 1, 2])).item() == \
        pytest.approx(-(LOGITS[0, 0] + LOGITS[3, 1] + LOGITS[4, 2]), rel=1e-5)
    probs = tg.tensor([[0.2, 0.9]])
    assert tg.nn.BCELoss()(probs, tg.tensor([[0.0, 1.0]])).item() == pytest.approx(
        -(np.log(0.8) + np.log(0.9)) / 2, rel=1e-5)
    assert tg.nn.BCEWithLogitsLoss(pos_weight=tg.tensor([2.0]))(tg.tensor([0.0]), tg.tensor([1.0])).item() == \
        pytest.approx(2 * np.log(2), rel=1e-6)


def test_loss_errors():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\]"):
        F.binary_cross_entropy(tg.tensor([1.5]), tg.tensor([1.0]))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have one entry per class, shape \(4,\)"):
        F.cross_entropy(tg.tensor(LOGITS), np.array([0, 1, 2, 3, 0]), weight=np.ones(3))
    with pytest.raises(TypeError, match=r"cross_entropy: target must hold integer class labels of shape \(5,\)"):
        F.cross_entropy(tg.tensor(LOGITS), np.zeros(5))


@pytest.mark.parametrize("name, args, kwargs, shape", [
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1), (2, 3, 9)),
    ("ConvTranspose2d", (4, 2, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 5, 5)),
    ("ConvTranspose2d", (4, 6, 2), dict(groups=2, bias=False), (1, 4, 3, 3)),
    ("Conv3d", (2, 4, (2, 3, 1)), dict(stride=(1, 2, 1), padding=(1, 0, 1)), (2, 2, 3, 5, 4)),
])
def test_conv_modules_match_torch_with_the_same_parameters(name, args, kwargs, shape, device):
    tg.manual_seed(0)
    ours, theirs = getattr(tg.nn, name)(*args, **kwargs).to(device), getattr(torch.nn, name)(*args, **kwargs)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
        if theirs.bias is not None:
            theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    x = RNG.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(tg.tensor(x, device=device)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, args", [("MaxPool3d", (2, 1, 1, 1, True)), ("MaxPool3d", ((3, 2, 2), 2, 1, (1, 2, 1))),
                                        ("MaxPool3d", (2, (1, 2, 3), 0, 1, True, True)),
                                        ("AvgPool3d", ((1, 2, 3), 2, (0, 1, 1))),
                                        ("AvgPool3d", (2, None, 1, True, False, 5))])
def test_3d_pool_modules_match_torch(name, args, device):
    """Positional arguments in torch's order; max_pool3d's indices are positions in the (D*H*W) volume."""
    x = RNG.permutation(2 * 3 * 4 * 5 * 6).reshape(2, 3, 4, 5, 6).astype(np.float32)
    ours = getattr(tg.nn, name)(*args)(tg.tensor(x, device=device))
    theirs = getattr(torch.nn, name)(*args)(torch.tensor(x))
    pairs = zip(*(out if isinstance(out, tuple) else (out,) for out in (ours, theirs)))  # (values, indices) or one
    for mine, expected in pairs:
        assert mine.device == device and mine.dtype == np.dtype(str(expected.dtype).removeprefix("torch."))
        np.testing.assert_allclose(mine.numpy(), expected.numpy(), rtol=1e-6)


def test_upsample_module_and_layer_errors():
    x = RNG.standard_normal((1, 2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(tg.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)(tg.tensor(x)).numpy(),
                               torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)(
                                   torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="interpolate: mode 'bilinear' does not fit a 3-D input"):
        F.interpolate(tg.zeros(1, 2, 3), size=4, mode="bilinear")
    with pytest.raises(ValueError, match="interpolate: mode 'bicubic' does not fit a 3-D input; use one of"):
        F.interpolate(tg.zeros(1, 2, 3), size=4, mode="bicubic")
    with pytest.raises(ValueError, match="interpolate: align_corners only applies to the linear and cubic modes"):
        F.interpolate(tg.zeros(1, 2, 3), size=4, mode="area", align_corners=True)
    with pytest.raises(ValueError, match=r"pad: reflect padding of \(3, 0\) needs dim 1 of \(2, 3\) longer than 3"):
        F.pad(tg.zeros(2, 3), (3, 0), mode="reflect")
    with pytest.raises(ValueError, match=r"max_pool3d: expected a 5-D input of layout \(N, C, D, H, W\)"):
        F.max_pool3d(tg.zeros(1, 2, 3, 3), 2)
    with pytest.raises(ValueError, match=r"conv3d: kernel depth extent 3 is larger than the padded input depth 2"):
        F.conv3d(tg.zeros(1, 1, 2, 3, 3), tg.zeros(1, 1, 3, 1, 1))
    with pytest.raises(ValueError, match="conv_transpose2d: output_padding"):
        F.conv_transpose2d(tg.zeros(1, 1, 2, 2), tg.zeros(1, 1, 2, 2), output_padding=1)
    with pytest.raises(ValueError, match=r"fold: expected input \(N, C\*4, 4\) for output_size \(3, 3\)"):
        F.fold(tg.zeros(1, 4, 5), (3, 3), 2, stride=1)
    with pytest.raises(ValueError, match="einsum: subscript 'i' repeats in 'ii' over dims of different sizes 2 and 3"):
        tg.einsum("ii->i", tg.zeros(2, 3))


@pytest.mark.parametrize("kwargs, hw", [
    (dict(kernel_size=2), (5, 6)), (dict(kernel_size=3, stride=2, ceil_mode=True), (6, 7)),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (5, 5)), (dict(kernel_size=(2, 3), stride=(2, 1),
                                                                              padding=(1, 1), dilation=(1, 2)), (6, 7)),
    (dict(kernel_size=2, stride=3, ceil_mode=True), (7, 8)),
])
def test_max_pool2d_ceil_mode_indices_and_unpool_match_torch(kwargs, hw, device):
    x_np = RNG.permutation(2 * 3 * hw[0] * hw[1]).reshape(2, 3, *hw).astype(np.float64) / 10  # no ties
    x, tx = tg.tensor(x_np, requires_grad=True, device=device), torch.tensor(x_np, requires_grad=True)
    out, idx = F.max_pool2d(x, return_indices=True, **kwargs)
    expected, tidx = TF.max_pool2d(tx, return_indices=True, **kwargs)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert idx.device == device
    assert tg.gradcheck(lambda t: F.max_pool2d(t, **kwargs), [tg.tensor(x_np, requires_grad=True, device=device)])
    if "dilation" in kwargs:  # max_unpool2d has no dilation: its default output would not hold these indices
        return
    unpool_kwargs = {k: v for k, v in kwargs.items() if k in ("kernel_size", "stride", "padding")}
    size = hw if kwargs.get("ceil_mode") else None
    unpooled = F.max_unpool2d(out, idx, output_size=size, **unpool_kwargs)
    expected_unpooled = TF.max_unpool2d(expected, tidx, output_size=size, **unpool_kwargs)
    np.testing.assert_array_equal(unpooled.detach().numpy(), expected_unpooled.detach().numpy())
    weights = RNG.standard_normal(unpooled.shape)
    (unpooled * tg.tensor(weights, device=device)).sum().backward()
    (expected_unpooled * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
