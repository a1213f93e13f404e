"""Fixtures shared by the test files, and the switch to the CuPy stand-in.

`pytest --cupy-standin` (or TINYGRAD_IFT_CUPY_STANDIN=1) runs the "cuda" side of every `device` test on the
NumPy-backed CuPy stand-in in tests/cupy_standin (test support: it checks device discipline, never speed).
Without it, "cuda" runs on a real GPU when CuPy sees one, and is skipped otherwise.
"""
import os
import sys
from pathlib import Path

import pytest

STANDIN_DIR = str(Path(__file__).resolve().parent / "cupy_standin")
STANDIN_ENV = "TINYGRAD_IFT_CUPY_STANDIN"


def pytest_addoption(parser):
    parser.addoption("--cupy-standin", action="store_true",
                     help="run the 'cuda' tests on the NumPy-backed CuPy stand-in (tests/cupy_standin)")


def pytest_configure(config):
    if config.getoption("--cupy-standin") or os.environ.get(STANDIN_ENV) == "1":
        if "tinygrad_ift" in sys.modules or "cupy" in sys.modules:
            raise pytest.UsageError("--cupy-standin: tinygrad_ift or cupy was imported before the switch")
        os.environ[STANDIN_ENV] = "1"
        os.environ.setdefault("TINYGRAD_IFT_REFERENCE_OPS", "cuda")  # the stand-in compiles no CUDA kernels
        sys.path.insert(0, STANDIN_DIR)  # `import cupy` now finds the stand-in, here and in subprocesses:
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (STANDIN_DIR, os.environ.get("PYTHONPATH")) if p)
    import models  # noqa: F401  (registers the course models; an installed checkout finds them by its entry point)


def standin_active() -> bool:
    return os.environ.get(STANDIN_ENV) == "1"


@pytest.fixture(scope="session", params=["cpu", "cuda"])
def device(request):
    """Run the test on "cpu" and on "cuda" (a real GPU, else the stand-in with --cupy-standin, else skipped)."""
    import tinygrad_ift as tg
    if request.param == "cuda" and not tg.cuda_available():
        pytest.skip("needs CuPy and a CUDA GPU, or the stand-in: pytest --cupy-standin")
    return request.param


@pytest.fixture
def standin():
    """The stand-in's sync/copy counters, reset (tests of sync and copy budgets; skipped on a real GPU)."""
    if not standin_active():
        pytest.skip("counts syncs and copies on the CuPy stand-in: pytest --cupy-standin")
    import cupy
    cupy._standin.counters.reset()
    return cupy._standin.counters


@pytest.fixture(params=[1, 3])
def threads(request):
    """Run the test with that many threads for the sliced CPU passes, then go back to the count set before."""
    import tinygrad_ift as tg
    before = tg.get_num_threads()
    tg.set_num_threads(request.param)
    yield request.param
    tg.set_num_threads(before)


_MAKERS = ("tensor", "zeros", "ones", "full", "empty", "linspace", "eye", "arange", "rand", "randn", "randint")


class _OnDevice:
    """tinygrad_ift with its tensor-making functions (tensor, zeros, ...) making tensors on one device."""

    def __init__(self, device):
        self.device = device

    def __getattr__(self, name):
        import functools
        import tinygrad_ift as tg
        attr = getattr(tg, name)
        return functools.partial(attr, device=self.device) if name in _MAKERS else attr


@pytest.fixture
def tg_on(device):
    """`tg` whose tg.tensor(...), tg.zeros(...) etc. land on `device`, so that a test body written once for a
    library argument (tg or torch) runs on each device."""
    return _OnDevice(device)
