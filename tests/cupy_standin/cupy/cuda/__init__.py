"""The stand-in's `cupy.cuda`: one pretend GPU (index 0), device contexts and synchronisation."""
from __future__ import annotations

from .. import _standin
from . import runtime  # noqa: F401


class Device:
    """A CUDA device as a context manager; only index 0 exists."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if self.id >= runtime.getDeviceCount():
            raise runtime.CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def use(self):
        return None

    def synchronize(self):
        _standin.counters.syncs += 1

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"
