"""The same MLP as ManualMLP, built from autograd Tensors: the gradients come from backward()."""
from __future__ import annotations

from typing import Any

from ..backend import get_array_module
from ..tensor import Tensor
from .manual_mlp import ManualMLP


class AutogradMLP:
    """Parameters copied from a ManualMLP; `loss_and_gradients` returns the loss and every layer's grads."""

    def __init__(self, manual: ManualMLP):
        self.weights = [Tensor(w.copy(), requires_grad=True) for w in manual.weights]
        self.biases = [Tensor(b.copy(), requires_grad=True) for b in manual.biases]

    def logits(self, x: Any) -> Tensor:
        """x @ W + b per layer, ReLU between layers, none after the last."""
        a = Tensor(x)
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            a = a @ w + b
            if i < len(self.weights) - 1:
                a = a.relu()
        return a

    def loss(self, x: Any, labels: Any) -> Tensor:
        """Mean cross-entropy: minus the log-softmax picked at each row's label."""
        log_probs = self.logits(x).log_softmax(axis=1)
        rows = get_array_module(labels).arange(len(labels))
        return -log_probs[rows, labels].mean()

    def loss_and_gradients(self, x: Any, labels: Any) -> tuple[float, list, list]:
        """The loss and the raw weight and bias gradient arrays of every layer, from one backward()."""
        for p in self.weights + self.biases:
            p.grad = None
        loss = self.loss(x, labels)
        loss.backward()
        return loss.item(), [w.grad.data for w in self.weights], [b.grad.data for b in self.biases]
