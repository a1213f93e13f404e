"""Adam (L2 weight decay) and AdamW (decoupled weight decay), from the Adam paper, as PyTorch computes them."""
from __future__ import annotations

import math
from typing import Any, Iterable

from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, check_non_negative


class Adam(Optimizer):
    """m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr m_hat / (sqrt(v_hat) + eps),
    with bias corrections m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t); amsgrad uses the running max of v.
    weight_decay adds wd p to the gradient (L2 regularisation)."""

    decoupled_weight_decay = False

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def validate(self, group: dict) -> None:
        name = type(self).__name__
        check_non_negative(name, lr=group["lr"], eps=group["eps"], weight_decay=group["weight_decay"])
        if len(group["betas"]) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {group['betas']}")
        for i, beta in enumerate(group["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: betas[{i}] must be in [0, 1), got {beta}")

    def update(self, param: Tensor, grad: Any, state: dict, group: dict) -> None:
        xp = get_array_module(param.data)
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if wd and self.decoupled_weight_decay:
            param.data *= 1 - lr * wd
        elif wd:
            grad = grad + wd * param.data
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(param.data), exp_avg_sq=xp.zeros_like(param.data))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(param.data)
        state["step"] += 1
        m, v = state["exp_avg"], state["exp_avg_sq"]  # updated in place: fresh arrays each step cost page faults
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = xp.sqrt(v)
        denom /= math.sqrt(1 - beta2 ** state["step"])
        denom += eps
        step = m / denom
        step *= lr / (1 - beta1 ** state["step"])
        param.data -= step


class AdamW(Adam):
    """Adam whose weight decay shrinks the parameters directly (p <- p (1 - lr wd)) before the Adam step,
    instead of adding wd p to the gradient (decoupled weight decay, Loshchilov & Hutter)."""

    decoupled_weight_decay = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
