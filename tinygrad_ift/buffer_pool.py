"""Reuse of large scratch arrays between steps.

A fresh large NumPy array costs a page fault for every page on first touch; for im2col's columns that costs
more than the matrix product that reads them. Ops take such arrays from the pool and give them back when
the Function holding them is freed (after backward, or at once under no_grad). CuPy pools its own memory,
so the pool is only used for NumPy arrays.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

MAX_POOLED_BYTES = 2 * 2 ** 30  # beyond this, the least recently returned arrays are dropped


class BufferPool:
    def __init__(self, max_bytes: int = MAX_POOLED_BYTES):
        self.max_bytes = max_bytes
        self._free: OrderedDict = OrderedDict()  # id -> array, oldest first
        self._bytes = 0

    def take(self, xp: Any, shape: tuple, dtype: Any) -> Any:
        """An uninitialised array of that shape and dtype: a returned one if any fits, else a new one."""
        if xp is np:
            for key, array in self._free.items():
                if array.shape == shape and array.dtype == dtype:
                    del self._free[key]
                    self._bytes -= array.nbytes
                    return array
        return xp.empty(shape, dtype=dtype)

    def give(self, array: Any) -> None:
        """Hand back an array that nothing else references any more."""
        if not isinstance(array, np.ndarray) or array.base is not None:
            return
        self._free[id(array)] = array
        self._bytes += array.nbytes
        while self._bytes > self.max_bytes:
            _, oldest = self._free.popitem(last=False)
            self._bytes -= oldest.nbytes

    def clear(self) -> None:
        """Release every pooled array (e.g. after training, to give the memory back)."""
        self._free.clear()
        self._bytes = 0


POOL = BufferPool()
