"""Learning-rate schedules with PyTorch's names and lr sequences.

Call `scheduler.step()` after `optimizer.step()`: once per epoch, or once per batch for OneCycleLR. StepLR,
MultiStepLR and LinearLR use closed forms (lr from the base lr and the step count), which give PyTorch's
values whenever one scheduler drives the optimiser at a time (chain several with SequentialLR).
"""
from __future__ import annotations

import bisect
import math

from .optimizer import Optimizer


def _check_positive_int(name: str, **options: int) -> None:
    for option, value in options.items():
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name}: {option} must be a positive integer, got {value!r}")


def _per_group(name: str, option: str, value: float | list[float], groups: list[dict]) -> list[float]:
    """One value per parameter group: a list or tuple as given, or a single value repeated."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * len(groups)
    if len(values) != len(groups):
        raise ValueError(f"{name}: got {len(values)} values of {option} for {len(groups)} parameter groups")
    return values


class LRScheduler:
    """Sets every group's lr to `get_lr()` at each `step()`; `last_epoch` counts the steps taken.

    Constructing a scheduler takes its first step (to epoch 0), so the optimiser starts at the schedule's
    first lr. `base_lrs` are the groups' lrs when the first scheduler was attached ("initial_lr").
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{type(self).__name__}: resuming at last_epoch={last_epoch} needs "
                               f"'initial_lr' in param_groups[{i}]; load the optimiser's state dict first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The lrs for epoch `last_epoch`, one per parameter group."""
        raise NotImplementedError

    def step(self) -> None:
        """Move to the next epoch and set the optimiser's lrs for it."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _restart(self) -> None:
        """Start the schedule again at epoch 0 from the base lrs (what SequentialLR does at a milestone)."""
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base_lr
        self.last_epoch = -1
        self._initial_step()

    def get_last_lr(self) -> list[float]:
        """The lrs the last step set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimiser: plain Python values."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): decay by gamma every step_size epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        _check_positive_int("StepLR", step_size=step_size)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (number of milestones reached): decay by gamma at each milestone epoch."""

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1, last_epoch: int = -1):
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        reached = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base_lr * self.gamma ** reached for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """lr = base_lr * factor, the factor moving linearly from start_factor to end_factor over total_iters
    epochs and staying there (a linear warm-up with the defaults)."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        _check_positive_int("LinearLR", total_iters=total_iters)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        progress = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base_lr * factor for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2, half a cosine from base_lr down to
    eta_min over T_max epochs (and back up after, periodically).

    Computed as PyTorch does, each step from the current lr: lr_t - eta_min = (lr_{t-1} - eta_min) times the
    ratio of consecutive cosine terms, which equals the formula up to rounding (and follows manual lr changes).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be > 0, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, period, low = self.last_epoch, self.T_max, self.eta_min
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if self._step_count == 1:  # the step taken on construction keeps the optimiser's lrs
            return lrs
        if (t - 1 - period) % (2 * period) == 0:  # leaving the minimum, where the ratio below would be 0/0
            return [lr + (base_lr - low) * (1 - math.cos(math.pi / period)) / 2
                    for lr, base_lr in zip(lrs, self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [low + ratio * (lr - low) for lr in lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin), stepped once per batch for total_steps steps.

    The lr warms up from max_lr/div_factor to max_lr over the first pct_start of the steps, then anneals
    ('cos' or 'linear') to max_lr/(div_factor*final_div_factor). With three_phase=True it first returns to
    max_lr/div_factor symmetrically and anneals to the minimum in a third phase. With cycle_momentum the
    momentum (or Adam's beta1) moves the opposite way, between max_momentum and base_momentum.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True, base_momentum: float = 0.85,
                 max_momentum: float = 0.95, div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1):
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch")
            _check_positive_int("OneCycleLR", epochs=epochs, steps_per_epoch=steps_per_epoch)
            total_steps = epochs * steps_per_epoch
        _check_positive_int("OneCycleLR", total_steps=total_steps)
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        groups = optimizer.param_groups
        if cycle_momentum and not all("momentum" in g or "betas" in g for g in groups):
            raise ValueError("OneCycleLR: cycle_momentum=True needs an optimiser with 'momentum' or 'betas'; "
                             "pass cycle_momentum=False")
        self.total_steps, self.anneal_strategy, self.cycle_momentum = total_steps, anneal_strategy, cycle_momentum
        for group, top_lr in zip(groups, _per_group("OneCycleLR", "max_lr", max_lr, groups)):
            group["initial_lr"], group["max_lr"] = top_lr / div_factor, top_lr
            group["min_lr"] = group["initial_lr"] / final_div_factor
        if cycle_momentum:
            for group, low, high in zip(groups, _per_group("OneCycleLR", "base_momentum", base_momentum, groups),
                                        _per_group("OneCycleLR", "max_momentum", max_momentum, groups)):
                group["base_momentum"], group["max_momentum"] = low, high
        # phases: (last step of the phase, lr from, lr to, momentum from, momentum to)
        warm_end = float(pct_start * total_steps) - 1
        self.phases = [(warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum")]
        if three_phase:
            self.phases += [(2 * warm_end, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                            (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self.phases += [(total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)
        return start + (end - start) * pct

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times, but total_steps is {self.total_steps}")
        phase_start = 0.0
        for i, (phase_end, lr_from, lr_to, momentum_from, momentum_to) in enumerate(self.phases):
            if step <= phase_end or i == len(self.phases) - 1:
                break
            phase_start = phase_end
        pct = (step - phase_start) / (phase_end - phase_start)
        if self.cycle_momentum:
            for group in self.optimizer.param_groups:
                momentum = self._anneal(group[momentum_from], group[momentum_to], pct)
                if "betas" in group:
                    group["betas"] = (momentum, group["betas"][1])
                else:
                    group["momentum"] = momentum
        return [self._anneal(group[lr_from], group[lr_to], pct) for group in self.optimizer.param_groups]


class SequentialLR(LRScheduler):
    """Run schedulers one after another: schedulers[i] from epoch milestones[i-1] on, restarted at epoch 0.

    E.g. a 5-epoch LinearLR warm-up then CosineAnnealingLR: SequentialLR(opt, [warmup, cosine], milestones=[5]).
    """

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int],
                 last_epoch: int = -1):
        if not schedulers:
            raise ValueError("SequentialLR: expected at least one scheduler, got none")
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ValueError("SequentialLR: every scheduler must drive the optimiser given to SequentialLR")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(schedulers) - 1} milestones for {len(schedulers)} "
                             f"schedulers, got {len(milestones)}")
        self.optimizer, self._schedulers, self._milestones = optimizer, list(schedulers), list(milestones)
        self.last_epoch = last_epoch + 1
        current = self._schedulers[bisect.bisect_right(self._milestones, 0)]
        current._restart()
        self._last_lr = current.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        current = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            current._restart()
        else:
            current.step()
        self._last_lr = current.get_last_lr()

    def state_dict(self) -> dict:
        """Its own counters plus each scheduler's state dict."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_schedulers")}
        return {**state, "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update({key: value for key, value in state_dict.items() if key != "_schedulers"})
        for scheduler, state in zip(self._schedulers, state_dict["_schedulers"]):
            scheduler.load_state_dict(state)
