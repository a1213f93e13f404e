"""The thread count of NumPy's BLAS (OpenBLAS), turned down to one while our own threads share out a pass.

OpenBLAS splits each matrix product over its own threads. A pass that hands whole chunks of a batch to our
threads (slices.run_on_slices), each chunk with its own small products, runs better with one BLAS thread per
chunk: the chunks' copies and transforms run in parallel too, and no BLAS thread competes with ours for a core.
OpenBLAS has no per-call setting, so `one_blas_thread()` sets its global count around such a pass (from the
calling thread, while no product runs elsewhere). Found through the library loaded in this process (Linux);
`available()` is False elsewhere, or with another BLAS, and the passes then run on one thread of ours.
"""
from __future__ import annotations

import ctypes
from contextlib import contextmanager
from typing import Iterator

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")


def _find_openblas():
    """(set, get) of the OpenBLAS loaded in this process, or None."""
    import numpy  # noqa: F401  (loads its BLAS)
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.rsplit("/", 1)[-1].lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(library, name) for name in _SETTERS if hasattr(library, name)), None)
        getter = next((getattr(library, name) for name in _GETTERS if hasattr(library, name)), None)
        if setter is not None and getter is not None:
            setter.restype, setter.argtypes, getter.restype = None, [ctypes.c_int], ctypes.c_int
            return setter, getter
    return None


_openblas = _find_openblas()


def available() -> bool:
    """Whether the BLAS thread count can be set here."""
    return _openblas is not None


def blas_thread_count() -> int | None:
    """OpenBLAS's thread count now, or None where it cannot be read."""
    return None if _openblas is None else _openblas[1]()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Within the block, BLAS products run on the thread that calls them only; afterwards the count before."""
    if _openblas is None:
        yield
        return
    setter, getter = _openblas
    before = getter()
    setter(1)
    try:
        yield
    finally:
        setter(before)
