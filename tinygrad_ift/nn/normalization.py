"""BatchNorm and LayerNorm: one fused normalisation op with its analytic gradient, and the modules."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..backend import get_array_module
from ..grad_mode import no_grad
from ..tensor import Function, Tensor
from .module import Module, Parameter


class Normalize(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over `axes`.

    With statistics taken from x itself (batch_stats=True), mean and var depend on x, so
        dx = invstd / M * (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)),   dxhat = dy * weight,
    sums over the M normalised elements. With fixed statistics (BatchNorm in eval), dx = dxhat * invstd.
    weight and bias arrive already shaped to broadcast against x; the engine sums their gradients back.
    """

    def forward(self, x, weight, bias, axes, mean, var, eps, batch_stats):
        xp = get_array_module(x)
        self.axes, self.batch_stats, self.weight = axes, batch_stats, weight
        self.invstd = 1.0 / xp.sqrt(var + eps)
        self.xhat = (x - mean) * self.invstd
        return self.xhat * weight + bias

    def backward(self, grad):
        dxhat = grad * self.weight
        if self.batch_stats:
            count = dxhat.size // self.invstd.size
            dx = self.invstd / count * (count * dxhat - dxhat.sum(axis=self.axes, keepdims=True)
                                        - self.xhat * (dxhat * self.xhat).sum(axis=self.axes, keepdims=True))
        else:
            dx = dxhat * self.invstd
        return dx, grad * self.xhat, grad


def _as_param(value: Tensor | None, fill: float, like: Tensor, shape: tuple) -> Tensor:
    """weight/bias reshaped to broadcast against the input (a constant when the layer has no affine part)."""
    if value is None:
        xp = get_array_module(like.data)
        return Tensor._wrap(xp.full(shape, fill, dtype=like.dtype), like.device)
    return value.reshape(shape)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) over the batch and spatial dims, as torch.nn.functional.batch_norm.

    In training the batch statistics are used and the running ones updated in place (variance unbiased);
    otherwise the running statistics are used.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C) or (N, C, ...), got {input.shape}")
    axes = (0,) + tuple(range(2, input.ndim))
    param_shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    w = _as_param(weight, 1.0, input, param_shape)
    b = _as_param(bias, 0.0, input, param_shape)
    x = input.data
    if training or running_mean is None:
        count = x.size // input.shape[1]
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input {input.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        if training and running_mean is not None:
            with no_grad():
                running_mean.data = (1 - momentum) * running_mean.data + momentum * mean.reshape(-1)
                running_var.data = (1 - momentum) * running_var.data + momentum * var.reshape(-1) * count / (count - 1)
        return Normalize.apply(input, w, b, axes=axes, mean=mean, var=var, eps=eps, batch_stats=True)
    return Normalize.apply(input, w, b, axes=axes, mean=running_mean.data.reshape(param_shape),
                           var=running_var.data.reshape(param_shape), eps=eps, batch_stats=False)


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) dims, as torch.nn.functional.layer_norm."""
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if input.shape[input.ndim - k:] != normalized_shape:
        raise ValueError(f"layer_norm: the input's last dims {input.shape[input.ndim - k:]} (input {input.shape}) "
                         f"do not match normalized_shape {normalized_shape}")
    axes = tuple(range(input.ndim - k, input.ndim))
    w = _as_param(weight, 1.0, input, normalized_shape)
    b = _as_param(bias, 0.0, input, normalized_shape)
    x = input.data
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return Normalize.apply(input, w, b, axes=axes, mean=mean, var=var, eps=eps, batch_stats=True)


class _BatchNorm(Module):
    """Shared body of BatchNorm1d/2d; subclasses give the accepted input ranks."""

    layouts: dict = {}

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
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
        use_batch_stats = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
        return batch_norm(x, self.running_mean if self.track_running_stats else None,
                          self.running_var if self.track_running_stats else None, self.weight, self.bias,
                          training=use_batch_stats, momentum=self.momentum, eps=self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    layouts = {2: "(N, C)", 3: "(N, C, L)"}


class BatchNorm2d(_BatchNorm):
    layouts = {4: "(N, C, H, W)"}


class LayerNorm(Module):
    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=np.float32))
            self.bias = Parameter(np.zeros(shape, dtype=np.float32))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
