"""The course's multi-layer perceptron, with its own fully connected layer."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from tinygrad_ift import Tensor, nn

from .activations import check_activation, create_activation


class Linear(nn.Module):
    """y = x W^T + b, written with tensor ops; weight (out_features, in_features), bias (out_features,).

    Initialised as PyTorch's nn.Linear; `layer.weight.data[:] = array` overwrites the values in place.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(np.empty((out_features, in_features), dtype=np.float32))
        self.bias = nn.Parameter(np.empty(out_features, dtype=np.float32))
        nn.init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise ValueError(f"Linear: expected {self.in_features} features in the last dim, "
                             f"got input of shape {input.shape}")
        return input @ self.weight.T + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class MLP(nn.Module):
    """Flatten -> [Linear -> activation] per hidden size -> Linear to the class logits.

    Weights Xavier-normal, biases zero. `hidden_layers` holds only the hidden layers; `output_layer` the last.
    """

    def __init__(self, input_size: int, hidden_sizes: Sequence[int], num_classes: int,
                 activation: str = "relu") -> None:
        super().__init__()
        self.input_size, self.hidden_sizes = input_size, list(hidden_sizes)
        self.num_classes, self.activation = num_classes, check_activation("MLP", activation)
        self.hidden_layers, self.output_layer = self._build_layers(input_size, self.hidden_sizes, num_classes)
        for layer in self.hidden_layers + [self.output_layer]:
            self._initialize_linear_layer(layer)

    @staticmethod
    def _build_layers(input_size: int, hidden_sizes: Sequence[int],
                      num_classes: int) -> tuple[nn.ModuleList, Linear]:
        """One Linear per hidden size, each fed by the previous width, and the output layer after them."""
        widths = [input_size] + list(hidden_sizes)
        hidden = nn.ModuleList(Linear(n_in, n_out) for n_in, n_out in zip(widths[:-1], widths[1:]))
        return hidden, Linear(widths[-1], num_classes)

    @staticmethod
    def _initialize_linear_layer(module: Linear) -> None:
        """Glorot (Xavier) normal weights, zero biases."""
        nn.init.xavier_normal_(module.weight)
        nn.init.zeros_(module.bias)

    def activation_fn(self, activation: str, inputs: Tensor) -> Tensor:
        """Apply the activation named `activation` ("relu", "tanh", "sigmoid", "gelu")."""
        return create_activation("MLP.activation_fn", activation)(inputs)

    def forward(self, images: Tensor) -> Tensor:
        """(batch, channels, height, width) images, or (batch, features) vectors -> (batch, num_classes)."""
        x = images.flatten(1) if images.ndim > 2 else images
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"MLP: expected inputs with {self.input_size} features per sample (after "
                             f"flattening from dim 1), got shape {images.shape}")
        for layer in self.hidden_layers:
            x = self.activation_fn(self.activation, layer(x))
        return self.output_layer(x)
