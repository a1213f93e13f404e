"""The optimiser base: parameter groups, per-parameter state, zero_grad and state dicts, as in PyTorch."""
from __future__ import annotations

import copy
from typing import Any, Iterable

from ..backend import get_array_module, to_device, to_numpy
from ..tensor import Tensor


def check_non_negative(name: str, **values: float) -> None:
    for option, value in values.items():
        if value < 0:
            raise ValueError(f"{name}: {option} must be >= 0, got {value}")


class Optimizer:
    """Holds `param_groups` (dicts of params and options) and `state` (per-parameter arrays).

    Subclasses implement `update(param, grad, state, group)`, which changes `param.data` in place.
    """

    def __init__(self, params: Iterable, defaults: dict):
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict[int, dict] = {}  # keyed by id(param)
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        group = {**self.defaults, **group, "params": list(group["params"])}
        self.validate(group)
        for p in group["params"]:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"{type(self).__name__}: every parameter must be a Tensor with requires_grad=True")
        self.param_groups.append(group)

    def validate(self, group: dict) -> None:
        check_non_negative(type(self).__name__, lr=group["lr"])

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.update(p, p.grad.data, self.state.setdefault(id(p), {}), group)

    def update(self, param: Tensor, grad: Any, state: dict, group: dict) -> None:
        raise NotImplementedError

    @staticmethod
    def xp(param: Tensor):
        return get_array_module(param.data)

    # ----- state dicts, with parameters numbered in order as PyTorch does ------------------------------
    def _ordered_params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict:
        index = {id(p): i for i, p in enumerate(self._ordered_params())}
        groups, start = [], 0
        for group in self.param_groups:
            options = {k: v for k, v in group.items() if k != "params"}
            groups.append({**options, "params": list(range(start, start + len(group["params"])))})
            start += len(group["params"])
        state = {index[key]: {k: to_numpy(v) if hasattr(v, "shape") else v for k, v in s.items()}
                 for key, s in self.state.items() if key in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        params = self._ordered_params()
        groups = state_dict["param_groups"]
        if [len(g["params"]) for g in groups] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved groups' sizes "
                             f"{[len(g['params']) for g in groups]} differ from this optimiser's "
                             f"{[len(g['params']) for g in self.param_groups]}")
        for group, saved in zip(self.param_groups, groups):
            group.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            self.state[id(p)] = {k: to_device(v, p.device).copy() if hasattr(v, "shape") else v for k, v in s.items()}
