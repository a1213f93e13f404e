"""Every fast path (tinygrad_ift/fast/) gives its reference op's results, and one switch turns them off.

Each case runs the same computation twice, with the fast paths on and within `reference_ops()`, and
compares outputs, gradients and optimiser states: on the CPU on inputs large enough to be cut into several
cache-sized slices (one- or three-threaded); on a real GPU for the CUDA kernels (skipped elsewhere).
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from functools import partial

import numpy as np
import pytest

import tinygrad_ift as tg
import tinygrad_ift.nn.functional as F
from tinygrad_ift import fast, nn, ops, optim
from tinygrad_ift.fast import blas_threads
from tinygrad_ift.fast import cpu as fast_cpu
from tinygrad_ift.fast import shifted as fast_shifted
from tinygrad_ift.fast import winograd as fast_winograd
from tinygrad_ift.nn.conv import Conv2dFunction
from tinygrad_ift.nn.normalization import BatchNormFunction, BatchNormReLUFunction, LayerNormFunction
from tinygrad_ift.nn.pooling import MaxPool


def run_both(compute):
    """compute() with the fast paths, then with the references only: two lists of arrays."""
    fast_result = [np.array(a) for a in compute()]
    with tg.reference_ops():
        reference_result = [np.array(a) for a in compute()]
    return fast_result, reference_result


def assert_same(fast_result, reference_result, rtol, atol):
    """Equal up to rtol, or up to atol times the array's largest magnitude (sums of thousands of float32 terms
    come out in another order, or in float64, on the two paths)."""
    assert len(fast_result) == len(reference_result)
    for i, (a, b) in enumerate(zip(fast_result, reference_result)):
        scale = float(np.abs(b).max()) if b.size else 0.0
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * max(scale, 1.0), err_msg=f"output {i}")


def randn(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def forward_backward(fn, *arrays, device="cpu", seed=1):
    """Outputs and input gradients of fn(*tensors) against a fixed random output gradient."""
    def compute():
        tensors = [tg.Tensor(a, requires_grad=True, device=device) for a in arrays]
        out = fn(*tensors)
        out.backward(tg.Tensor(randn(*out.shape, seed=seed, dtype=out.dtype), device=device))
        return [out.numpy()] + [t.grad.numpy() for t in tensors]
    return compute


# ----- cases: each returns (compute, rtol, atol) for a device ------------------------------------------------
def relu_case(device):
    x = randn(64, 16, 32, 32)  # 4 MB: four 1 MB slices
    x[0, 0, 0, :4] = 0.0  # the gradient at 0 is 0 on both paths
    return forward_backward(lambda t: t.relu(), x, device=device), 0, 0


def gelu_case(device, approximate="none", dtype=np.float32):
    x = randn(1024, 1000, dtype=dtype) * 3  # 4 or 8 MB, in 1 MB slices: the CPU path shares them out
    tolerance = 1e-12 if dtype == np.float64 else 1e-6  # a kernel's erf may differ from SciPy's in the last bit
    return forward_backward(lambda t: F.gelu(t, approximate=approximate), x, device=device), tolerance, tolerance


def batchnorm_module_case(device, make, x, training, affine, running, weight, bias):
    """A BatchNorm module's case: outputs, gradients and running statistics of one step on x."""
    def compute():
        bn = make(x.shape[1], affine=affine)
        bn.running_mean.data[:], bn.running_var.data[:] = running
        if affine:
            bn.weight.data[:], bn.bias.data[:] = weight, bias
        bn.train(training).to(device)
        xt = tg.Tensor(x, requires_grad=True, device=device)
        out = bn(xt)
        out.backward(tg.Tensor(randn(*x.shape, seed=1), device=device))
        grads = [bn.weight.grad, bn.bias.grad] if affine else []
        return [t.numpy() for t in [out, xt.grad, bn.running_mean, bn.running_var] + grads]
    return compute, 2e-5, 2e-5


def batchnorm_case(device, training=True, affine=True, shape=(40, 64, 16, 16), dtype=np.float32):
    """dtype: the input's; the module's parameters and running statistics stay float32."""
    x = (randn(*shape) * 3 + 5).astype(dtype)  # a mean far from 0, as after a ReLU
    running = [np.zeros(shape[1], np.float32), np.ones(shape[1], np.float32)]
    return batchnorm_module_case(device, nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d, x, training, affine,
                                 running, randn(shape[1], seed=2), randn(shape[1], seed=3))


def batchnorm_relu_case(device, training=True, affine=True, shape=(40, 64, 16, 16)):
    """BatchNormReLU2d: every output at least 0.1 away from the ReLU's kink (each channel's inputs are four levels,
    mean +- 1 and 3 standard units, and the bias is a fifth of the weight), so that the two paths, which round
    the BatchNorm output differently, agree on the ReLU's mask everywhere."""
    rng = np.random.default_rng(0)
    n, c = shape[:2]
    levels = np.resize(np.array([-3.0, -1.0, 1.0, 3.0]), n * int(np.prod(shape[2:])))
    x = np.stack([rng.permutation(levels) for _ in range(c)]).reshape((c, n) + shape[2:]).swapaxes(0, 1)
    weight = (rng.choice([-1.0, 1.0], c) * rng.uniform(0.5, 1.5, c)).astype(np.float32)
    running = [np.full(c, 5.0), np.full(c, 45.0)]  # the batch's own statistics
    return batchnorm_module_case(device, nn.BatchNormReLU2d, (5 + 3 * x).astype(np.float32), training, affine,
                                 running, weight, weight / 5)


def layer_norm_case(device, shape=(64, 64, 256), normalized=1, affine=True, dtype=np.float32, transposed=False):
    """x of `shape`, normalised over its last `normalized` dims (MLP-Mixer's: 64 patches of 256 channels);
    transposed: x's first two dims swapped first (a strided input, and a strided gradient back)."""
    x, normalized_shape = (randn(*shape) * 3 + 1).astype(dtype), shape[len(shape) - normalized:]
    params = (randn(*normalized_shape, seed=2, dtype=dtype), randn(*normalized_shape, seed=3, dtype=dtype))
    compute = forward_backward(lambda x, *p: F.layer_norm(x.transpose(0, 1) if transposed else x, normalized_shape,
                                                          *p), x, *params * affine, device=device)
    return compute, 1e-5, 1e-6  # the weight's and bias's gradients: sums of 4096 float32 rows, in float64 here


def matmul_case(device, a_shape=(256, 1024), b_shape=(1024, 512), transposed=False):
    """a @ b (a @ b.T with `transposed`, b then of shape (N, K): a weight); large enough to be shared out."""
    op = (lambda a, b: a @ b.T) if transposed else (lambda a, b: a @ b)
    return forward_backward(op, randn(*a_shape), randn(*b_shape, seed=2), device=device), 1e-5, 1e-5


def linear_case(device, x_shape=(256, 1024), out_features=512, bias=True):
    arrays = (randn(*x_shape), randn(out_features, x_shape[-1], seed=2)) + ((randn(out_features, seed=3),) * bias)
    return forward_backward(F.linear, *arrays, device=device), 1e-5, 1e-5


def cross_entropy_case(device, smoothing=0.0):
    labels = np.arange(300) % 10
    return forward_backward(lambda z: F.cross_entropy(z, tg.Tensor(labels, device=device), label_smoothing=smoothing),
                            randn(300, 10) * 4, device=device), 1e-6, 1e-6


def conv_case(device, stride=1, groups=1, padding=1, dilation=1, bias=True, kernel=(3, 3), shape=(6, 4, 9, 9)):
    x, w = randn(*shape), randn(6, shape[1] // groups, *kernel, seed=2)
    arrays = (x, w, randn(6, seed=3)) if bias else (x, w)
    return forward_backward(lambda *t: F.conv2d(*t, stride=stride, padding=padding, dilation=dilation,
                                                groups=groups), *arrays, device=device), 1e-5, 1e-5


def winograd_case(device, shape=(3, 128, 9, 7), out_channels=8, padding=1, bias=True, dtype=np.float32,
                  chunk_bytes=None):
    """A 3x3 stride-1 convolution with enough channels for the CPU's F(2x2, 3x3) path (odd sizes: a last
    row and column of tiles half outside); chunk_bytes: so small a chunk that each image is one."""
    return _chunked_conv_case(device, shape, (out_channels, shape[1], 3, 3), padding, bias, dtype,
                              fast_winograd, chunk_bytes)


def shifted_case(device, shape=(3, 16, 9, 7), out_channels=8, kernel=(3, 3), stride=1, bias=True, dtype=np.float32,
                 chunk_bytes=None):
    """A stride-1 convolution whose output is as large as its input, or a 1x1 one of any stride, with too few
    channels for Winograd: the CPU's shifted products; chunk_bytes: so small a chunk that each image is one."""
    padding = tuple((k - 1) // 2 for k in kernel)
    return _chunked_conv_case(device, shape, (out_channels, shape[1]) + kernel, padding, bias, dtype, fast_shifted,
                              chunk_bytes, stride)


def _chunked_conv_case(device, shape, weight_shape, padding, bias, dtype, module, chunk_bytes, stride=1):
    """A convolution, with `module`.CHUNK_BYTES set to chunk_bytes while it runs (when given)."""
    x, w = randn(*shape, dtype=dtype), randn(*weight_shape, seed=2, dtype=dtype)
    arrays = (x, w, randn(weight_shape[0], seed=3, dtype=dtype)) if bias else (x, w)
    compute = forward_backward(lambda *t: F.conv2d(*t, stride=stride, padding=padding), *arrays, device=device)
    if chunk_bytes is not None:
        def compute(compute=compute):
            saved, module.CHUNK_BYTES = module.CHUNK_BYTES, chunk_bytes
            try:
                return compute()
            finally:
                module.CHUNK_BYTES = saved
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    return compute, tolerance, tolerance


def max_pool_case(device, kernel=3, stride=2, padding=1, dilation=1, size=(11, 11)):
    x = np.random.default_rng(0).permutation(4 * 3 * size[0] * size[1]).reshape(4, 3, *size)  # no ties
    x = x.astype(np.float32)
    return forward_backward(lambda t: F.max_pool2d(t, kernel, stride, padding, dilation), x, device=device), 0, 0


def optimiser_case(device, make, steps=3):
    shapes = [(300, 1000), (1000,), (7, 3, 3, 3)]  # 1.2 MB, a vector, a small kernel

    def compute():
        params = [nn.Parameter(tg.Tensor(randn(*s, seed=i), device=device)) for i, s in enumerate(shapes)]
        opt = make(params)
        for step in range(steps):
            for i, p in enumerate(params):
                p.grad = tg.Tensor(randn(*p.shape, seed=10 * step + i), device=device)
            opt.step()
        state = [a for p in params for a in opt.state[p].values() if hasattr(a, "shape")]
        return [p.numpy() for p in params] + [tg.Tensor(a).numpy() for a in state]
    return compute, 1e-6, 1e-7


OPTIMISERS = {
    optim.Adam: [lambda p: optim.Adam(p, lr=1e-2), lambda p: optim.Adam(p, lr=1e-2, weight_decay=0.1),
                 lambda p: optim.Adam(p, lr=1e-2, amsgrad=True)],
    optim.AdamW: [lambda p: optim.AdamW(p, lr=1e-2, weight_decay=0.1)],
    optim.SGD: [lambda p: optim.SGD(p, lr=0.1), lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4),
                lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.3),
                lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)],
}
CASES = {  # reference op -> cases (functions of the device)
    ops.ReLUFunction: [relu_case],
    ops.GELUFunction: [gelu_case, partial(gelu_case, dtype=np.float64), partial(gelu_case, approximate="tanh")],
    BatchNormFunction: [batchnorm_case, partial(batchnorm_case, training=False), partial(batchnorm_case, affine=False),
                        partial(batchnorm_case, shape=(4096, 300)), partial(batchnorm_case, shape=(256, 512, 4, 4)),
                        partial(batchnorm_case, shape=(32, 16, 50)),
                        partial(batchnorm_case, training=False, dtype=np.float64),
                        partial(batchnorm_case, dtype=np.float64)],
    BatchNormReLUFunction: [batchnorm_relu_case, partial(batchnorm_relu_case, training=False),
                            partial(batchnorm_relu_case, affine=False),
                            partial(batchnorm_relu_case, shape=(256, 512, 4, 4))],
    LayerNormFunction: [layer_norm_case, partial(layer_norm_case, affine=False),
                        partial(layer_norm_case, shape=(16, 16, 32, 32), normalized=2),
                        partial(layer_norm_case, dtype=np.float64), partial(layer_norm_case, shape=(4, 8, 16)),
                        partial(layer_norm_case, transposed=True)],
    ops.MatMul: [matmul_case, partial(matmul_case, transposed=True, b_shape=(512, 1024)),
                 partial(matmul_case, a_shape=(2048, 64), b_shape=(64, 16)), partial(matmul_case, a_shape=(4, 5),
                                                                                    b_shape=(5, 3)),
                 partial(matmul_case, a_shape=(3, 64, 128), b_shape=(128, 32))],
    F.LinearFunction: [linear_case, partial(linear_case, bias=False), partial(linear_case, x_shape=(8, 64, 256)),
                       partial(linear_case, x_shape=(3, 7), out_features=2)],
    F.CrossEntropy: [cross_entropy_case, partial(cross_entropy_case, smoothing=0.1)],
    Conv2dFunction: [conv_case, partial(conv_case, stride=2, bias=False), partial(conv_case, groups=2, dilation=2),
                     partial(conv_case, padding=0), partial(conv_case, stride=2, shape=(12, 4, 17, 17)),
                     partial(conv_case, kernel=(1, 1), stride=2, padding=0, bias=False),
                     partial(conv_case, kernel=(2, 3), stride=(2, 1), padding=(0, 2)),
                     winograd_case, partial(winograd_case, dtype=np.float64),
                     partial(winograd_case, shape=(1, 136, 8, 8), out_channels=32, padding=0, bias=False),
                     partial(winograd_case, shape=(2, 128, 5, 6), padding=2, dtype=np.float64),
                     partial(winograd_case, shape=(5, 128, 6, 6), chunk_bytes=1),
                     partial(winograd_case, shape=(12, 128, 16, 16), out_channels=16, bias=False),
                     partial(winograd_case, shape=(0, 128, 6, 6)),
                     partial(winograd_case, shape=(2, 128, 6, 6), out_channels=136),  # by blocks of channels
                     shifted_case, partial(shifted_case, dtype=np.float64),
                     partial(shifted_case, kernel=(1, 1), bias=False), partial(shifted_case, kernel=(5, 3)),
                     partial(shifted_case, kernel=(1, 1), stride=2), partial(shifted_case, kernel=(1, 1), stride=(3, 2),
                                                                             dtype=np.float64),
                     partial(shifted_case, shape=(2, 24, 6, 5), kernel=(3, 5), dtype=np.float64),
                     partial(shifted_case, shape=(5, 16, 6, 6), chunk_bytes=1),
                     partial(shifted_case, shape=(12, 32, 16, 16), out_channels=16, bias=False),
                     partial(shifted_case, shape=(0, 16, 6, 6))],
    MaxPool: [max_pool_case, partial(max_pool_case, kernel=2, stride=2, padding=0),
              partial(max_pool_case, kernel=3, stride=1, padding=1, dilation=2),
              partial(max_pool_case, kernel=2, stride=1, padding=1, dilation=4, size=(5, 3))],  # on padding only
    **{opt: [partial(optimiser_case, make=make) for make in makers] for opt, makers in OPTIMISERS.items()},
}


def cases_of(device_type: str) -> list:
    registered = fast.registered(device_type)
    return [pytest.param(case, id=f"{ref.__name__}-{i}") for ref, cases in CASES.items() if ref in registered
            for i, case in enumerate(cases)]


@pytest.mark.parametrize("device_type", fast.DEVICE_TYPES)
def test_every_fast_path_has_cases(device_type):
    assert set(fast.registered(device_type)) <= set(CASES)


@pytest.mark.parametrize("threads", [1, 3], indirect=True)
@pytest.mark.parametrize("case", cases_of("cpu"))
def test_cpu_fast_path_equals_its_reference(case, threads):
    compute, rtol, atol = case("cpu")
    assert_same(*run_both(compute), rtol, atol)


@pytest.mark.skipif(not tg.cuda_available() or fast.using_reference_ops("cuda"),
                    reason="the CUDA kernels run on a real GPU only (not on the CuPy stand-in)")
@pytest.mark.parametrize("case", cases_of("cuda"))
def test_cuda_fast_path_equals_its_reference(case):
    compute, rtol, atol = case("cuda")
    assert_same(*run_both(compute), max(rtol, 1e-5), max(atol, 1e-5))  # kernels contract a * b + c into FMAs


def test_the_fast_paths_run_and_the_switch_turns_them_off():
    x = tg.Tensor(randn(4, 3), requires_grad=True)
    assert type(x.relu()._ctx) is fast_cpu.ReLUCPU
    with tg.reference_ops():
        assert fast.using_reference_ops()
        assert type(x.relu()._ctx) is ops.ReLUFunction
        assert fast.implementation(optim.SGD, tg.Device("cpu")) is optim.SGD
    assert fast.implementation(optim.SGD, tg.Device("cpu")) is fast_cpu.SGDCPU
    tg.use_reference_ops(True, "cpu")
    try:
        with tg.reference_ops("cuda"):  # the block ends with the choice before it: cpu still forced
            assert fast.using_reference_ops("cpu") and fast.using_reference_ops("cuda")
        assert fast.using_reference_ops("cpu")
    finally:
        tg.use_reference_ops(False, "cpu")


@pytest.mark.parametrize("channels, stride, kernel, padding, path", [
    (128, 1, 3, 1, "winograd"), (16, 1, 3, 1, "shifted"), (16, 1, 1, 0, "shifted"), (16, 1, 3, 0, "im2col"),
    (128, 2, 3, 1, "im2col"), (8, 1, 3, 1, "im2col"), (16, 2, 1, 0, "shifted"), (16, 2, 1, 1, "im2col")])
def test_each_cpu_convolution_path_runs_where_it_applies(channels, stride, kernel, padding, path):
    """Winograd for 3x3 stride-1 with many channels; shifted products for stride-1 convolutions keeping the
    image's size with fewer, and for 1x1 ones without padding; im2col for the rest."""
    x = tg.Tensor(randn(2, channels, 6, 6), requires_grad=True)
    out = F.conv2d(x, tg.Tensor(randn(4, channels, kernel, kernel)), stride=stride, padding=padding)
    assert type(out._ctx) is fast_cpu.Conv2dCPU
    assert (out._ctx.winograd, out._ctx.shifted) == (path == "winograd", path == "shifted")


@pytest.mark.skipif(not blas_threads.available(), reason="NumPy's BLAS here is not an OpenBLAS found by blas_threads")
def test_one_blas_thread_sets_openblas_to_one_thread_and_back():
    before = blas_threads.blas_thread_count()
    with blas_threads.one_blas_thread():
        assert blas_threads.blas_thread_count() == 1
    assert blas_threads.blas_thread_count() == before


def test_environment_switch_forces_the_reference_ops():
    code = "import tinygrad_ift as tg\nprint(type(tg.ones(2, requires_grad=True).relu()._ctx).__name__)\n"
    env = {**os.environ, fast.ENV_SWITCH: "1"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ReLUFunction"


def test_replaces_rejects_a_class_that_is_not_a_subclass():
    with pytest.raises(TypeError, match="must subclass the reference ReLUFunction"):
        fast.replaces(ops.ReLUFunction, "cpu")(ops.TanhFunction)
    with pytest.raises(ValueError, match="device_type"):
        fast.replaces(ops.ReLUFunction, "tpu")


@pytest.mark.parametrize("threads", [3], indirect=True)
@pytest.mark.parametrize("batch, channels, size, stride", [
    (24, 128, 8, 1), (2, 128, 4, 1), (24, 16, 8, 1), (24, 16, 9, 2)])  # Winograd by chunks, by blocks; shifted; im2col
def test_conv_gradients_are_the_same_on_every_run_whichever_thread_takes_a_chunk(batch, channels, size, stride,
                                                                                   threads):
    """The threads draw the chunks in no fixed order; the chunks' kernel-gradient shares are summed in chunk order."""
    x, w = randn(batch, channels, size, size), randn(128, channels, 3, 3, seed=2)
    g = randn(batch, 128, -(-size // stride), -(-size // stride), seed=3)

    def gradients():
        xt, wt = tg.Tensor(x, requires_grad=True), tg.Tensor(w, requires_grad=True)
        F.conv2d(xt, wt, stride=stride, padding=1).backward(tg.Tensor(g))
        return xt.grad.numpy(), wt.grad.numpy()

    first = gradients()
    for _ in range(4):
        for array, again in zip(first, gradients()):
            np.testing.assert_array_equal(array, again)


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("stride, channels", [(1, 128), (1, 16), (2, 4)])  # on the CPU: Winograd; shifted; im2col
def test_conv_backward_skips_the_input_gradient_nobody_wants(reference, stride, channels):
    """An input that needs no gradient (a network's images) gets none computed; the weight's is unchanged."""
    x, w, g = randn(2, channels, 6, 6), randn(4, channels, 3, 3, seed=2), randn(2, 4, 6 // stride, 6 // stride, seed=3)

    def weight_grad(input_grad: bool):
        with tg.reference_ops() if reference else contextlib.nullcontext():
            xt, wt = tg.Tensor(x, requires_grad=input_grad), tg.Tensor(w, requires_grad=True)
            out = F.conv2d(xt, wt, stride=stride, padding=1)
            assert out._ctx.needs_input_grad == (input_grad, True)
            grads = out._ctx.backward(g)
            assert (grads[0] is None) is not input_grad
            return grads[1]

    np.testing.assert_array_equal(weight_grad(False), weight_grad(True))


@pytest.mark.parametrize("threads", [3], indirect=True)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_runs_sliced_on_large_float_arrays_only_and_equals_its_reference_to_the_last_bit(dtype, threads):
    """The CPU path makes the reference's operations in its order, on slices."""
    big, small = tg.Tensor(randn(512, 1000), requires_grad=True), tg.Tensor(randn(4, 8), requires_grad=True)
    assert F.gelu(big)._ctx.sliced and not F.gelu(small)._ctx.sliced
    assert not F.gelu(big, approximate="tanh")._ctx.sliced
    for fast_array, reference_array in zip(*run_both(gelu_case("cpu", dtype=dtype)[0])):
        np.testing.assert_array_equal(fast_array, reference_array)
