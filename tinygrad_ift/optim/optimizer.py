"""The optimiser base: parameter groups, per-parameter state, zero_grad and state dicts, as in PyTorch."""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

from ..backend import get_array_module, to_device, to_numpy
from ..fast import implementation
from ..tensor import Tensor


def check_non_negative(name: str, **options: float) -> None:
    """Raise a ValueError naming the first option that is negative."""
    for option, value in options.items():
        if value < 0:
            raise ValueError(f"{name}: {option} must be >= 0, got {value}")


class Optimizer:
    """Holds `param_groups` (dicts of params and their options) and `state` (per-parameter dicts of arrays).

    Subclasses list their options' defaults, check them in `validate(group)` and implement
    `update(param, grad, state, group)`, which changes `param.data` in place. Updates work on the raw arrays,
    so they record no graph, and they replace `.grad.data` rather than writing into it (the engine may share
    one gradient array between several tensors).
    """

    def __init__(self, params: Iterable, defaults: dict):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts, got a single Tensor "
                            f"of shape {params.shape}; wrap it in a list")
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict[Tensor, dict] = {}  # keyed by the parameter itself, as in PyTorch
        params = list(params)
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        """Add a dict with "params" and any options to override this optimiser's defaults for them."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry, got {group!r}")
        params = group["params"]
        group = {**self.defaults, **group, "params": [params] if isinstance(params, Tensor) else list(params)}
        self.validate(group)
        for i, p in enumerate(group["params"]):
            if not isinstance(p, Tensor) or not p.requires_grad:
                what = f"a Tensor of shape {p.shape} with requires_grad=False" if isinstance(p, Tensor) \
                    else type(p).__name__
                raise ValueError(f"{name}: parameter {i} of group {len(self.param_groups)} must be a Tensor "
                                 f"with requires_grad=True, got {what}")
        ids = [id(p) for p in self._ordered_params() + group["params"]]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{name}: some parameters appear twice (in this group or in an earlier one)")
        self.param_groups.append(group)

    def validate(self, group: dict) -> None:
        """Check a group's options; subclasses check their own."""
        check_non_negative(type(self).__name__, lr=group["lr"])

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (set them to None, or to fresh zero arrays with set_to_none=False)."""
        for p in self._ordered_params():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data = get_array_module(p.grad.data).zeros_like(p.grad.data)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns `closure()` (which recomputes the loss) if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:  # the update of this optimiser, or its fast path on p's device
                    implementation(type(self), p.device).update(self, p, p.grad.data, self.state.setdefault(p, {}),
                                                                group)
        return loss

    def update(self, param: Tensor, grad: Any, state: dict, group: dict) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {value}" for key, value in group.items() if key != "params"]
        return "\n".join(lines + [")"])

    # ----- state dicts: parameters are numbered in group order, as PyTorch does ------------------------
    def _ordered_params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict:
        """{"state": {param index: {name: host array or number}}, "param_groups": [options + param indices]}:
        plain Python values and NumPy arrays, so it pickles and loads into a fresh optimiser."""
        index = {p: i for i, p in enumerate(self._ordered_params())}
        groups, start = [], 0
        for group in self.param_groups:
            options = copy.deepcopy({k: v for k, v in group.items() if k != "params"})
            groups.append({**options, "params": list(range(start, start + len(group["params"])))})
            start += len(group["params"])
        state = {index[p]: {k: to_numpy(v).copy() if hasattr(v, "shape") else v for k, v in s.items()}
                 for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Take options and state from `state_dict` (of an optimiser over parameters of the same shapes)."""
        name = type(self).__name__
        saved_sizes = [len(g["params"]) for g in state_dict["param_groups"]]
        sizes = [len(g["params"]) for g in self.param_groups]
        if saved_sizes != sizes:
            raise ValueError(f"{name}.load_state_dict: the saved parameter groups have sizes {saved_sizes}, "
                             f"this optimiser's have {sizes}")
        params = self._ordered_params()
        state = {}
        for i, saved in state_dict["state"].items():
            p = params[int(i)]
            state[p] = {k: self._array_like(p, v, f"{name}.load_state_dict: state {k!r} of parameter {i}")
                        if hasattr(v, "shape") else v for k, v in saved.items()}
        for group, saved in zip(self.param_groups, state_dict["param_groups"]):
            group.update(copy.deepcopy({k: v for k, v in saved.items() if k != "params"}))
        self.state = state

    @staticmethod
    def _array_like(param: Tensor, array: Any, where: str):
        """A copy of a saved state array on the parameter's device and in its dtype."""
        if tuple(array.shape) != param.shape:
            raise ValueError(f"{where} has shape {tuple(array.shape)}, but the parameter has shape {param.shape}")
        return to_device(array, param.device).astype(param.dtype)  # astype copies
