"""Training the by-hand models: minibatch SGD or Adam, per-epoch logs, best model kept by validation accuracy."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..backend import device_of, to_device
from ..random import generator
from .logistic import accuracy, cross_entropy, one_hot


def split_train_valid(x: np.ndarray, y: np.ndarray, valid_fraction: float = 0.1, seed: int = 0) -> tuple:
    """A seeded shuffle, then the last `valid_fraction` of it as the validation set (90/10 by default)."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_valid = int(round(len(x) * valid_fraction))
    train, valid = order[:len(x) - n_valid], order[len(x) - n_valid:]
    return (x[train], y[train]), (x[valid], y[valid])


def evaluate(model: Any, x: Any, y: Any, n_classes: int, batch_size: int = 5000) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) over a whole split, in chunks."""
    losses, hits = [], 0
    for start in range(0, len(x), batch_size):
        probs = model.forward(x[start:start + batch_size])
        labels = y[start:start + batch_size]
        losses.append(cross_entropy(probs, one_hot(labels, n_classes, probs.dtype)) * len(labels))
        hits += accuracy(probs, labels) * len(labels)
    return float(sum(losses) / len(x)), float(hits / len(x))


def fit(model: Any, train: tuple, valid: tuple, n_classes: int, optimizer: str = "sgd", lr: float = 0.01,
        batch_size: int = 100, epochs: int = 10) -> tuple[Any, dict]:
    """Train with `model.forward / backward / sgd_update | adam_update`, reshuffling every epoch.

    Returns the model of the best validation accuracy and logs of train/valid loss and accuracy per epoch,
    epoch 0 being the untrained model. The shuffles draw from `tinygrad_ift.random`'s CPU generator, whatever the data's device (so a GPU run
    shuffles as the CPU run does).
    """
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"fit: optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    update = model.sgd_update if optimizer == "sgd" else model.adam_update
    (x, y), (xv, yv) = train, valid
    rng, device = generator("cpu"), device_of(x)  # CuPy's generator has no permutation: shuffle on the host
    logs = {"train_loss": [], "train_acc": [], "valid_loss": [], "valid_acc": []}
    best, best_acc = model, -1.0
    for epoch in range(epochs + 1):
        if epoch > 0:
            order = to_device(rng.permutation(len(x)), device)  # one copy per epoch; batches slice it there
            for start in range(0, len(x), batch_size):
                idx = order[start:start + batch_size]
                probs = model.forward(x[idx])
                grads = model.backward(one_hot(y[idx], n_classes, probs.dtype), probs)
                if isinstance(grads, tuple):  # (weight grads, bias grads) of an MLP
                    update(*grads, lr)
                else:
                    update(grads, lr)
        for split, (xs, ys) in (("train", (x, y)), ("valid", (xv, yv))):
            loss, acc = evaluate(model, xs, ys, n_classes)
            logs[f"{split}_loss"].append(loss)
            logs[f"{split}_acc"].append(acc)
        if logs["valid_acc"][-1] > best_acc:
            best, best_acc = copy.deepcopy(model), logs["valid_acc"][-1]
    return best, logs
