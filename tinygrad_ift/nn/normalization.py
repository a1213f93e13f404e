"""BatchNorm and LayerNorm: one fused normalisation op with its analytic gradient, and the modules."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..autograd import Function, check_same_device
from ..backend import device_of, get_array_module
from ..fast import implementation
from ..ops import ReLUFunction
from ..tensor import Tensor
from .module import Module, Parameter


class BatchNormFunction(Function):
    """Per channel (dim 1), over the batch and spatial dims: y = xhat * weight + bias,
    xhat = (x - mean) * invstd,  invstd = 1 / sqrt(var + eps).

    Training uses the batch's mean and (biased) variance, which depend on x; with dxhat = dy * weight and m(.)
    the mean over the batch and spatial dims,
        dx = invstd * (dxhat - m(dxhat) - xhat * m(dxhat * xhat)),
    while in eval the running statistics are constants and dx = invstd * dxhat. dweight = sum(dy * xhat),
    dbias = sum(dy). Given running statistics (arrays) in training, forward updates them in place.
    """

    def forward(self, x, weight=None, bias=None, *, eps, training, running_mean=None, running_var=None,
                momentum=0.1):
        xp = get_array_module(x)
        self.axes = (0,) + tuple(range(2, x.ndim))  # every dim but the channels
        self.per_channel = (1, -1) + (1,) * (x.ndim - 2)  # a (C,) vector reshaped to broadcast against x
        if training:
            mean, var = x.mean(axis=self.axes), x.var(axis=self.axes)
            if running_mean is not None:
                _update_running_stats(running_mean, running_var, momentum, mean, var, x.size // x.shape[1])
        else:
            mean, var = running_mean, running_var
        self.training, self.weight = training, weight
        self.invstd = (1.0 / xp.sqrt(var + eps)).reshape(self.per_channel)
        self.xhat = (x - mean.reshape(self.per_channel)) * self.invstd
        if weight is None:
            return self.xhat
        return self.xhat * weight.reshape(self.per_channel) + bias.reshape(self.per_channel)

    def backward(self, grad):
        xhat, axes = self.xhat, self.axes
        dxhat = grad if self.weight is None else grad * self.weight.reshape(self.per_channel)
        if self.training:
            dx = self.invstd * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                                - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))
        else:
            dx = dxhat * self.invstd
        return dx, (grad * xhat).sum(axis=axes), grad.sum(axis=axes)


class BatchNormReLUFunction(Function):
    """relu(batch_norm(x)): BatchNorm, then ReLU, as one node of the graph, so that a device can run the pair as
    one fused kernel (fast/cuda.py). The reference is the two ops in a row, each as its device runs it alone:
    forward y = relu(bn(x)), and by the chain rule backward = bn's backward of relu's backward of dy."""

    def forward(self, x, weight=None, bias=None, *, eps, training, running_mean=None, running_var=None,
                momentum=0.1):
        device = device_of(x)
        self.batch_norm, self.relu = implementation(BatchNormFunction, device)(), implementation(ReLUFunction, device)()
        return self.relu.forward(self.batch_norm.forward(x, weight, bias, eps=eps, training=training,
                                                         running_mean=running_mean, running_var=running_var,
                                                         momentum=momentum))

    def backward(self, grad):
        return self.batch_norm.backward(self.relu.backward(grad))


class LayerNormFunction(Function):
    """Over the last dims (`axes`): y = xhat * weight + bias,  xhat = (x - mean) / sqrt(var + eps).

    weight varies along the normalised dims, so with dxhat = dy * weight and m(.) the mean over them
        dx = invstd * (dxhat - m(dxhat) - xhat * m(dxhat * xhat));
    dweight = sum(dy * xhat) and dbias = sum(dy) over the leading (batch) dims.
    """

    def forward(self, x, weight=None, bias=None, *, axes, eps):
        xp = get_array_module(x)
        self.axes, self.weight = axes, weight
        xhat = x - x.mean(axis=axes, keepdims=True)
        self.invstd = 1.0 / xp.sqrt(xp.square(xhat).mean(axis=axes, keepdims=True) + eps)
        xhat *= self.invstd  # in place: xhat is a fresh array
        self.xhat = xhat
        if weight is None:
            return xhat
        out = xhat * weight
        out += bias
        return out

    def backward(self, grad):
        dxhat = grad if self.weight is None else grad * self.weight
        m_dxhat_xhat = (dxhat * self.xhat).mean(axis=self.axes, keepdims=True)
        dx = dxhat - dxhat.mean(axis=self.axes, keepdims=True)
        dx -= self.xhat * m_dxhat_xhat
        dx *= self.invstd
        if self.weight is None:
            return dx
        return dx, grad * self.xhat, grad  # the engine sums these over the batch dims, to weight's shape


def _update_running_stats(running_mean, running_var, momentum: float, mean, var, count: int) -> None:
    """running <- (1 - momentum) running + momentum batch, in place, with the UNBIASED batch variance."""
    running_mean *= 1 - momentum
    running_mean += momentum * mean
    running_var *= 1 - momentum
    running_var += momentum * count / (count - 1) * var


def _check_shape(op: str, what: str, tensor: Tensor | None, expected: tuple) -> None:
    if tensor is not None and tensor.shape != expected:
        raise ValueError(f"{op}: {what} must have shape {expected}, got {tensor.shape}")


def _affine(weight: Tensor | None, bias: Tensor | None, like: Tensor, shape: tuple) -> tuple:
    """The (weight, bias) inputs of a normalisation Function: neither, or both (a missing one becomes 1 or 0)."""
    if weight is None and bias is None:
        return ()
    xp = get_array_module(like.data)
    if weight is None:
        weight = Tensor._wrap(xp.ones(shape, dtype=like.dtype), like.device)
    if bias is None:
        bias = Tensor._wrap(xp.zeros(shape, dtype=like.dtype), like.device)
    return weight, bias


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) over the batch and spatial dims, as torch.nn.functional.batch_norm.

    In training (or without running statistics) the batch statistics are used, and the running ones, if
    given, updated in place (variance unbiased); otherwise the running statistics are used.
    """
    return _apply_batch_norm(BatchNormFunction, "batch_norm", input, running_mean, running_var, weight, bias,
                             training, momentum, eps)


def batch_norm_relu(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                    weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
                    momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """relu(batch_norm(input, ...)) with batch_norm's arguments, as one op (one fused kernel on a GPU)."""
    return _apply_batch_norm(BatchNormReLUFunction, "batch_norm_relu", input, running_mean, running_var, weight,
                             bias, training, momentum, eps)


def _apply_batch_norm(function: type, name: str, input: Tensor, running_mean, running_var, weight, bias,
                      training: bool, momentum: float, eps: float) -> Tensor:
    """Check batch_norm's inputs (shapes, devices), then apply `function` to them."""
    if input.ndim < 2:
        raise ValueError(f"{name}: expected input of shape (N, C) or (N, C, ...), got {input.shape}")
    channels = input.shape[1]
    for what, tensor in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                         ("bias", bias)):
        _check_shape(name, f"{what} for an input of {channels} channels (shape {input.shape})", tensor,
                     (channels,))
    params = _affine(weight, bias, input, (channels,))
    training = training or running_mean is None
    if training and input.size // max(channels, 1) <= 1:
        raise ValueError(f"{name}: expected more than 1 value per channel when training, "
                         f"got input of shape {input.shape}")
    check_same_device(name, [input, *(t for t in (running_mean, running_var) if t is not None)])
    running = {} if running_mean is None else dict(running_mean=running_mean.data, running_var=running_var.data)
    return function.apply(input, *params, eps=eps, training=training, momentum=momentum, **running)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) dims, as torch.nn.functional.layer_norm."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if input.ndim < k or input.shape[input.ndim - k:] != shape:
        raise ValueError(f"layer_norm: expected input of shape (*, {', '.join(map(str, shape))}) "
                         f"(normalized_shape {shape} as its last dims), got {input.shape}")
    _check_shape("layer_norm", "weight", weight, shape)
    _check_shape("layer_norm", "bias", bias, shape)
    axes = tuple(range(input.ndim - k, input.ndim))
    return LayerNormFunction.apply(input, *_affine(weight, bias, input, shape), axes=axes, eps=eps)


def _add_affine(module: Module, shape: tuple, affine: bool, bias: bool) -> None:
    """The learnable scale (ones) and shift (zeros) of a normalisation layer, or None where switched off."""
    module.register_parameter("weight", Parameter(np.ones(shape, dtype=np.float32)) if affine else None)
    module.register_parameter("bias", Parameter(np.zeros(shape, dtype=np.float32)) if affine and bias else None)


class _BatchNorm(Module):
    """Shared body of BatchNorm1d/2d; subclasses give the accepted input layouts by rank."""

    layouts: dict = {}
    normalise = staticmethod(batch_norm)  # BatchNormReLU2d: batch_norm_relu

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _add_affine(self, (num_features,), affine, bias)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=np.float32)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=np.float32)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if x.ndim not in self.layouts:
            raise ValueError(f"{name}: expected input of layout {' or '.join(self.layouts.values())}, "
                             f"got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} channels (dim 1), got {x.shape[1]} "
                             f"in input of shape {x.shape}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if momentum is None:  # a cumulative average of all batches so far
                momentum = 1.0 / int(self.num_batches_tracked.data)
        return self.normalise(x, self.running_mean, self.running_var, self.weight, self.bias,
                              training=self.training or not self.track_running_stats, momentum=momentum,
                              eps=self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    layouts = {2: "(N, C)", 3: "(N, C, L)"}


class BatchNorm2d(_BatchNorm):
    layouts = {4: "(N, C, H, W)"}


class BatchNormReLU2d(BatchNorm2d):
    """BatchNorm2d followed by a ReLU, as one op: relu(batch_norm(x)), one fused kernel on a GPU. The same
    parameters, buffers and state-dict names as BatchNorm2d (a model swaps one for the other freely)."""

    normalise = staticmethod(batch_norm_relu)


class LayerNorm(Module):
    """Normalise over the last dims given by normalized_shape, with a per-element weight and bias."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        _add_affine(self, shape, elementwise_affine, bias)

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
