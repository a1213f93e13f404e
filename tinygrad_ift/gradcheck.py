"""Checking analytic gradients against central finite differences, in float64."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .backend import to_numpy
from .grad_mode import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the finite-difference estimate."""


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Tensor], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """Compare d<fn(inputs), R>/d input with central differences for every input that requires grad.

    `fn` may return any shape: it is reduced to a scalar with a fixed random weighting R, so every output
    element is checked. Inputs should be float64. On failure, raises GradcheckError naming the worst element:
    the input, its index, the analytic and the numeric value.
    """
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if t.requires_grad and t.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {t.dtype}; finite differences need float64 inputs")
    with no_grad():
        probe = fn(*inputs)
    weights = np.random.default_rng(seed).standard_normal(probe.shape)
    weights_t = Tensor(weights, device=probe.device)

    def objective() -> float:
        with no_grad():
            return float((fn(*inputs) * weights_t).sum().item())

    for t in inputs:
        t.grad = None
    (fn(*inputs) * weights_t).sum().backward()

    for i, t in enumerate(inputs):
        if not t.requires_grad:
            continue
        analytic = np.zeros(t.shape) if t.grad is None else to_numpy(t.grad.data)
        numeric = np.zeros(t.shape)
        for idx in np.ndindex(*t.shape):  # perturb one element in place, then restore it
            original = t.data[idx].item()
            t.data[idx] = original + eps
            plus = objective()
            t.data[idx] = original - eps
            minus = objective()
            t.data[idx] = original
            numeric[idx] = (plus - minus) / (2 * eps)
        error = np.atleast_1d(np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric)))
        error[np.isnan(error)] = np.inf  # a NaN on either side is a failure, not a pass
        if error.size and error.max() > 0:
            worst = np.unravel_index(int(np.argmax(error)), t.shape) if t.shape else ()
            raise GradcheckError(
                f"gradcheck: input {i} (shape {t.shape}) at index {tuple(int(k) for k in worst)}: "
                f"analytic {analytic[worst]:.8g} vs numeric {numeric[worst]:.8g} "
                f"(atol={atol}, rtol={rtol})")
    return True
