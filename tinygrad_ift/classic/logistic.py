"""Softmax (multinomial logistic) regression with gradients written by hand, array operations only.

The course's first practical: everything here is plain NumPy/CuPy math, no Tensor graph, so it can be
compared line by line with the autograd version.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import get_array_module
from ..random import generator


def softmax(z: Any) -> Any:
    """Row-wise softmax, shifted by the row max so that huge logits (1e5) stay finite."""
    xp = get_array_module(z)
    e = xp.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def one_hot(labels: Any, n_classes: int, dtype: Any = np.float64) -> Any:
    """Y[n, c] = 1 where labels[n] == c, else 0: the targets of the cross-entropy, on the labels' device."""
    xp = get_array_module(labels)
    return (labels[:, None] == xp.arange(n_classes)[None, :]).astype(dtype)


def cross_entropy(probs: Any, targets_one_hot: Any, eps: float = 1e-12) -> float:
    """Mean over the batch of -sum_c y_c log p_c (probabilities clipped away from 0)."""
    xp = get_array_module(probs)
    return float(-(targets_one_hot * xp.log(xp.clip(probs, eps, 1.0))).sum(axis=1).mean())


def accuracy(probs: Any, labels: Any) -> float:
    """The fraction of rows whose most probable class is the label."""
    return float((probs.argmax(axis=1) == labels).mean())


def add_bias_column(x: Any) -> Any:
    """The bias trick: X~ = [X, 1], so that the bias is the last row of the weight matrix."""
    xp = get_array_module(x)
    return xp.concatenate([x, xp.ones((x.shape[0], 1), dtype=x.dtype)], axis=1)


class AdamState:
    """Adam's moments for one parameter array, with its own step counter (bias-corrected, as in the paper)."""

    def __init__(self, param: Any):
        xp = get_array_module(param)
        self.m, self.v, self.t = xp.zeros_like(param), xp.zeros_like(param), 0

    def step(self, grad: Any, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Any:
        """The update to subtract: lr * m_hat / (sqrt(v_hat) + eps)."""
        xp = get_array_module(grad)
        self.t += 1
        self.m = beta1 * self.m + (1 - beta1) * grad
        self.v = beta2 * self.v + (1 - beta2) * grad * grad
        m_hat = self.m / (1 - beta1 ** self.t)
        v_hat = self.v / (1 - beta2 ** self.t)
        return lr * m_hat / (xp.sqrt(v_hat) + eps)


class LinearModel:
    """P = softmax(X~ W) with W of shape (n_features + 1, n_classes); gradient X~^T (P - Y) / N.

    W starts as N(0, 0.01^2) drawn from `tinygrad_ift.random` (so `manual_seed` fixes it), on `device`.
    """

    def __init__(self, n_features: int, n_classes: int, device: str = "cpu", dtype: Any = np.float64):
        self.W = generator(device).standard_normal((n_features + 1, n_classes), dtype=dtype) * 0.01
        self.adam = AdamState(self.W)

    def forward(self, x_with_bias: Any) -> Any:
        """Class probabilities for a batch that already carries the column of ones; keeps it for backward."""
        self.x = x_with_bias
        return softmax(x_with_bias @ self.W)

    def backward(self, targets_one_hot: Any, probs: Any) -> Any:
        """dLoss/dW = X~^T (P - Y) / N for the batch of the last forward (mean cross-entropy)."""
        return self.x.T @ (probs - targets_one_hot) / self.x.shape[0]

    def sgd_update(self, grad: Any, lr: float) -> None:
        self.W = self.W - lr * grad

    def adam_update(self, grad: Any, lr: float) -> None:
        self.W = self.W - self.adam.step(grad, lr)
