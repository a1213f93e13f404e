"""The CUDA fast paths without a GPU: every kernel source compiles for sm_90 with NVRTC (so a typo fails CI),
every kernel the wrappers launch exists, each fast path keeps its reference's signature, and each gives its
reference's results with its kernels compiled as host C++ (tests/cuda_kernels_on_cpu.py: their logic, not the
GPU). On a real GPU the same cases run on the device (tests/test_fast_paths.py, through benchmarks/gpu_check.sh).
"""
from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from test_fast_paths import assert_same, cases_of, run_both
from tinygrad_ift import backend, fast, ops
from tinygrad_ift.fast import cuda as fast_cuda
from tinygrad_ift.nn.normalization import BatchNormFunction, BatchNormReLUFunction

OPTIONS = ["--gpu-architecture=sm_90", "--std=c++17"]
KERNEL_DEFINITION = re.compile(r'extern "C" __global__ void (\w+)\(')
NO_NVRTC = 3  # the compiling process's exit status when CuPy's NVRTC bindings are missing
COMPILER = f"""
import sys
try:
    from cupy.cuda import nvrtc
except ImportError:
    sys.exit({NO_NVRTC})
program = nvrtc.createProgram(sys.stdin.read(), "cuda_kernels.cu", [], [])
try:
    nvrtc.compileProgram(program, {OPTIONS!r})
except nvrtc.NVRTCError as error:
    sys.exit(f"{{error}}\\n{{nvrtc.getProgramLog(program)}}")
print("compiled")
"""


def compile_for_sm90(code: str) -> None:
    """Compile with NVRTC in a fresh interpreter that sees the real CuPy (not the stand-in that CI's test run
    puts first on the path); raise with the compiler's log on an error, skip if NVRTC is not installed."""
    path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and "cupy_standin" not in p]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    result = subprocess.run([sys.executable, "-c", COMPILER], input=code, env=env, capture_output=True, text=True,
                            timeout=300)
    if result.returncode == NO_NVRTC:
        pytest.skip("needs CuPy's NVRTC bindings: pip install -e '.[test]' (cupy-cuda13x, nvidia-cuda-nvrtc)")
    if result.returncode != 0:
        raise AssertionError(result.stderr)
    assert result.stdout.strip() == "compiled"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_compile_for_sm90(dtype):
    compile_for_sm90(fast_cuda.source(dtype))


def test_a_typo_fails_to_compile():
    with pytest.raises(AssertionError, match="error"):
        compile_for_sm90(fast_cuda.source(np.float32).replace("dx[i] = grad[i] * relu_mask", "dx[i] = grad[i] * relu_mak"))


def test_every_launched_kernel_is_defined():
    defined = set(KERNEL_DEFINITION.findall(fast_cuda.SOURCE_PATH.read_text()))
    launched = set(re.findall(r'_launch\("(\w+)"', inspect.getsource(fast_cuda)))
    assert launched and launched <= defined
    assert not defined - launched, "kernels that nothing launches"


def parameters(function) -> list:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


FAST_PATHS = [(ref, fast_path) for kind in fast.DEVICE_TYPES for ref, fast_path in fast.registered(kind).items()]


@pytest.mark.parametrize("reference,replacement", FAST_PATHS, ids=[path.__name__ for _, path in FAST_PATHS])
def test_fast_paths_keep_their_references_signatures(reference, replacement):
    """A reference op that gains an argument must not leave a fast path behind unnoticed (the GPU ones run
    nowhere in CI)."""
    for method in ("forward", "backward", "update", "gather_columns", "scatter_columns"):
        if hasattr(reference, method) and getattr(replacement, method) is not getattr(reference, method):
            assert parameters(getattr(replacement, method)) == parameters(getattr(reference, method))


def test_the_cuda_fast_paths_cover_the_launch_heavy_ops():
    """The CUDA table covers the ops a training step of the course models spends its launches on."""
    names = {ref.__name__ for ref in fast.registered("cuda")}
    assert {"BatchNormFunction", "BatchNormReLUFunction", "GELUFunction", "CrossEntropy", "Adam", "AdamW", "SGD",
            "Conv2dFunction", "MaxPool", "ReLUFunction"} <= names


def test_allow_tf32_needs_a_gpu():
    """The TF32 opt-in switches cuBLAS on a GPU; without one it says what is missing."""
    if backend.cuda_available():
        backend.allow_tf32(True)
        backend.allow_tf32(False)
    else:
        with pytest.raises(RuntimeError, match="device cuda:0"):
            backend.allow_tf32(True)


@pytest.fixture(scope="module")
def host_launch(tmp_path_factory):
    from cuda_kernels_on_cpu import HostLauncher, compiler_available
    if not compiler_available():
        pytest.skip("runs the CUDA kernels as host C++: needs g++")
    return HostLauncher(tmp_path_factory.mktemp("host_kernels"))


HANDED_TO_THE_REFERENCE = {"Adam-2", "SGD-3",  # amsgrad and nesterov: the CUDA optimisers run the reference
                           "BatchNormFunction-6", "BatchNormFunction-7",  # a float64 input, float32 statistics
                           "GELUFunction-2"}  # the tanh approximation


@pytest.mark.parametrize("case", cases_of("cuda"))
def test_cuda_fast_paths_run_as_host_code_equal_their_references(case, host_launch, monkeypatch, request):
    """Every CUDA fast path, its kernels compiled for the CPU (tests/cuda_kernels_on_cpu.py) and run on NumPy
    arrays, gives its reference op's results: the kernels' index arithmetic and the Python around them, checked
    without a GPU (a real GPU runs the same cases in tests/test_fast_paths.py)."""
    monkeypatch.setattr(fast_cuda, "_launch", host_launch)
    monkeypatch.setitem(fast._active, "cpu", fast.registered("cuda"))  # the CUDA classes, on "cpu" tensors
    host_launch.launched.clear()
    compute, rtol, atol = case("cpu")
    fast_result, reference_result = run_both(compute)
    # host C++ float32 arithmetic rounds in another order than NumPy's: float32 outputs get at least 1e-5;
    # float64 cases keep their own tolerance
    floor = 1e-5 if any(a.dtype == np.float32 for a in reference_result) else 0.0
    assert_same(fast_result, reference_result, max(rtol, floor), max(atol, floor))
    assert bool(host_launch.launched) != (request.node.callspec.id in HANDED_TO_THE_REFERENCE)


@pytest.mark.parametrize("reference,options", [(ops.ReLUFunction, {}), (ops.GELUFunction, {}),
                                                (BatchNormFunction, {"eps": 1e-5, "training": True}),
                                                (BatchNormReLUFunction, {"eps": 1e-5, "training": False})])
def test_cuda_backward_takes_a_gradient_of_another_dtype(reference, options, host_launch, monkeypatch):
    """A float64 gradient reaching a float32 op's CUDA backward goes to the reference (or is cast), never into a
    kernel compiled for the other dtype."""
    monkeypatch.setattr(fast_cuda, "_launch", host_launch)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    grad = rng.standard_normal(x.shape)  # float64
    if options and not options["training"]:
        options = {**options, "running_mean": np.full(3, 0.1, np.float32), "running_var": np.full(3, 2.0, np.float32)}
    results = []
    for ctx in (fast.registered("cuda")[reference](), reference()):
        ctx.forward(x, **options)
        results.append(ctx.backward(grad))
    for fast_result, reference_result in zip(*[r if isinstance(r, tuple) else (r,) for r in results]):
        np.testing.assert_allclose(fast_result, reference_result, rtol=1e-5, atol=1e-5)
