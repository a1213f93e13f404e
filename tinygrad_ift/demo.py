"""A one-minute demo: a two-layer network learns a 2-D spiral with the bare Tensor API, loss printed as it falls."""
from __future__ import annotations

import numpy as np

import tinygrad_ift as tg


def spiral(n_per_class: int = 100, n_classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points on interleaved noisy spiral arms, one arm per class."""
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.05, 1, n_per_class), n_classes)
    labels = np.repeat(np.arange(n_classes), n_per_class)
    angle = labels * 2 * np.pi / n_classes + radius * 4 + rng.normal(0, 0.2, radius.size)
    points = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1).astype(np.float32)
    return points, labels


def main(steps: int = 300, hidden: int = 64, lr: float = 0.5, seed: int = 0) -> list[float]:
    """Full-batch gradient descent on softmax cross-entropy; returns the loss every 50 steps."""
    tg.manual_seed(seed)
    x_np, y_np = spiral(seed=seed)
    x, rows, y = tg.Tensor(x_np), np.arange(len(y_np)), y_np
    w1 = (tg.randn(2, hidden) * 1.0).requires_grad_()
    b1 = tg.zeros(hidden, requires_grad=True)
    w2 = (tg.randn(hidden, 3) * (1 / hidden ** 0.5)).requires_grad_()
    b2 = tg.zeros(3, requires_grad=True)
    history = []
    for step in range(steps + 1):
        logits = (x @ w1 + b1).relu() @ w2 + b2
        loss = -logits.log_softmax(axis=1)[rows, y].mean()
        for p in (w1, b1, w2, b2):
            p.grad = None
        loss.backward()
        with tg.no_grad():
            for p in (w1, b1, w2, b2):
                p.data -= lr * p.grad.data
        if step % 50 == 0:
            accuracy = float((logits.argmax(axis=1).numpy() == y).mean())
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {accuracy:.2f}")
            history.append(loss.item())
    return history


if __name__ == "__main__":
    main()
