"""Stateless layers and losses, as `torch.nn.functional`: `import tinygrad_ift.nn.functional as F`."""
from __future__ import annotations

from typing import Sequence

import math

import numpy as np

from .. import backend, ops
from .. import random as _random
from ..autograd import Function, check_same_device
from ..backend import get_array_module
from ..dtypes import result_type
from ..tensor import Tensor, pad_tensor
from .conv import conv2d
from .conv_from_conv2d import conv1d, conv3d, conv_transpose2d
from .im2col import pair
from .upsampling import interpolate
from .normalization import batch_norm, batch_norm_relu, layer_norm
from .pooling import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, avg_pool3d, max_pool2d, max_pool3d,
                      max_unpool2d)

__all__ = ["linear", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "batch_norm", "batch_norm_relu", "layer_norm", "dropout", "relu", "gelu", "tanh", "sigmoid", "softmax", "log_softmax",
           "leaky_relu", "elu", "selu", "celu", "silu", "mish", "softplus", "hardtanh", "relu6", "hardsigmoid",
           "hardswish", "logsigmoid", "softsign", "softmin",
           "conv1d", "conv3d", "max_pool3d", "avg_pool3d", "conv_transpose2d", "max_unpool2d", "interpolate", "normalize", "unfold", "fold",
           "scaled_dot_product_attention",
           "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "one_hot", "pad"]


class LinearFunction(Function):
    """y = x W^T + b:  dx = g W,  dW = g^T x,  db = sum of g over the batch (leading dims flattened)."""

    def forward(self, x, weight, bias=None):
        self.x, self.weight = x, weight
        out = x.reshape(-1, x.shape[-1]) @ weight.T  # leading dims flattened: one matrix product, not one each
        if bias is not None:
            out = out + bias
        return out.reshape(x.shape[:-1] + weight.shape[:1])

    def backward(self, grad):
        x2 = self.x.reshape(-1, self.x.shape[-1])
        g2 = grad.reshape(-1, grad.shape[-1])
        wanted = self.needs_input_grad  # not for a network's images, nor a frozen weight
        grad_x = (g2 @ self.weight).reshape(self.x.shape) if wanted[0] else None
        return grad_x, g2.T @ x2 if wanted[1] else None, g2.sum(axis=0)


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


_INDEX_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}  # PyTorch's name: NumPy's


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last len(pad)/2 dims, widths in PyTorch's order (last dim first): with `value` ('constant';
    negative widths crop), or by mirroring ('reflect'), repeating the edge ('replicate') or wrapping around
    ('circular'). The last three pick source elements by index, so their gradient adds up where they repeat."""
    if mode == "constant":
        return pad_tensor(input, pad, value)
    if mode not in _INDEX_PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim or min(pad, default=0) < 0:
        raise ValueError(f"pad: mode {mode!r} needs non-negative widths, two per padded dim of {input.shape}; "
                         f"got {tuple(pad)}")
    out = input
    for i in range(len(pad) // 2):
        dim, (low, high) = input.ndim - 1 - i, pad[2 * i:2 * i + 2]
        size = input.shape[dim]
        limit = size - 1 if mode == "reflect" else size
        if max(low, high) > limit:
            raise ValueError(f"pad: {mode} padding of ({low}, {high}) needs dim {dim} of {input.shape} longer "
                             f"than {max(low, high)}" + (" (reflect pads less than the size)" if mode == "reflect" else ""))
        out = out.index_select(dim, np.pad(np.arange(size), (low, high), mode=_INDEX_PAD_MODES[mode]))
    return out


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """input / max(||input||_p along dim, eps), as F.normalize."""
    return input / input.norm(p, dim, keepdims=True).clip(min=eps)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Every sliding window of (N, C, H, W) as a column, (N, C*kh*kw, L), as F.unfold (im2col); picked by index,
    so the gradient adds back onto the pixels each window covered."""
    if input.ndim != 4:
        raise ValueError(f"unfold: expected input (N, C, H, W), got shape {input.shape}")
    (kh, kw), dilation, (ph, pw), stride = (pair(v) for v in (kernel_size, dilation, padding, stride))
    x = input.pad((pw, pw, ph, ph)) if ph or pw else input
    n, c, h, w = x.shape
    rows, cols = _window_pixels("unfold", (h, w), (kh, kw), dilation, stride)
    return x[:, :, rows, cols].reshape(n, c * kh * kw, -1)  # (N, C, kh, kw, oh, ow) before the reshape


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Columns (N, C*kh*kw, L) back into an (N, C, H, W) image, as F.fold (col2im, the adjoint of unfold):
    each column's values are added onto the pixels of its window, so overlapping windows sum."""
    (h, w), (kh, kw), dilation, (ph, pw), stride = (pair(v) for v in (output_size, kernel_size, dilation, padding,
                                                                      stride))
    hp, wp = h + 2 * ph, w + 2 * pw
    rows, cols = _window_pixels("fold", (hp, wp), (kh, kw), dilation, stride)
    if input.ndim != 3 or input.shape[1] % (kh * kw) or input.shape[2] != rows.shape[2] * cols.shape[3]:
        raise ValueError(f"fold: expected input (N, C*{kh * kw}, {rows.shape[2] * cols.shape[3]}) for output_size "
                         f"{(h, w)}, kernel {(kh, kw)}, dilation {dilation}, padding {(ph, pw)}, stride {stride}; "
                         f"got shape {input.shape}")
    n, c = input.shape[0], input.shape[1] // (kh * kw)
    pixel = (rows * wp + cols).reshape(1, 1, -1)  # where each column entry lands in the padded image
    canvas = Tensor._wrap(get_array_module(input.data).zeros((n, c, hp * wp), dtype=input.dtype), input.device)
    image = canvas.scatter_add(2, np.broadcast_to(pixel, (n, c, pixel.shape[2])), input.reshape(n, c, -1))
    return image.reshape(n, c, hp, wp)[:, :, ph:ph + h, pw:pw + w]


def _window_pixels(name: str, hw: tuple, kernel: tuple, dilation: tuple, stride: tuple) -> tuple:
    """The rows (kh, 1, oh, 1) and columns (1, kw, 1, ow) of a padded (H, W) image that each kernel offset of
    each window meets: image[rows, cols] is (kh, kw, oh, ow)."""
    (h, w), (kh, kw), (dh, dw), (sh, sw) = hw, kernel, dilation, stride
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"{name}: kernel {kernel} with dilation {dilation} does not fit the padded image {hw}")
    rows = (np.arange(kh) * dh)[:, None, None, None] + (np.arange(oh) * sh)[None, None, :, None]
    cols = (np.arange(kw) * dw)[None, :, None, None] + (np.arange(ow) * sw)[None, None, None, :]
    return rows, cols


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(Q K^T scale + mask) V over the last two dims, as F.scaled_dot_product_attention: a boolean mask
    keeps the True positions, a float mask is added; is_causal hides the future."""
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query {query.shape}, key {key.shape} and value "
                         f"{value.shape} need matching embedding (last) dims for query/key and lengths for key/value")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
        attn_mask = np.tri(query.shape[-2], key.shape[-2], dtype=bool)
    if attn_mask is not None:
        mask = attn_mask if isinstance(attn_mask, Tensor) else Tensor(attn_mask, device=query.device)
        scores = scores.masked_fill(~mask, -math.inf) if mask.dtype == np.bool_ else scores + mask
    weights = scores.softmax(-1)
    return dropout(weights, dropout_p) @ value if dropout_p else weights @ value


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


def _check_labels(name: str, input: Tensor, target, ignore_index: int = -100) -> object:
    """Integer labels of shape (N,) (or (N, d1, ...) matching the input's spatial dims) in [0, C), or ignore_index,
    as an array on the input's device. Host labels are range-checked on the host before they move; labels
    already on a GPU are not (reading them back would stall every step, and CuPy wraps an out-of-range label
    silently), so the DataLoader checks them on the host (its num_classes) before they move there."""
    if isinstance(target, Tensor):
        check_same_device(name, (input, target))
        labels = target.data
    else:
        labels = target if backend.device_of(target).is_cuda else np.asarray(target)
    if input.ndim < 2:
        raise ValueError(f"{name}: expected input of shape (N, C) or (N, C, d1, ...), got {input.shape}")
    expected = (input.shape[0],) + input.shape[2:]
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class labels of shape {expected} (or, for "
                        f"cross_entropy, class probabilities of the input's shape {input.shape}); got dtype "
                        f"{labels.dtype} and shape {labels.shape}")
    if labels.shape != expected:
        raise ValueError(f"{name}: input of shape {input.shape} (N, C, ...) needs target of shape {expected}, "
                         f"got {labels.shape}")
    valid = labels[labels != ignore_index] if isinstance(labels, np.ndarray) else labels[:0]
    if valid.size and (valid.min() < 0 or valid.max() >= input.shape[1]):
        raise ValueError(f"{name}: labels must be in [0, {input.shape[1]}), got values in "
                         f"[{int(valid.min())}, {int(valid.max())}] (ignore_index={ignore_index} is skipped)")
    return backend.to_device(labels, input.device)


def _class_weights(name: str, weight, input: Tensor):
    """The per-class weight array (C,), ones when None, in the input's dtype."""
    xp = get_array_module(input.data)
    if weight is None:
        return xp.ones(input.shape[1], dtype=input.dtype)
    data = xp.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=input.dtype)
    if data.shape != (input.shape[1],):
        raise ValueError(f"{name}: weight must have one entry per class, shape ({input.shape[1]},), got {data.shape}")
    return data


def _weighted_nll(name: str, log_probs: Tensor, labels, weight, ignore_index: int, reduction: str,
                  label_smoothing: float = 0.0) -> Tensor:
    """PyTorch's nll_loss over (N, C, d...) log-probabilities: -w[y] log p[y], targets equal to ignore_index
    contribute 0, and the mean divides by the summed weights of the counted targets. With label smoothing s,
    (1 - s) of that plus s/C of -Σ_c w_c log p_c."""
    xp = get_array_module(log_probs.data)
    weights = _class_weights(name, weight, log_probs)
    counted = labels != ignore_index
    safe = xp.where(counted, labels, 0)
    picked = log_probs.gather(1, xp.expand_dims(safe, 1)).squeeze(1)
    target_weight = weights[safe] * counted
    loss = -picked * Tensor._wrap(target_weight, log_probs.device)
    if label_smoothing:
        class_shape = (1, -1) + (1,) * (log_probs.ndim - 2)
        smooth = -(log_probs * Tensor._wrap(weights.reshape(class_shape), log_probs.device)).sum(1)
        smooth = smooth * Tensor._wrap(counted.astype(log_probs.dtype), log_probs.device)
        loss = loss * (1 - label_smoothing) + smooth * (label_smoothing / log_probs.shape[1])
    if reduction == "mean":  # divided on the device: reading the sum back would be a sync
        return loss.sum() / Tensor._wrap(target_weight.sum(), log_probs.device)
    return _reduce(loss, reduction, name)


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


def cross_entropy(input: Tensor, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from logits (N, C) or (N, C, d1, ...), as F.cross_entropy: the target holds integer
    labels (N, d1, ...) or class probabilities of the input's shape; optional class weights, ignore_index."""
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    target_data = target.data if isinstance(target, Tensor) else target
    target_data = target_data if backend.device_of(target_data).is_cuda else np.asarray(target_data)
    if target_data.dtype.kind == "f" and target_data.shape == input.shape and input.ndim >= 2:
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    host_labels = isinstance(target_data, np.ndarray)
    labels = _check_labels("cross_entropy", input, target, ignore_index)
    if weight is not None or (host_labels and (target_data == ignore_index).any()):
        return _weighted_nll("cross_entropy", input.log_softmax(1), labels, weight, ignore_index, reduction,
                             label_smoothing)
    counted = None
    if not host_labels:  # on a GPU, mask ignore_index rather than look for it (that would be a sync)
        xp = get_array_module(labels)
        counted = labels != ignore_index
        labels = xp.where(counted, labels, 0)
    if input.ndim > 2:  # (N, C, d...) -> (N*d..., C)
        logits = input.permute(0, *range(2, input.ndim), 1).reshape(-1, input.shape[1])
        loss = CrossEntropy.apply(logits, labels=labels.reshape(-1), label_smoothing=label_smoothing)
        loss = loss.reshape(labels.shape)
    else:
        loss = CrossEntropy.apply(input, labels=labels, label_smoothing=label_smoothing)
    if counted is None:
        return _reduce(loss, reduction, "cross_entropy")
    loss = loss * Tensor._wrap(counted.astype(loss.dtype), loss.device)
    if reduction == "mean":
        return loss.sum() / Tensor._wrap(counted.sum().astype(loss.dtype), loss.device)
    return _reduce(loss, reduction, "cross_entropy")


def _soft_cross_entropy(input: Tensor, target, weight, reduction: str, label_smoothing: float) -> Tensor:
    """-Σ_c w_c q_c log softmax(z)_c with q the target probabilities (smoothed towards 1/C); the mean is over
    samples (and positions), not weights, as in PyTorch."""
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype, device=input.device)
    n_classes = input.shape[1]
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    weights = _class_weights("cross_entropy", weight, input).reshape((1, -1) + (1,) * (input.ndim - 2))
    loss = -(input.log_softmax(1) * target * Tensor._wrap(weights, input.device)).sum(1)
    return _reduce(loss, reduction, "cross_entropy")


def nll_loss(input: Tensor, target, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """-w[y] log_probs[y] from log-probabilities (N, C) or (N, C, d1, ...) and integer labels, as F.nll_loss."""
    labels = _check_labels("nll_loss", input, target, ignore_index)
    return _weighted_nll("nll_loss", input, labels, weight, ignore_index, reduction)


class BinaryCrossEntropyFunction(Function):
    """-w (y log p + (1 - y) log(1 - p)), each log clamped at -100 as PyTorch does:
    d/dp = w (p - y) / max(p (1 - p), 1e-12),  d/dy = w (log(1 - p) - log p)."""

    def forward(self, p, y, w):
        xp = get_array_module(p)
        with np.errstate(divide="ignore"):
            self.log_p, self.log_1mp = xp.maximum(xp.log(p), -100), xp.maximum(xp.log1p(-p), -100)
        self.p, self.y, self.w = p, y, w
        return -w * (y * self.log_p + (1 - y) * self.log_1mp)

    def backward(self, grad):
        xp = get_array_module(grad)
        grad_p = grad * self.w * (self.p - self.y) / xp.maximum(self.p * (1 - self.p), 1e-12)
        return grad_p, grad * self.w * (self.log_1mp - self.log_p), None


def binary_cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities in [0, 1] (as F.binary_cross_entropy); weight broadcasts."""
    target = _check_same_shape("binary_cross_entropy", input, target)
    if input.size and (float(input.data.min()) < 0 or float(input.data.max()) > 1):
        raise ValueError(f"binary_cross_entropy: input must hold probabilities in [0, 1], got values in "
                         f"[{float(input.data.min())}, {float(input.data.max())}] (for logits use "
                         "binary_cross_entropy_with_logits)")
    weight = Tensor(1.0 if weight is None else weight, dtype=input.dtype, device=input.device)
    loss = BinaryCrossEntropyFunction.apply(input, target.to(dtype=input.dtype), weight)
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """-w (pos_weight y log sigmoid(x) + (1 - y) log sigmoid(-x)), stable for any logit x."""
    target = _check_same_shape("binary_cross_entropy_with_logits", input, target).to(dtype=input.dtype)
    positive = logsigmoid(input) * target
    if pos_weight is not None:
        positive = positive * pos_weight
    loss = -(positive + logsigmoid(-input) * (1 - target))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


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
