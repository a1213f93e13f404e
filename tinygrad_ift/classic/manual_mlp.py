"""A multilayer perceptron with backpropagation written by hand (ReLU hidden layers, softmax output)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import get_array_module
from ..random import generator
from .logistic import AdamState, softmax


class ManualMLP:
    """Layers W_l (fan_in, fan_out), b_l (fan_out,); forward stores every activation for backward.

    With Z_l = A_{l-1} W_l + b_l, A_l = relu(Z_l), P = softmax(Z_L) and mean cross-entropy:
    dZ_L = (P - Y) / N;  dW_l = A_{l-1}^T dZ_l;  db_l = sum_n dZ_l;  dZ_{l-1} = (dZ_l W_l^T) * [Z_{l-1} > 0].
    (dZ carries the 1/N, so the weight gradients are means over the batch.)
    Weights start He-normal, N(0, 2 / fan_in), drawn from `tinygrad_ift.random` on `device`; biases at 0.
    """

    def __init__(self, n_features: int, n_hidden: int, n_hidden_layers: int, n_classes: int, device: str = "cpu",
                 dtype: Any = np.float64):
        xp, rng = get_array_module(device), generator(device)
        sizes = [n_features] + [n_hidden] * n_hidden_layers + [n_classes]
        self.weights = [rng.standard_normal((fan_in, fan_out), dtype=dtype) * math.sqrt(2.0 / fan_in)
                        for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
        self.biases = [xp.zeros(fan_out, dtype=dtype) for fan_out in sizes[1:]]
        self.adam_w = [AdamState(w) for w in self.weights]
        self.adam_b = [AdamState(b) for b in self.biases]
        self.activations: list = []
        self.pre_activations: list = []

    def forward(self, x: Any) -> Any:
        """Class probabilities; every layer's input and pre-activation are kept for backward."""
        xp = get_array_module(x)
        self.activations, self.pre_activations = [x], []
        a = x
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ w + b
            self.pre_activations.append(z)
            a = softmax(z) if i == len(self.weights) - 1 else xp.maximum(z, 0)
            self.activations.append(a)
        return a

    def backward(self, y_one_hot: Any, y_pred: Any) -> tuple[list, list]:
        """Gradients of the mean cross-entropy for every layer's weights and biases, from the last forward."""
        dz = (y_pred - y_one_hot) / y_one_hot.shape[0]
        grads_w, grads_b = [], []
        for layer in reversed(range(len(self.weights))):
            grads_w.append(self.activations[layer].T @ dz)
            grads_b.append(dz.sum(axis=0))
            if layer > 0:
                dz = (dz @ self.weights[layer].T) * (self.pre_activations[layer - 1] > 0)
        return grads_w[::-1], grads_b[::-1]

    def sgd_update(self, grads_w: list, grads_b: list, lr: float) -> None:
        """W_l <- W_l - lr dW_l and b_l <- b_l - lr db_l for every layer."""
        self.weights = [w - lr * g for w, g in zip(self.weights, grads_w)]
        self.biases = [b - lr * g for b, g in zip(self.biases, grads_b)]

    def adam_update(self, grads_w: list, grads_b: list, lr: float) -> None:
        """Every weight and bias array has its own Adam moments."""
        self.weights = [w - s.step(g, lr) for w, s, g in zip(self.weights, self.adam_w, grads_w)]
        self.biases = [b - s.step(g, lr) for b, s, g in zip(self.biases, self.adam_b, grads_b)]
