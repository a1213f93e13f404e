"""The course's regression Trainer: predict a scalar per image (e.g. its rotation angle) with an MLP or a CNN.

Data are (images (N, C, H, W), targets (N, 1)) pairs; the loss is the mean squared error, minimised with Adam,
and the mean absolute error is logged beside it.
"""
from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np

import tinygrad_ift as tg
from tinygrad_ift import Tensor, nn, optim
from tinygrad_ift.backend import to_numpy
from tinygrad_ift.nn import functional as F

from .activations import create_activation
from .plotting import save_panels

Split = tuple[np.ndarray, np.ndarray]

N_TRAIN_LOGGED = 2000  # the training metrics are measured on this many first training samples
EVAL_CHUNK = 1000  # evaluate() runs the network on this many samples at a time, to bound memory


class NetworkConfiguration(NamedTuple):
    n_channels: tuple[int, ...] = (16, 32, 48)
    kernel_sizes: tuple[int, ...] = (3, 3, 3)
    strides: tuple[int, ...] = (1, 1, 1)
    dense_hiddens: tuple[int, ...] = (256, 256)


def _host(values: Any) -> np.ndarray:
    return to_numpy(values.data if isinstance(values, Tensor) else values)


def as_regression_split(name: str, data: Any) -> Split:
    """float32 host arrays (images (N, C, H, W), targets (N, 1)) from a pair (images, targets) of arrays or
    Tensors, or from a dataset (tinygrad_ift.data) that returns a whole batch for an array of indices.

    Targets of shape (N,) are reshaped to (N, 1) here, explicitly: against the network's (N, 1) outputs they
    would otherwise broadcast into an (N, N) loss.
    """
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(hasattr(part, "shape") for part in data):
        images, targets = (_host(part) for part in data)
    elif hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        images, targets = (_host(part) for part in data[np.arange(len(data))])  # one batch of every item
    else:
        raise TypeError(f"{name}: expected (images, targets) arrays or a dataset of (image, target) items, "
                        f"got {type(data).__name__}")
    images, targets = images.astype(np.float32), targets.astype(np.float32)
    if targets.ndim == 1:
        targets = targets.reshape(-1, 1)
    if images.ndim != 4 or targets.shape != (len(images), 1):
        raise ValueError(f"{name}: expected images (N, C, H, W) and targets (N, 1) or (N,), got images "
                         f"{images.shape} and targets {targets.shape}")
    return images, targets


def shift_image(image: np.ndarray, pixels: int) -> np.ndarray:
    """Translate right and down by `pixels` along the last two axes, filling the uncovered border with zeros."""
    shifted = np.zeros_like(image)
    shifted[..., pixels:, pixels:] = image[..., :image.shape[-2] - pixels, :image.shape[-1] - pixels]
    return shifted


def rotate_image(image: np.ndarray) -> np.ndarray:
    """Rotate by 90 degrees counter-clockwise in the plane of the last two axes."""
    return np.ascontiguousarray(np.rot90(image, k=1, axes=(-2, -1)))


class Trainer:
    """Builds the network, trains it with Adam on the MSE, and logs MSE and MAE once per epoch.

    `train` and `test` are (images, targets) pairs of arrays or datasets; without them both splits come from
    tinygrad_ift.data.load_rotated_fashion_mnist(). `seed` reseeds the framework first (it fixes the init).
    """

    def __init__(self, network_type: str = "mlp", net_config: NetworkConfiguration = NetworkConfiguration(),
                 lr: float = 0.001, batch_size: int = 128, activation_name: str = "relu", train: Any = None,
                 test: Any = None, device: str = "cpu", seed: int | None = None) -> None:
        if network_type not in ("mlp", "cnn"):
            raise ValueError(f"Trainer: network_type must be 'mlp' or 'cnn', got {network_type!r}")
        if batch_size < 1:
            raise ValueError(f"Trainer: batch_size must be a positive integer, got {batch_size}")
        if seed is not None:
            tg.manual_seed(seed)
        if (train is None) != (test is None):
            raise ValueError("Trainer: give both the train and the test split, or neither (to load the "
                             "rotated Fashion-MNIST data)")
        if train is None:
            from tinygrad_ift.data import load_rotated_fashion_mnist
            data = load_rotated_fashion_mnist()
            train, test = (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
        self.train = as_regression_split("Trainer (train split)", train)
        self.test = as_regression_split("Trainer (test split)", test)
        self.network_type, self.lr, self.batch_size, self.device = network_type, lr, batch_size, device
        activation = self.create_activation_function(activation_name)
        channels, height, width = self.train[0].shape[1:]
        if network_type == "mlp":
            self.network = self.create_mlp(channels * height * width, net_config, activation)
        else:
            self.network = self.create_cnn(channels, net_config, activation)
        self.network.to(device)
        self.optimizer = optim.Adam(self.network.parameters(), lr=lr)
        self.train_logs: dict[str, list[float]] = {"train_loss": [], "test_loss": [], "train_mae": [],
                                                   "test_mae": []}

    # ----- the networks ---------------------------------------------------------------------------
    @staticmethod
    def create_activation_function(activation_str: str) -> nn.Module:
        """The activation module named "relu", "tanh", "sigmoid" or "gelu"."""
        return create_activation("Trainer.create_activation_function", activation_str)

    @staticmethod
    def _dense_layers(input_dim: int, dense_hiddens: tuple[int, ...], activation: nn.Module) -> list[nn.Module]:
        """Linear + activation per hidden width, then Linear(..., 1) for the scalar prediction."""
        widths = [input_dim] + list(dense_hiddens)
        layers: list[nn.Module] = []
        for n_in, n_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(n_in, n_out), activation]
        return layers + [nn.Linear(widths[-1], 1)]

    @staticmethod
    def create_mlp(input_dim: int, net_config: NetworkConfiguration, activation: nn.Module) -> nn.Sequential:
        """Flatten, then the dense layers of net_config.dense_hiddens (the other fields are unused)."""
        return nn.Sequential(nn.Flatten(), *Trainer._dense_layers(input_dim, net_config.dense_hiddens, activation))

    @staticmethod
    def create_cnn(in_channels: int, net_config: NetworkConfiguration, activation: nn.Module) -> nn.Sequential:
        """Per conv entry: Conv2d (padding 0) + activation, with MaxPool2d(2) after all but the last; then
        AdaptiveMaxPool2d((4, 4)), Flatten and the dense layers."""
        n_convs = len(net_config.n_channels)
        if n_convs == 0 or len(net_config.kernel_sizes) != n_convs or len(net_config.strides) != n_convs:
            raise ValueError(f"Trainer.create_cnn: n_channels, kernel_sizes and strides need one entry per conv "
                             f"(at least one), got {net_config.n_channels}, {net_config.kernel_sizes}, "
                             f"{net_config.strides}")
        widths = [in_channels] + list(net_config.n_channels)
        layers: list[nn.Module] = []
        for i, (kernel, stride) in enumerate(zip(net_config.kernel_sizes, net_config.strides)):
            layers += [nn.Conv2d(widths[i], widths[i + 1], kernel, stride=stride, padding=0), activation]
            if i < n_convs - 1:
                layers.append(nn.MaxPool2d(2))
        layers += [nn.AdaptiveMaxPool2d((4, 4)), nn.Flatten()]
        return nn.Sequential(*layers, *Trainer._dense_layers(4 * 4 * widths[-1], net_config.dense_hiddens,
                                                             activation))

    # ----- training and evaluation ------------------------------------------------------------------
    def _tensor(self, values: Any) -> Tensor:
        return Tensor(values, dtype=np.float32, device=self.device)

    def compute_loss_and_mae(self, X: Any, y: Any) -> tuple[Tensor, Tensor]:
        """(MSE, MAE) of the network's predictions for images X against targets y, both still in the graph.

        y of shape (N,) is reshaped to (N, 1) explicitly; any other shape mismatch is an error.
        """
        outputs = self.network(self._tensor(X))
        targets = self._tensor(y)
        if targets.ndim == 1:
            targets = targets.reshape(-1, 1)
        return F.mse_loss(outputs, targets), F.l1_loss(outputs, targets)

    def training_step(self, X_batch: Any, y_batch: Any) -> float:
        """One Adam step on the MSE of a batch; returns that batch's loss."""
        self.optimizer.zero_grad()
        loss, _ = self.compute_loss_and_mae(X_batch, y_batch)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    @tg.no_grad()
    def evaluate(self, X: Any, y: Any) -> tuple[Tensor, Tensor]:
        """(MSE, MAE) over all of X, without a graph, EVAL_CHUNK samples at a time."""
        total_mse = total_mae = 0.0
        for start in range(0, len(X), EVAL_CHUNK):
            mse, mae = self.compute_loss_and_mae(X[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK])
            share = len(X[start:start + EVAL_CHUNK]) / len(X)
            total_mse, total_mae = total_mse + mse.item() * share, total_mae + mae.item() * share
        return Tensor(total_mse), Tensor(total_mae)

    def log_metrics(self, X_train: Any, y_train: Any, X_test: Any, y_test: Any) -> None:
        """Append the train and test MSE and MAE (in eval mode) to train_logs."""
        self.network.eval()
        train_loss, train_mae = self.evaluate(X_train, y_train)
        test_loss, test_mae = self.evaluate(X_test, y_test)
        self.network.train()
        for key, value in (("train_loss", train_loss), ("test_loss", test_loss), ("train_mae", train_mae),
                           ("test_mae", test_mae)):
            self.train_logs[key].append(value.item())

    def train_loop(self, n_epochs: int) -> dict[str, list[float]]:
        """n_epochs passes over the training data in order, in batches; the metrics are logged before training
        and after every epoch (n_epochs + 1 entries), the training ones on the first 2000 samples."""
        X_train, y_train = self.train
        X_test, y_test = self.test
        self.log_metrics(X_train[:N_TRAIN_LOGGED], y_train[:N_TRAIN_LOGGED], X_test, y_test)
        for _ in range(n_epochs):
            for start in range(0, len(X_train), self.batch_size):
                self.training_step(X_train[start:start + self.batch_size], y_train[start:start + self.batch_size])
            self.log_metrics(X_train[:N_TRAIN_LOGGED], y_train[:N_TRAIN_LOGGED], X_test, y_test)
        return self.train_logs

    # ----- equivariance -----------------------------------------------------------------------------
    @tg.no_grad()
    def test_equivariance(self, path: str | os.PathLike | None = None,
                          shift_amount: int = 5) -> dict[str, np.ndarray]:
        """How far a small two-layer conv f = relu . conv . relu . conv is from commuting with a shift and with a
        90-degree rotation of the first training image: |shift(f(x)) - f(shift(x))| and
        |rotate(f(x)) - f(rotate(x))|. Convolution commutes with shifts (up to the border), not with rotations.

        Returns both maps (and the image) as arrays; with `path`, also saves them side by side as a PNG.
        """
        conv = nn.Sequential(nn.Conv2d(1, 1, kernel_size=3), nn.ReLU(), nn.Conv2d(1, 1, kernel_size=3), nn.ReLU())
        conv.to(self.device)
        image = self.train[0][:1, :1]  # (1, 1, H, W): first image, first channel

        def f(x: np.ndarray) -> np.ndarray:
            return conv(self._tensor(x)).numpy()

        maps = {"image": image[0, 0],
                "shift": np.abs(shift_image(f(image), shift_amount) - f(shift_image(image, shift_amount)))[0, 0],
                "rotation": np.abs(rotate_image(f(image)) - f(rotate_image(image)))[0, 0]}
        if path is not None:
            save_panels(path, [("x", maps["image"], {"cmap": "gray"}),
                               (f"|shift(f(x)) - f(shift(x))|, shift {shift_amount} px", maps["shift"], {}),
                               ("|rot90(f(x)) - f(rot90(x))|", maps["rotation"], {})],
                        title="Equivariance of a two-layer convolution")
        return maps
