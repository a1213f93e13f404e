"""Reuse of large arrays' memory between steps.

A fresh large NumPy array costs a page fault for every page on first touch (glibc hands blocks above a
threshold straight back to the kernel when they are freed); for im2col's columns that costs more than the
matrix product that reads them, and for an elementwise op about as much as its arithmetic. Two ways in:
scratch arrays are taken from the pool and given back explicitly when the Function holding them is freed
(after backward, or at once under no_grad); op outputs come from `empty`, whose memory comes back by itself
once the array and every view of it are gone. CuPy pools its own memory, so this pool holds NumPy arrays only.
"""
from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from typing import Any

import numpy as np

MAX_POOLED_BYTES = 2 * 2 ** 30  # beyond this, the least recently returned arrays are dropped
MIN_RECYCLED_BYTES = 2 ** 20  # smaller arrays come cheaply from malloc's own free lists


class BufferPool:
    def __init__(self, max_bytes: int = MAX_POOLED_BYTES):
        self.max_bytes = max_bytes
        self._free: OrderedDict = OrderedDict()  # id -> array, oldest first
        self._bytes = 0
        self._lock = threading.Lock()  # the last view of an array may die on a worker thread

    def take(self, xp: Any, shape: tuple, dtype: Any) -> Any:
        """An uninitialised array of that shape and dtype: a returned one if any fits, else a new one."""
        if xp is np:
            with self._lock:
                for key, array in self._free.items():
                    if array.shape == shape and array.dtype == dtype:
                        del self._free[key]
                        self._bytes -= array.nbytes
                        return array
        return xp.empty(shape, dtype=dtype)

    def empty(self, xp: Any, shape: tuple, dtype: Any) -> Any:
        """An uninitialised array like xp.empty, whose memory returns to the pool when it and its views die.

        The array is a view of one made by np.frombuffer over a pooled byte block; NumPy points every
        further view at that frombuffer array (it stops at the first array whose base is not an array),
        so the finalizer on it runs only once nothing can reach the memory.
        """
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if xp is not np or nbytes < MIN_RECYCLED_BYTES:
            return xp.empty(shape, dtype=dtype)
        block = self.take(np, (nbytes,), np.uint8)
        owner = np.frombuffer(memoryview(block), dtype=dtype)
        weakref.finalize(owner, self.give, block).atexit = False  # nothing to hand back at exit
        return owner.reshape(shape)

    def give(self, array: Any) -> None:
        """Hand back an array that nothing else references any more."""
        if not isinstance(array, np.ndarray) or array.base is not None:
            return
        with self._lock:
            self._free[id(array)] = array
            self._bytes += array.nbytes
            while self._bytes > self.max_bytes:
                _, oldest = self._free.popitem(last=False)
                self._bytes -= oldest.nbytes

    def clear(self) -> None:
        """Release every pooled array (e.g. after training, to give the memory back)."""
        with self._lock:
            self._free.clear()
            self._bytes = 0


POOL = BufferPool()
