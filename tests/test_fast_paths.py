"""Every CPU fast path (tinygrad_ift/fast/cpu.py) gives its reference op's results, and one switch turns them off.

Each case runs the same computation twice, with the fast paths on and with `use_reference_ops(True)`, on
inputs large enough to be cut into several cache-sized slices (and one- or three-threaded), and compares
outputs, gradients and optimiser states.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_ift as tg
import tinygrad_ift.nn.functional as F
from tinygrad_ift import fast, nn, ops, optim
from tinygrad_ift.fast import cpu as fast_cpu
from tinygrad_ift.nn.conv import Conv2dFunction
from tinygrad_ift.nn.normalization import BatchNormFunction


def run_both(compute):
    """compute() with the fast paths, then with the references only: two lists of arrays."""
    fast_result = [np.array(a) for a in compute()]
    tg.use_reference_ops(True)
    try:
        reference_result = [np.array(a) for a in compute()]
    finally:
        tg.use_reference_ops(False)
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


def forward_backward(fn, *arrays, seed=1):
    """Outputs and input gradients of fn(*tensors) against a fixed random output gradient."""
    def compute():
        tensors = [tg.Tensor(a, requires_grad=True) for a in arrays]
        out = fn(*tensors)
        out.backward(randn(*out.shape, seed=seed, dtype=out.dtype))
        return [out.data] + [t.grad.data for t in tensors]
    return compute


# ----- one case per fast path -------------------------------------------------------------------------------
def relu_case():
    x = randn(64, 16, 32, 32)  # 4 MB: four 1 MB slices
    x[0, 0, 0, :4] = 0.0  # the gradient at 0 is 0 on both paths
    return forward_backward(lambda t: t.relu(), x), 0, 0


def batchnorm_case(training=True, affine=True, shape=(40, 64, 16, 16)):
    x = randn(*shape) * 3 + 5  # a mean far from 0, as after a ReLU
    running = [np.zeros(shape[1], np.float32), np.ones(shape[1], np.float32)]

    def compute():
        bn = nn.BatchNorm2d(shape[1], affine=affine) if len(shape) == 4 else nn.BatchNorm1d(shape[1], affine=affine)
        bn.running_mean.data[:], bn.running_var.data[:] = running
        if affine:
            bn.weight.data[:], bn.bias.data[:] = randn(shape[1], seed=2), randn(shape[1], seed=3)
        bn.train(training)
        xt = tg.Tensor(x, requires_grad=True)
        out = bn(xt)
        out.backward(randn(*shape, seed=1))
        grads = [bn.weight.grad.data, bn.bias.grad.data] if affine else []
        return [out.data, xt.grad.data, bn.running_mean.data, bn.running_var.data] + grads
    return compute, 2e-5, 2e-5


def conv_case(stride=1, groups=1, padding=1, dilation=1, bias=True):
    x, w = randn(6, 4, 9, 9), randn(6, 4 // groups, 3, 3, seed=2)
    b = randn(6, seed=3)
    arrays = (x, w, b) if bias else (x, w)
    return forward_backward(lambda *t: F.conv2d(*t, stride=stride, padding=padding, dilation=dilation,
                                                groups=groups), *arrays), 1e-5, 1e-5


def optimiser_case(make, steps=3):
    shapes = [(300, 1000), (1000,), (7, 3, 3, 3)]  # 1.2 MB, a vector, a small kernel

    def compute():
        params = [nn.Parameter(randn(*s, seed=i)) for i, s in enumerate(shapes)]
        opt = make(params)
        for step in range(steps):
            for i, p in enumerate(params):
                p.grad = tg.Tensor(randn(*p.shape, seed=10 * step + i))
            opt.step()
        state = [a for p in params for a in opt.state[p].values() if isinstance(a, np.ndarray)]
        return [p.data for p in params] + state
    return compute, 1e-6, 1e-7


CASES = {
    ops.ReLUFunction: [relu_case],
    BatchNormFunction: [batchnorm_case, lambda: batchnorm_case(training=False), lambda: batchnorm_case(affine=False),
                        lambda: batchnorm_case(shape=(4096, 300)), lambda: batchnorm_case(shape=(256, 512, 4, 4))],
    Conv2dFunction: [conv_case, lambda: conv_case(stride=2, bias=False), lambda: conv_case(groups=2, dilation=2),
                     lambda: conv_case(padding=0)],
    optim.Adam: [lambda: optimiser_case(lambda p: optim.Adam(p, lr=1e-2)),
                 lambda: optimiser_case(lambda p: optim.Adam(p, lr=1e-2, weight_decay=0.1)),
                 lambda: optimiser_case(lambda p: optim.Adam(p, lr=1e-2, amsgrad=True))],
    optim.AdamW: [lambda: optimiser_case(lambda p: optim.AdamW(p, lr=1e-2, weight_decay=0.1))],
    optim.SGD: [lambda: optimiser_case(lambda p: optim.SGD(p, lr=0.1)),
                lambda: optimiser_case(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4)),
                lambda: optimiser_case(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.3)),
                lambda: optimiser_case(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True))],
}
CASE_LIST = [(reference, case) for reference, cases in CASES.items() for case in cases]


def test_every_cpu_fast_path_has_cases():
    assert set(fast.registered("cpu")) == set(CASES)


@pytest.mark.parametrize("threads", [1, 3], indirect=True)
@pytest.mark.parametrize("reference,case", CASE_LIST,
                         ids=[f"{ref.__name__}-{i}" for ref, cases in CASES.items() for i in range(len(cases))])
def test_cpu_fast_path_equals_its_reference(reference, case, threads):
    compute, rtol, atol = case()
    fast_result, reference_result = run_both(compute)
    assert_same(fast_result, reference_result, rtol, atol)


def test_the_fast_paths_run_and_the_switch_turns_them_off():
    x = tg.Tensor(randn(4, 3), requires_grad=True)
    assert type(x.relu()._ctx) is fast_cpu.ReLUCPU
    tg.use_reference_ops(True)
    try:
        assert fast.using_reference_ops()
        assert type(x.relu()._ctx) is ops.ReLUFunction
        assert fast.implementation(optim.SGD, tg.Device("cpu")) is optim.SGD
    finally:
        tg.use_reference_ops(False)
    assert fast.implementation(optim.SGD, tg.Device("cpu")) is fast_cpu.SGDCPU


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
