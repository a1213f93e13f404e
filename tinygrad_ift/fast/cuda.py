"""CUDA fast paths: fused CuPy kernels (cuda_kernels.cu) in place of reference ops that take several launches.

On the GPU the reference ops are launch-bound: each NumPy-style expression is one CuPy kernel. The classes here
replace the ops of a training step that take many (BatchNorm, BatchNorm + ReLU, GELU, ReLU's backward, softmax
cross-entropy, im2col and col2im, max pooling, and the optimiser updates, one launch per parameter) by one to three
kernels each. Each subclasses its reference and registers itself with `replaces(..., "cuda")`; arrays of another
dtype than float32/float64, or of mixed dtypes, go to the reference. TF32 matrix products are a separate opt-in: backend.allow_tf32.

The kernels compile on first use (CuPy's RawModule caches them per device and on disk); CI compiles
cuda_kernels.cu for sm_90 with NVRTC and runs each fast path with its kernels compiled as host C++ against its
reference (tests/test_cuda_kernels.py), and a real GPU checks each fast path against its reference through the
prepared GPU command (benchmarks/gpu_check.sh).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..backend import get_array_module
from ..nn.conv import Conv2dFunction
from ..nn.functional import CrossEntropy
from ..nn.normalization import BatchNormFunction, BatchNormReLUFunction
from ..nn.pooling import MaxPool, _out_hw
from ..ops import GELUFunction, ReLUFunction
from ..optim import SGD, Adam, AdamW
from . import replaces

SOURCE_PATH = Path(__file__).with_name("cuda_kernels.cu")
THREADS = 256  # threads per block, as THREADS in the source
C_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_modules: dict = {}


def source(dtype) -> str:
    """The kernels' CUDA source for arrays of `dtype` (float32 or float64)."""
    return f"typedef {C_TYPES[np.dtype(dtype)]} T;\n" + SOURCE_PATH.read_text()


def _supported(*arrays) -> bool:
    """Whether the kernels take these arrays: float32 or float64, all of one dtype (None: an input not given)."""
    dtypes = {a.dtype for a in arrays if a is not None}
    return len(dtypes) == 1 and dtypes.pop() in C_TYPES


def _launch(name: str, like, threads: int, *args, blocks: int | None = None) -> None:
    """Run kernel `name` for arrays of like's dtype: `blocks` blocks, or enough for `threads` threads."""
    xp = get_array_module(like)
    key = np.dtype(like.dtype)
    if key not in _modules:
        _modules[key] = xp.RawModule(code=source(key), options=("--std=c++17",))
    count = blocks if blocks is not None else max(1, -(-threads // THREADS))
    _modules[key].get_function(name)((count,), (THREADS,), args)


def _given(array, placeholder):
    """A kernel's array argument that may be absent (None): the placeholder then, which the kernel does not read."""
    return placeholder if array is None else array


def _real(like, value):
    """A scalar kernel argument of the arrays' type T."""
    return like.dtype.type(value)


def _ints(*values):
    return tuple(np.int32(v) for v in values)


# ----- activations -----------------------------------------------------------------------------------------
@replaces(ReLUFunction, "cuda")
class ReLUCUDA(ReLUFunction):
    """ReLU whose backward is one kernel (the reference's is a comparison, then a product)."""

    def backward(self, grad):
        if not _supported(grad, self.out):
            return super().backward(grad)
        xp = get_array_module(grad)
        grad, dx = xp.ascontiguousarray(grad), xp.empty(grad.shape, dtype=grad.dtype)
        _launch("relu_backward", grad, grad.size, grad, xp.ascontiguousarray(self.out), dx, np.int64(grad.size))
        return dx


@replaces(GELUFunction, "cuda")
class GELUCUDA(GELUFunction):
    """Exact GELU forward and backward, one kernel each (the tanh approximation stays on the reference)."""

    def forward(self, a, approximate="none"):
        if approximate != "none" or not _supported(a):
            return super().forward(a, approximate)
        xp = get_array_module(a)
        self.a, self.approximate = xp.ascontiguousarray(a), approximate
        out, self.cdf = xp.empty(a.shape, dtype=a.dtype), xp.empty(a.shape, dtype=a.dtype)
        _launch("gelu_forward", a, a.size, self.a, out, self.cdf, np.int64(a.size))
        return out

    def backward(self, grad):
        if self.approximate != "none" or not _supported(grad, self.a):
            return super().backward(grad)
        xp = get_array_module(grad)
        grad, dx = xp.ascontiguousarray(grad), xp.empty(grad.shape, dtype=grad.dtype)
        _launch("gelu_backward", grad, grad.size, grad, self.a, self.cdf, dx, np.int64(grad.size))
        return dx


# ----- normalisation ---------------------------------------------------------------------------------------
class FusedBatchNorm:
    """BatchNorm in six kernels: forward per-channel moments, per-channel statistics (mean, invstd, the running
    statistics' update, and y = x scale + shift's scale and shift), then y; backward per-channel sums, per-channel
    coefficients, then dx = dy scale - x coef + offset (the algebra of fast/cpu.py's BatchNormCPU). With `relu` the
    ReLU after it runs in the same kernels: y = max(x scale + shift, 0) forward, dy masked where y <= 0 backward
    (the mask recomputed from x, so the output is not kept). Mixed in before the reference it replaces, which runs
    arrays of other dtypes, and inputs of mixed dtypes (the reference promotes them)."""

    relu = False

    def forward(self, x, weight=None, bias=None, *, eps, training, running_mean=None, running_var=None,
                momentum=0.1):
        self.fused = _supported(x, weight, bias, running_mean, running_var)
        if not self.fused:
            return super().forward(x, weight, bias, eps=eps, training=training, running_mean=running_mean,
                                   running_var=running_var, momentum=momentum)
        xp = get_array_module(x)
        n, c = x.shape[:2]
        length = x.size // max(n * c, 1)
        x = xp.ascontiguousarray(x)
        mean, invstd, scale, shift = (xp.empty(c, dtype=x.dtype) for _ in range(4))
        sums, squares = xp.empty(c, dtype=np.float64), xp.empty(c, dtype=np.float64)
        moment_shift = xp.empty(c, dtype=x.dtype)
        if training:
            _launch("bn_moments", x, 0, x, moment_shift, sums, squares, *_ints(n, c, length), blocks=c)
        absent = mean  # stands for an input not given (the kernel does not read it)
        _launch("bn_statistics", x, c, moment_shift, sums, squares, _given(weight, absent), _given(bias, absent),
                _given(running_mean, absent), _given(running_var, absent), *_ints(training, weight is not None,
                                                                                   running_mean is not None),
                np.float64(momentum), np.float64(eps), np.int64(n * length), np.int32(c), mean, invstd, scale, shift)
        out = xp.empty(x.shape, dtype=x.dtype)
        _launch("bn_affine", x, x.size, x, scale, shift, np.int32(self.relu), out, np.int64(x.size),
                *_ints(c, length))
        self.x, self.mean, self.invstd, self.scale, self.shift, self.training = x, mean, invstd, scale, shift, training
        self.sizes = n, c, length
        return out

    def backward(self, grad):
        if not self.fused:
            return super().backward(grad)
        xp = get_array_module(grad)
        n, c, length = self.sizes
        dy, x, relu = xp.ascontiguousarray(grad, dtype=self.x.dtype), self.x, np.int32(self.relu)
        sum_dy, dot = xp.empty(c, dtype=np.float64), xp.empty(c, dtype=np.float64)
        _launch("bn_backward_sums", dy, 0, dy, x, self.mean, self.scale, self.shift, relu, sum_dy, dot,
                *_ints(n, c, length), blocks=c)
        grad_weight, grad_bias, coef, offset = (xp.empty(c, dtype=x.dtype) for _ in range(4))
        _launch("bn_backward_coefficients", x, c, sum_dy, dot, self.mean, self.invstd, self.scale,
                np.int32(self.training), np.int64(n * length), np.int32(c), grad_weight, grad_bias, coef, offset)
        dx = xp.empty(x.shape, dtype=x.dtype)
        _launch("bn_backward_dx", dy, dy.size, dy, x, self.scale, self.shift, relu, coef, offset, dx,
                np.int64(dy.size), *_ints(c, length))
        return dx, grad_weight, grad_bias


@replaces(BatchNormFunction, "cuda")
class BatchNormCUDA(FusedBatchNorm, BatchNormFunction):
    """BatchNorm in six kernels (FusedBatchNorm)."""


@replaces(BatchNormReLUFunction, "cuda")
class BatchNormReLUCUDA(FusedBatchNorm, BatchNormReLUFunction):
    """BatchNorm then ReLU in BatchNorm's six kernels (FusedBatchNorm with relu); apart, the ReLU would add a launch
    forward and one backward, and a pass over the whole tensor each way."""

    relu = True


# ----- losses ----------------------------------------------------------------------------------------------
@replaces(CrossEntropy, "cuda")
class CrossEntropyCUDA(CrossEntropy):
    """Softmax cross-entropy with label smoothing: one kernel forward (a thread per row), one backward."""

    def forward(self, logits, labels, label_smoothing):
        self.fused = _supported(logits)
        if not self.fused:
            return super().forward(logits, labels, label_smoothing)
        xp = get_array_module(logits)
        n, c = logits.shape
        logits = xp.ascontiguousarray(logits)
        self.labels, self.smoothing = xp.ascontiguousarray(labels, dtype=np.int64), label_smoothing
        self.probs, loss = xp.empty(logits.shape, dtype=logits.dtype), xp.empty(n, dtype=logits.dtype)
        _launch("cross_entropy_forward", logits, n, logits, self.labels, _real(logits, label_smoothing), loss,
                self.probs, *_ints(n, c))
        return loss

    def backward(self, grad):
        if not self.fused:
            return super().backward(grad)
        xp = get_array_module(grad)
        n, c = self.probs.shape
        dz = xp.empty(self.probs.shape, dtype=self.probs.dtype)
        _launch("cross_entropy_backward", dz, n * c, self.probs, self.labels, _real(dz, self.smoothing),
                xp.ascontiguousarray(grad, dtype=dz.dtype), dz, *_ints(n, c))
        return dz


# ----- convolution and pooling -----------------------------------------------------------------------------
@replaces(Conv2dFunction, "cuda")
class Conv2dCUDA(Conv2dFunction):
    """Conv2d whose im2col is one kernel reading the unpadded image (the reference pads a channels-last copy
    first, in five launches, then copies the windows), and whose col2im is one kernel, a gather per pixel (the
    reference adds one slab per kernel offset)."""

    def gather_columns(self):
        if not _supported(self.x):
            return super().gather_columns()
        xp = get_array_module(self.x)
        columns = xp.empty(self.columns_shape, dtype=self.x.dtype)
        _launch("im2col", columns, columns.size, xp.ascontiguousarray(self.x), columns,
                *_ints(*self.x_shape, self.columns_shape[1], *self._window()))
        return columns

    def scatter_columns(self, grad_columns):
        if not _supported(grad_columns):
            return super().scatter_columns(grad_columns)
        xp = get_array_module(grad_columns)
        columns, image = xp.ascontiguousarray(grad_columns), xp.empty(self.x_shape, dtype=grad_columns.dtype)
        _launch("col2im", columns, image.size, columns, image,
                *_ints(*self.x_shape, columns.shape[1], *self._window()))
        return image

    def _window(self) -> tuple:
        """The kernels' geometry arguments: KH, KW, SH, SW, PH, PW, DH, DW, OH, OW."""
        (kh, kw), stride, padding, dilation = self.geometry
        out_hw = tuple(int(s) for s in _out_hw(self.x_shape, (kh, kw), stride, padding, dilation))
        return (kh, kw, *stride, *padding, *dilation, *out_hw)


@replaces(MaxPool, "cuda")
class MaxPoolCUDA(MaxPool):
    """Max pooling in one kernel that also records each window's winner; backward adds each output's gradient
    onto its winner (atomically: windows may overlap)."""

    def forward(self, x, kernel, stride, padding, dilation):
        self.fused = _supported(x)
        if not self.fused:
            return super().forward(x, kernel, stride, padding, dilation)
        xp = get_array_module(x)
        n, c, h, w = self.input_shape = x.shape
        self.geometry = kernel, stride, padding, dilation
        self.out_hw = tuple(int(s) for s in _out_hw(x.shape, kernel, stride, padding, dilation))
        out = xp.empty((n, c) + self.out_hw, dtype=x.dtype)
        self.winner = xp.empty(out.shape, dtype=np.int32)
        _launch("max_pool_forward", x, out.size, xp.ascontiguousarray(x), out, self.winner,
                *_ints(n * c, h, w, *kernel, *stride, *padding, *dilation, *self.out_hw))
        return out

    def backward(self, grad):
        if not self.fused:
            return super().backward(grad)
        xp = get_array_module(grad)
        n, c, h, w = self.input_shape
        kernel, stride, padding, dilation = self.geometry
        dx = xp.zeros(self.input_shape, dtype=grad.dtype)
        _launch("max_pool_backward", dx, grad.size, xp.ascontiguousarray(grad), self.winner, dx,
                *_ints(n * c, h, w, kernel[1], *stride, *padding, *dilation, *self.out_hw))
        return dx


# ----- optimisers ------------------------------------------------------------------------------------------
def _in_place_ready(param, grad) -> bool:
    """Whether the kernels can update the parameter's own memory: contiguous float32/float64 of one dtype."""
    return _supported(param.data, grad) and param.data.flags.c_contiguous


@replaces(Adam, "cuda")
class AdamCUDA(Adam):
    """Adam's (and AdamW's) whole update in one kernel per parameter (the reference launches about 14)."""

    def update(self, param, grad, state, group) -> None:
        if group["amsgrad"] or not _in_place_ready(param, grad):  # `self` is the user's Adam, not an AdamCUDA
            return Adam.update(self, param, grad, state, group)
        xp = get_array_module(param.data)
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(param.data), exp_avg_sq=xp.zeros_like(param.data))
        state["step"] += 1
        p = param.data
        reals = (_real(p, v) for v in (lr, beta1, beta2, eps, wd))
        _launch("adam_update", p, p.size, p, xp.ascontiguousarray(grad), state["exp_avg"], state["exp_avg_sq"],
                *reals, np.int32(self.decoupled_weight_decay), _real(p, math.sqrt(1 - beta2 ** state["step"])),
                _real(p, lr / (1 - beta1 ** state["step"])), np.int64(p.size))


@replaces(AdamW, "cuda")
class AdamWCUDA(AdamW, AdamCUDA):
    """AdamW with AdamCUDA's update (the kernel reads the decoupled weight decay flag)."""


@replaces(SGD, "cuda")
class SGDCUDA(SGD):
    """SGD with momentum and weight decay in one kernel per parameter."""

    def update(self, param, grad, state, group) -> None:
        if group["nesterov"] or not _in_place_ready(param, grad):  # `self` is the user's SGD, not an SGDCUDA
            return SGD.update(self, param, grad, state, group)
        xp = get_array_module(param.data)
        p, momentum = param.data, group["momentum"]
        first = bool(momentum) and "momentum_buffer" not in state
        if first:
            state["momentum_buffer"] = xp.empty_like(p)
        buf = state["momentum_buffer"] if momentum else p  # the kernel reads buf only with momentum
        reals = (_real(p, group[k]) for k in ("lr", "momentum", "dampening", "weight_decay"))
        _launch("sgd_update", p, p.size, p, xp.ascontiguousarray(grad), buf, *reals, np.int32(first),
                np.int64(p.size))
