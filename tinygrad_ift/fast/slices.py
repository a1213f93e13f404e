"""Cache-sized passes over large arrays, one slice of the batch at a time.

A NumPy op on an array larger than the CPU's cache streams the whole array from memory, and a chain of
such ops streams it once per op. Running the whole chain on one slice of the batch before moving to the
next keeps the slice in cache between the ops (the README's Benchmarks section gives the measured effect of
the slice size). The slices are also what the cores share out (see set_num_threads). A CuPy array is done in one slice,
because a kernel launch per slice would cost more than it saves.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, Callable

import numpy as np

from ..backend import get_array_module
from . import blas_threads
from .buffer_pool import MIN_RECYCLED_BYTES, POOL

BLOCK_BYTES = 2 ** 20  # chosen by benchmarks.bench_batchnorm (see the README)
SLICES_PER_THREAD = 2  # below this many slices per thread, handing work to a thread costs more than it saves
MIN_SHARED_ROWS = 64  # a chunk of products handed to a thread of ours has at least this many rows
MIN_SHARED_PRODUCT = 2 ** 21  # multiply-adds below which a product runs whole on this thread
BLAS_ONE_THREAD_BELOW = 2 ** 16  # multiply-adds below which OpenBLAS runs a product on one thread by itself


def batch_slices(array: Any) -> list[slice]:
    """Consecutive slices of dim 0 covering `array`, each about BLOCK_BYTES (at least one item)."""
    n = array.shape[0]
    if get_array_module(array) is not np or n == 0:
        return [slice(0, n)]
    step = max(1, BLOCK_BYTES // max(array.nbytes // n, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def per_position(values: Any, length: int) -> Any:
    """A per-channel vector (C,) repeated along the positions, as a contiguous (C, length) array.

    Multiplying (N, C, L) by this runs NumPy's contiguous inner loop over all of C x L, where a (C, 1)
    operand would restart the loop every L elements (slow when L is small, e.g. 4x4 maps).
    """
    xp = get_array_module(values)
    return xp.ascontiguousarray(xp.broadcast_to(values[:, None], (values.shape[0], length)))


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_num_threads = min(_cpu_count(), 8)
_threads: ThreadPoolExecutor | None = None


def set_num_threads(count: int) -> None:
    """How many threads the sliced CPU passes (BatchNorm, ReLU) use, as torch.set_num_threads.

    The default is one per core (at most 8). Each hand-over of work to a thread has a fixed cost, and
    einsum holds the GIL, so small slices gain little from more threads.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {count!r}")
    global _num_threads, _threads
    if _threads is not None and count != _num_threads:
        _threads.shutdown()
        _threads = None
    _num_threads = count


def get_num_threads() -> int:
    """The thread count set by set_num_threads (by default one per core, at most 8)."""
    return _num_threads


def thread_groups(slices: list[slice], per_thread: int = SLICES_PER_THREAD) -> int:
    """How many threads to split these slices over: up to _num_threads, each with `per_thread` or more."""
    return max(1, min(_num_threads, len(slices) // per_thread))


def _thread_pool() -> ThreadPoolExecutor:
    """Our threads besides the calling one, started at first use."""
    global _threads
    if _threads is None:
        _threads = ThreadPoolExecutor(_num_threads - 1, thread_name_prefix="tinygrad_ift")
    return _threads


def run_on_slices(work: Callable[[list], Any], slices: list[slice], per_thread: int = SLICES_PER_THREAD) -> list:
    """work(group) for the slices split into contiguous groups, one per thread (see set_num_threads).

    NumPy lets go of the GIL inside its elementwise loops (not inside einsum), so the groups run in
    parallel; with one thread, or a short list of slices, the whole list is one group run on this
    thread. Each call of `work` must write only inside its own slices and use its own scratch arrays.
    The results come back in slice order, so with a given thread count sums of them are the same on
    every run. `per_thread`: the fewest slices worth handing to a thread (one for work that is large already).
    """
    count = thread_groups(slices, per_thread)
    if count == 1:
        return [work(slices)]
    groups = [slices[len(slices) * i // count: len(slices) * (i + 1) // count] for i in range(count)]
    others = [_thread_pool().submit(work, group) for group in groups[1:]]
    return [work(groups[0])] + [future.result() for future in others]


class _Draw:
    """The slices of a pass as one queue that several threads draw from, one slice at a time."""

    def __init__(self, slices: list[slice]) -> None:
        self._slices, self._lock = iter(slices), threading.Lock()

    def __iter__(self) -> "_Draw":
        return self

    def __next__(self) -> slice:
        with self._lock:
            return next(self._slices)


def run_products_on_slices(work: Callable[[Any], None], slices: list[slice],
                           per_thread: int = SLICES_PER_THREAD) -> None:
    """work(queue) on up to set_num_threads threads at once, for work that makes matrix products: each call
    takes the slices one at a time from one shared queue until it is empty, so a thread that the machine slows
    takes fewer and the others do not wait for it at the end (run_on_slices fixes every thread's share in
    advance); each product runs on one BLAS thread (see blas_threads.py). Which thread does a slice varies, so
    work writes each slice's results in that slice's own place (sums over slices then go through
    sum_in_order: the same on every run). Where the BLAS thread count cannot be set, or the slices are too few to
    share out, work takes them all on this thread, the products on every BLAS thread."""
    if not slices:
        return
    count = thread_groups(slices, per_thread)
    if count == 1 or not blas_threads.available():
        work(iter(slices))
        return
    queue = _Draw(slices)
    with blas_threads.one_blas_thread():
        others = [_thread_pool().submit(work, queue) for _ in range(count - 1)]
        try:
            work(queue)
        finally:  # no product of ours runs on after the BLAS thread count is set back
            wait(others)
    for other in others:
        other.result()


def sum_in_order(parts: list) -> Any:
    """parts[0] with every later part added to it, in slice order, whichever thread made each one (so the same
    sum on every run); the later parts go back to the buffer pool. For the per-slice results of
    run_products_on_slices."""
    total, *others = parts
    for other in others:
        total += other
        POOL.give(other)
    return total


def shared_step(n: int, step: int, rows_per_image: int) -> int:
    """Images per chunk of a batch of n: `step`, or fewer if that gives every thread SLICES_PER_THREAD chunks
    whose products still have MIN_SHARED_ROWS rows or more (and the BLAS thread count can be set)."""
    shared = -(-n // (SLICES_PER_THREAD * _num_threads))
    if _num_threads > 1 and blas_threads.available() and shared * rows_per_image >= MIN_SHARED_ROWS:
        return min(step, shared)
    return step


def map_slices(op: Callable[..., Any], *arrays: Any) -> Any:
    """op(*arrays), an elementwise ufunc call taking `out=`, split over the threads by slices of the batch.

    The arrays must have one shape; the result is C-contiguous with the first one's dtype, and a large one
    comes from the buffer pool (no page faults). CuPy arrays, and small ones, go to op in one call.
    """
    if get_array_module(arrays[0]) is not np or arrays[0].nbytes < MIN_RECYCLED_BYTES:
        return op(*arrays)
    out = POOL.empty(np, arrays[0].shape, arrays[0].dtype)
    slices = batch_slices(arrays[0])
    if thread_groups(slices) == 1:  # one pass over each array: slicing would buy nothing
        return op(*arrays, out=out)

    def work(group):
        for s in group:
            op(*(a[s] for a in arrays), out=out[s])

    run_on_slices(work, slices)
    return out


def shared_matmul(a, b, out=None):
    """a @ b for 2-D NumPy arrays (views of any strides), large ones split along the larger of the result's two
    dims over our threads, each part on one BLAS thread. OpenBLAS's own threads would do the same split, but
    keep spinning for about 0.1 s after each product, taking the cores from the threaded passes that follow
    (see blas_threads.py). `out`: where to write the result, else a pooled array."""
    (m, k), n = a.shape, b.shape[1]
    dtype = np.result_type(a, b)
    out = POOL.empty(np, (m, n), dtype) if out is None else out
    if m * n * k < BLAS_ONE_THREAD_BELOW or get_num_threads() == 1 or not blas_threads.available():
        return np.matmul(a, b, out=out)  # (setting the BLAS thread count costs microseconds a product)
    if m * n * k < MIN_SHARED_PRODUCT:  # on one BLAS thread too: no product of ours leaves BLAS threads spinning
        with blas_threads.one_blas_thread():
            return np.matmul(a, b, out=out)
    by_rows, size = m >= n, max(m, n)
    step = -(-size // get_num_threads())  # one part a thread: more would pack the other operand more often

    def work(queue):
        for part in queue:
            if by_rows:
                np.matmul(a[part], b, out=out[part])
            else:
                np.matmul(a, b[:, part], out=out[:, part])

    run_products_on_slices(work, [slice(i, min(i + step, size)) for i in range(0, size, step)], per_thread=1)
    return out
