"""Stateless layers and losses, as `torch.nn.functional`: `import tinygrad_ift.nn.functional as F`."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import backend, ops
from .. import random as _random
from ..autograd import Function, check_same_device
from ..backend import get_array_module
from ..dtypes import result_type
from ..tensor import Tensor, pad_tensor
from .conv import conv2d
from .normalization import batch_norm, layer_norm
from .pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d

__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "batch_norm", "layer_norm", "dropout", "relu", "gelu", "tanh", "sigmoid", "softmax", "log_softmax",
           "leaky_relu", "elu", "selu", "celu", "silu", "mish", "softplus", "hardtanh", "relu6", "hardsigmoid",
           "hardswish", "logsigmoid", "softsign", "softmin",
           "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "one_hot", "pad"]


class LinearFunction(Function):
    """y = x W^T + b:  dx = g W,  dW = g^T x,  db = sum of g over the batch (leading dims flattened)."""

    def forward(self, x, weight, bias=None):
        self.x, self.weight = x, weight
        out = x @ weight.T
        return out if bias is None else out + bias

    def backward(self, grad):
        x2 = self.x.reshape(-1, self.x.shape[-1])
        g2 = grad.reshape(-1, grad.shape[-1])
        return grad @ self.weight, g2.T @ x2, g2.sum(axis=0)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x W^T + b with weight of shape (out_features, in_features)."""
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: expected {weight.shape[1]} features (the weight has shape {weight.shape}), "
                         f"got {input.shape[-1] if input.ndim else 0} in the last dim of input {input.shape}")
    if input.dtype != weight.dtype:  # integer pixels or labels fed straight in: PyTorch's promoted dtype
        input = input.to(dtype=result_type(input.data, weight.data))
    return LinearFunction.apply(input, weight) if bias is None else LinearFunction.apply(input, weight, bias)


def relu(input: Tensor) -> Tensor:
    return input.relu()


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    return input.gelu(approximate)


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return ops.LeakyReLUFunction.apply(input._floating(), negative_slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    return ops.ELUFunction.apply(input._floating(), alpha=alpha)


def selu(input: Tensor) -> Tensor:
    return ops.ELUFunction.apply(input._floating(), alpha=ops.SELU_ALPHA, scale=ops.SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides the input)")
    return ops.ELUFunction.apply(input._floating(), alpha=alpha, input_scale=1.0 / alpha)


def silu(input: Tensor) -> Tensor:
    return ops.SiLUFunction.apply(input._floating())


def mish(input: Tensor) -> Tensor:
    return ops.MishFunction.apply(input._floating())


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return ops.SoftplusFunction.apply(input._floating(), beta=beta, threshold=threshold)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} must not exceed max_val {max_val}")
    return ops.HardtanhFunction.apply(input._floating(), min_val=min_val, max_val=max_val)


def relu6(input: Tensor) -> Tensor:
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input: Tensor) -> Tensor:
    return ops.HardsigmoidFunction.apply(input._floating())


def hardswish(input: Tensor) -> Tensor:
    return ops.HardswishFunction.apply(input._floating())


def logsigmoid(input: Tensor) -> Tensor:
    return ops.LogSigmoidFunction.apply(input._floating())


def softsign(input: Tensor) -> Tensor:
    return ops.SoftsignFunction.apply(input._floating())


def softmin(input: Tensor, dim: int = -1) -> Tensor:
    return (-input._floating()).softmax(dim)


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    return input.log_softmax(dim)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is implemented, got {mode!r}")
    return pad_tensor(input, pad, value)


class DropoutFunction(Function):
    """Zero each element with probability p, scale the rest by 1/(1-p); the gradient uses the same mask."""

    def forward(self, x, p, generator):
        keep = generator.random(x.shape, dtype=np.float32) >= p
        self.mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))
        return x * self.mask

    def backward(self, grad):
        return grad * self.mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Dropout drawing its mask from the framework's seeded generator of the input's device."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return DropoutFunction.apply(input, p=p, generator=_random.generator(input.device))


def _check_labels(name: str, input: Tensor, target) -> object:
    """Integer labels of shape (N,) (or (N, d1, ...) matching the input's spatial dims) in [0, C), as an array on
    the input's device. Host labels are range-checked on the host before they move; labels already on a GPU
    are not (reading them back would stall every step, and CuPy wraps an out-of-range label silently), so the
    DataLoader checks them on the host (its num_classes) before they move there."""
    if isinstance(target, Tensor):
        check_same_device(name, (input, target))
        labels = target.data
    else:
        labels = target if backend.device_of(target).is_cuda else np.asarray(target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class labels, got dtype {labels.dtype} "
                        f"(for probabilities use one_hot or a soft-label loss)")
    if input.ndim < 2:
        raise ValueError(f"{name}: expected input of shape (N, C) or (N, C, d1, ...), got {input.shape}")
    expected = (input.shape[0],) + input.shape[2:]
    if labels.shape != expected:
        raise ValueError(f"{name}: input of shape {input.shape} (N, C, ...) needs target of shape {expected}, "
                         f"got {labels.shape}")
    if isinstance(labels, np.ndarray) and labels.size and (labels.min() < 0 or labels.max() >= input.shape[1]):
        raise ValueError(f"{name}: labels must be in [0, {input.shape[1]}), got values in "
                         f"[{int(labels.min())}, {int(labels.max())}]")
    return backend.to_device(labels, input.device)


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


class CrossEntropy(Function):
    """Per-sample -sum_c q_c log softmax(z)_c with q = (1 - s) onehot(y) + s / C:  dz = softmax(z) - q."""

    def forward(self, logits, labels, label_smoothing):
        xp = get_array_module(logits)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        n_classes = logits.shape[1]
        target = xp.zeros_like(logits)
        target[xp.arange(logits.shape[0]), labels] = 1.0 - label_smoothing
        target += label_smoothing / n_classes
        self.probs, self.target = xp.exp(log_probs), target
        return -(target * log_probs).sum(axis=1)

    def backward(self, grad):
        return (self.probs - self.target) * grad[:, None]


def cross_entropy(input: Tensor, target, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from logits (N, C) or (N, C, d1, ...) and integer labels, as F.cross_entropy."""
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    labels = _check_labels("cross_entropy", input, target)
    if input.ndim > 2:  # (N, C, d...) -> (N*d..., C)
        logits = input.permute(0, *range(2, input.ndim), 1).reshape(-1, input.shape[1])
        loss = CrossEntropy.apply(logits, labels=labels.reshape(-1), label_smoothing=label_smoothing)
        loss = loss.reshape(labels.shape)
    else:
        loss = CrossEntropy.apply(input, labels=labels, label_smoothing=label_smoothing)
    return _reduce(loss, reduction, "cross_entropy")


def nll_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """-log_probs[i, y_i] from log-probabilities (N, C) and integer labels."""
    labels = _check_labels("nll_loss", input, target)
    if input.ndim != 2:
        raise ValueError(f"nll_loss: expected log-probabilities of shape (N, C), got {input.shape}")
    xp = get_array_module(input.data)
    return _reduce(-input[xp.arange(input.shape[0]), labels], reduction, "nll_loss")


def _check_same_shape(name: str, input: Tensor, target: Tensor) -> Tensor:
    target = target if isinstance(target, Tensor) else Tensor(target, device=input.device)
    if input.shape != target.shape:
        raise ValueError(f"{name}: input shape {input.shape} and target shape {target.shape} differ; they would "
                         "broadcast silently (e.g. (N,) against (N, 1) gives (N, N)); reshape one explicitly")
    return target


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    diff = input - _check_same_shape("mse_loss", input, target)
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    return _reduce((input - _check_same_shape("l1_loss", input, target)).abs(), reduction, "l1_loss")


def one_hot(labels, num_classes: int = -1) -> Tensor:
    """(N, ...) integer labels -> (N, ..., num_classes) int64 one-hot, on the labels' device."""
    device = labels.device if isinstance(labels, Tensor) else None
    data = labels.data if isinstance(labels, Tensor) else labels
    data = data if backend.device_of(data).is_cuda else np.asarray(data)
    xp = get_array_module(data)
    if data.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {data.dtype}")
    low, high = (int(v) for v in backend.to_numpy(xp.stack([data.min(), data.max()]))) if data.size else (0, -1)
    num_classes = high + 1 if num_classes < 0 else num_classes  # (one read-back of both ends)
    if low < 0 or high >= num_classes:
        raise ValueError(f"one_hot: labels must be in [0, {num_classes}), got [{low}, {high}]")
    out = (data[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor(out, device=device)