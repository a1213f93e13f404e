"""Switching gradient recording off, as `torch.no_grad` does (context manager and decorator)."""
from __future__ import annotations

import functools
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_state, "enabled", True)


def set_grad_enabled(enabled: bool) -> None:
    _state.enabled = bool(enabled)


class no_grad:
    """Inside this block (or decorated function) operations record no graph: for evaluation and updates."""

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        set_grad_enabled(False)

    def __exit__(self, *exc) -> bool:
        set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)
        return wrapper
