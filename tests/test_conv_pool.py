"""Convolution and pooling: gradcheck (float64) and PyTorch parity (float32) over hypothesis-drawn batch,
channels, groups, sizes, kernels, strides, paddings and dilations; the batch split into one-image chunks as
well as whole; PyTorch's adaptive bins, outputs larger than inputs included; default initialisation; bad input.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats

import tinygrad_ift as tg
import tinygrad_ift.nn.functional as F
from tinygrad_ift import nn
from tinygrad_ift.fast import cpu as fast_cpu

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextlib.contextmanager
def chunk_budget(column_bytes: int | None):
    """Let im2col's chunks hold about `column_bytes` of columns (None: the default), so that tiny inputs go
    through the chunk loop too (1 byte: about one image per chunk)."""
    saved = fast_cpu.COLUMN_CHUNK_BYTES
    fast_cpu.COLUMN_CHUNK_BYTES = saved if column_bytes is None else column_bytes
    try:
        yield
    finally:
        fast_cpu.COLUMN_CHUNK_BYTES = saved


def distinct_values(shape, seed=0, dtype=np.float64) -> np.ndarray:
    """Shuffled, evenly spaced values: no two are close, so no max-pool window has a tie."""
    size = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(size).reshape(shape) * 0.1 - size * 0.05).astype(dtype)


def assert_matches_torch(ours_fn, torch_fn, arrays, rtol=1e-4, atol=1e-5, parameters=()):
    """Same float32 inputs: equal outputs, and equal gradients of every input (and of each pair of
    `parameters`, ours and torch's) under a random weighting of the output."""
    mine = [tg.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours_fn(*mine), torch_fn(*theirs)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=atol)
    weights = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    (out * tg.Tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for i, (a, b) in enumerate(list(zip(mine, theirs)) + list(parameters)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol * 10, atol=atol * 10,
                                   err_msg=f"gradient of input or parameter {i}")


# ----- convolution ---------------------------------------------------------------------------------------
@st.composite
def conv_settings(draw, max_size=7):
    groups = draw(st.sampled_from([1, 1, 2]))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = [draw(st.integers(max(1, e - 2 * p), max_size)) for e, p in zip(extent, padding)]
    return dict(n=draw(st.integers(1, 3)), in_c=groups * draw(st.integers(1, 2)),
                out_c=groups * draw(st.integers(1, 2)), size=size, kernel=kernel,
                stride=(draw(st.integers(1, 2)), draw(st.integers(1, 2))), padding=padding, dilation=dilation,
                groups=groups, bias=draw(st.booleans()), chunked=draw(st.booleans()))


def conv_arrays(s: dict, dtype) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((s["n"], s["in_c"], *s["size"])),
              rng.standard_normal((s["out_c"], s["in_c"] // s["groups"], *s["kernel"]))]
    if s["bias"]:
        arrays.append(rng.standard_normal(s["out_c"]))
    return [a.astype(dtype) for a in arrays]


def conv_args(s: dict) -> dict:
    return dict(stride=s["stride"], padding=s["padding"], dilation=s["dilation"], groups=s["groups"])


@SETTINGS
@given(s=conv_settings(max_size=6))
def test_conv2d_gradcheck(s):
    inputs = [tg.Tensor(a, requires_grad=True) for a in conv_arrays(s, np.float64)]
    with chunk_budget(1 if s["chunked"] else None):
        assert tg.gradcheck(lambda x, w, *b: F.conv2d(x, w, *b, **conv_args(s)), inputs, atol=1e-6, rtol=1e-4)


@SETTINGS
@given(s=conv_settings())
def test_conv2d_matches_torch(s):
    with chunk_budget(1 if s["chunked"] else None):
        assert_matches_torch(lambda x, w, *b: F.conv2d(x, w, *b, **conv_args(s)),
                             lambda x, w, *b: torch.nn.functional.conv2d(x, w, *b, **conv_args(s)),
                             conv_arrays(s, np.float32))


@pytest.mark.parametrize("budget", [None, 1, 300_000], ids=["whole_batch", "image_by_image", "uneven_chunks"])
def test_conv2d_layer_matches_torch_at_a_realistic_size(budget):
    """A stride-2 layer (col2im backward) and a padded stride-1 layer (full-correlation backward); 300 kB
    chunks split the 4 images of the second 3 + 1 going forward."""
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((4, 8, 12, 10)).astype(np.float32)
    for make in (lambda m: m.Conv2d(8, 16, 3, stride=2, padding=1), lambda m: m.Conv2d(8, 12, 5, padding=2)):
        reference, ours = make(torch.nn), make(nn)
        ours.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
        with chunk_budget(budget):
            assert_matches_torch(ours, reference, [x], parameters=[(ours.weight, reference.weight),
                                                                   (ours.bias, reference.bias)])


def test_conv2d_keeps_float64_and_accepts_strided_inputs():
    x = np.random.default_rng(0).standard_normal((2, 5, 6, 3))
    w = np.random.default_rng(1).standard_normal((4, 3, 2, 2))
    transposed = tg.Tensor(x).permute(0, 3, 1, 2)  # a non-contiguous (2, 3, 5, 6) view
    out = F.conv2d(transposed, tg.Tensor(w), padding=1)
    assert out.dtype == np.float64
    expected = torch.nn.functional.conv2d(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(w), padding=1)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_conv2d_under_no_grad_records_nothing():
    layer = nn.Conv2d(2, 3, 3)
    with tg.no_grad():
        out = layer(tg.randn(2, 2, 5, 5))
    assert not out.requires_grad and out.shape == (2, 3, 3, 3)


@pytest.mark.parametrize("layer", [nn.Conv2d(3, 4, 3), nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveMaxPool2d(3),
                                   nn.AdaptiveAvgPool2d(3)], ids=lambda layer: type(layer).__name__)
def test_empty_batch(layer):
    x = tg.randn(0, 3, 6, 6, requires_grad=True)
    out = layer(x)
    assert out.shape[0] == 0
    out.sum().backward()
    assert x.grad.shape == x.shape


def test_conv2d_gradient_of_a_broadcast_output_gradient():
    """.sum() hands backward a broadcast (zero-stride) gradient; the result must not depend on that."""
    x = tg.Tensor(distinct_values((2, 2, 5, 5), dtype=np.float32), requires_grad=True)
    layer = nn.Conv2d(2, 2, 3, stride=2)
    layer(x).sum().backward()
    reference = x.grad.numpy().copy()
    x.grad = None
    (layer(x) * tg.ones(2, 2, 2, 2)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), reference, rtol=1e-6)


# ----- default initialisation ----------------------------------------------------------------------------
@pytest.mark.parametrize("in_c,out_c,kernel,groups", [(64, 64, 3, 1), (32, 96, (3, 5), 2)])
def test_conv2d_default_init_matches_torch_distribution(in_c, out_c, kernel, groups):
    """kaiming_uniform_(a=sqrt(5)) gives U(-b, b) with b = 1/sqrt(fan_in), like the bias."""
    tg.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = nn.Conv2d(in_c, out_c, kernel, groups=groups), torch.nn.Conv2d(in_c, out_c, kernel, groups=groups)
    fan_in = in_c // groups * math.prod(ours.kernel_size)
    bound = 1 / math.sqrt(fan_in)
    weight = ours.weight.numpy().ravel()
    assert ours.weight.shape == tuple(theirs.weight.shape) and ours.weight.dtype == np.float32
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.99 * bound
    assert abs(weight.std() / (bound / math.sqrt(3)) - 1) < 0.03
    assert stats.ks_2samp(weight, theirs.weight.detach().numpy().ravel()).pvalue > 1e-3
    assert np.abs(ours.bias.numpy()).max() <= bound and ours.bias.numpy().std() > bound / 3


def test_conv2d_init_is_seeded():
    tg.manual_seed(3)
    first = nn.Conv2d(3, 4, 3).weight.numpy().copy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(nn.Conv2d(3, 4, 3).weight.numpy(), first)


@pytest.mark.parametrize("name,args,kwargs", [
    ("Conv2d", (3, 8, 3), dict(padding=1, bias=False)),
    ("Conv2d", (4, 8, (3, 5)), dict(stride=2, dilation=2, groups=2)),
    ("AvgPool2d", (3, 2, 1), {}),
    ("AvgPool2d", (2,), {}),
    ("AdaptiveMaxPool2d", ((4, None),), {}),
])
def test_repr_matches_torch(name, args, kwargs):
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


# ----- fixed-size pools ----------------------------------------------------------------------------------
@st.composite
def pool_settings(draw):
    kind = draw(st.sampled_from(["max", "avg", "avg_exclude_pad"]))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if kind == "max" else (1, 1)
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = [draw(st.integers(max(1, e - 2 * p), 7)) for e, p in zip(extent, padding)]
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    for n, k, s, p, d in zip(size, kernel, stride or kernel, padding, dilation):  # no window of padding only
        starts = range(-p, n + p - d * (k - 1), s)
        assume(all(any(0 <= start + a * d < n for a in range(k)) for start in starts))
    return dict(kind=kind, shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size), kernel=kernel,
                stride=stride, padding=padding, dilation=dilation)


def pool_fns(s: dict):
    """Ours and PyTorch's functional form of the drawn pool."""
    if s["kind"] == "max":
        args = (s["kernel"], s["stride"], s["padding"], s["dilation"])
        return lambda x: F.max_pool2d(x, *args), lambda x: torch.nn.functional.max_pool2d(x, *args)
    args = (s["kernel"], s["stride"], s["padding"])
    include = s["kind"] == "avg"
    return (lambda x: F.avg_pool2d(x, *args, count_include_pad=include),
            lambda x: torch.nn.functional.avg_pool2d(x, *args, count_include_pad=include))


@SETTINGS
@given(s=pool_settings())
def test_pool_gradcheck(s):
    ours, _ = pool_fns(s)
    assert tg.gradcheck(ours, [tg.Tensor(distinct_values(s["shape"]), requires_grad=True)], atol=1e-6, rtol=1e-4)


@SETTINGS
@given(s=pool_settings())
def test_pool_matches_torch(s):
    assert_matches_torch(*pool_fns(s), [distinct_values(s["shape"], dtype=np.float32)])


def test_max_pool_pads_with_minus_infinity():
    x = -np.arange(1.0, 17.0, dtype=np.float32).reshape(1, 1, 4, 4)  # all negative: a zero pad would win
    out = F.max_pool2d(tg.Tensor(x), 3, stride=2, padding=1)
    np.testing.assert_array_equal(out.numpy(), torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1).numpy())


# ----- adaptive pools -------------------------------------------------------------------------------------
ADAPTIVE = {"avg": (F.adaptive_avg_pool2d, torch.nn.functional.adaptive_avg_pool2d),
            "max": (F.adaptive_max_pool2d, torch.nn.functional.adaptive_max_pool2d)}


@st.composite
def adaptive_settings(draw):
    """Sizes from 1 to 6 and outputs from 1 to 7 along each axis: bins shrink, stay equal, overlap or repeat."""
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    out = (draw(st.integers(1, 7)), draw(st.one_of(st.none(), st.integers(1, 7))))
    return dict(kind=draw(st.sampled_from(sorted(ADAPTIVE))), shape=(draw(st.integers(1, 2)), 2, h, w), out=out)


@SETTINGS
@given(s=adaptive_settings())
def test_adaptive_pool_matches_torch(s):
    ours, theirs = ADAPTIVE[s["kind"]]
    assert_matches_torch(lambda x: ours(x, s["out"]), lambda x: theirs(x, s["out"]),
                         [distinct_values(s["shape"], dtype=np.float32)])


@SETTINGS
@given(s=adaptive_settings())
def test_adaptive_pool_gradcheck(s):
    ours, _ = ADAPTIVE[s["kind"]]
    x = tg.Tensor(distinct_values(s["shape"]), requires_grad=True)
    assert tg.gradcheck(lambda t: ours(t, s["out"]), [x], atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("size,out", [((3, 3), (4, 4)), ((7, 5), (3, 2)), ((8, 8), (4, 4)), ((5, 5), 1)])
def test_adaptive_pool_modules_match_torch(kind, size, out):
    """The regression CNN of the course pools a 3x3 map to 4x4: bins then repeat pixels."""
    module, reference = ((nn.AdaptiveAvgPool2d(out), torch.nn.AdaptiveAvgPool2d(out)) if kind == "avg"
                         else (nn.AdaptiveMaxPool2d(out), torch.nn.AdaptiveMaxPool2d(out)))
    assert repr(module) == repr(reference)
    assert_matches_torch(module, reference, [distinct_values((2, 3, *size), dtype=np.float32)])


# ----- bad input ------------------------------------------------------------------------------------------
def test_conv_wrong_channel_count_names_both_numbers():
    with pytest.raises(ValueError, match=r"expected 3 input channels, got 4"):
        nn.Conv2d(3, 8, 3)(tg.randn(1, 4, 8, 8))
    with pytest.raises(ValueError, match=r"expected 4 input channels, got 3"):  # groups=2, 2 channels per group
        F.conv2d(tg.randn(1, 3, 8, 8), tg.randn(6, 2, 3, 3), groups=2)


@pytest.mark.parametrize("layer", [nn.Conv2d(3, 8, 3), nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(2),
                                   nn.AdaptiveMaxPool2d(2)], ids=lambda layer: type(layer).__name__)
def test_wrong_rank_names_the_layout_and_the_shape(layer):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(3, 8, 8\)"):
        layer(tg.randn(3, 8, 8))


def test_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match=r"kernel extent 5 is larger than the padded input size 4 along H"):
        nn.Conv2d(1, 1, 5)(tg.randn(1, 1, 4, 9))
    with pytest.raises(ValueError, match=r"kernel extent 5 .* padded input size 3 along W"):
        nn.Conv2d(1, 1, (1, 3), dilation=2)(tg.randn(1, 1, 4, 3))
    with pytest.raises(ValueError, match=r"max_pool2d: kernel extent \(3, 3\) is larger than the padded input"):
        F.max_pool2d(tg.randn(1, 1, 2, 2), 3)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="divisible by groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"4-D weight.*\(4, 3, 3\)"):
        F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(4, 3, 3))
    with pytest.raises(ValueError, match=r"bias of shape \(4,\), got \(3,\)"):
        F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(4, 3, 3, 3), tg.randn(3))
    with pytest.raises(ValueError, match="stride"):
        F.conv2d(tg.randn(1, 3, 5, 5), tg.randn(4, 3, 3, 3), stride=0)
    with pytest.raises(ValueError, match=r"padding \(2, 2\) should be at most half of kernel_size \(2, 2\)"):
        F.max_pool2d(tg.randn(1, 1, 6, 6), 2, padding=2)
    with pytest.raises(ValueError, match="output_size must be positive"):
        F.adaptive_avg_pool2d(tg.randn(1, 1, 4, 4), 0)
    with pytest.raises(ValueError, match="an int or a pair"):
        F.adaptive_max_pool2d(tg.randn(1, 1, 4, 4), (1, 2, 3))


# ----- GPU ------------------------------------------------------------------------------------------------
@pytest.mark.skipif(not tg.cuda_available(), reason="needs CuPy and a CUDA GPU")
def test_gpu_matches_cpu():
    x_np = distinct_values((2, 4, 7, 6))
    w_np = np.random.default_rng(0).standard_normal((6, 2, 3, 3))
    results = {}
    for device in ("cpu", "cuda"):
        x = tg.Tensor(x_np, requires_grad=True, device=device)
        w = tg.Tensor(w_np, requires_grad=True, device=device)
        y = F.conv2d(x, w, padding=1, groups=2)
        y = F.max_pool2d(y, 2, stride=1) + F.avg_pool2d(y, 3, 1, 1, count_include_pad=False)[:, :, :6, :5]
        loss = (F.adaptive_max_pool2d(y, (4, 7)).sum() + F.adaptive_avg_pool2d(y, 3).sum()
                + F.conv2d(y, w[:, :1], stride=2, groups=6).sum())
        loss.backward()
        results[device] = (loss.item(), x.grad.cpu().numpy(), w.grad.cpu().numpy())
    for a, b in zip(results["cpu"], results["cuda"]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
