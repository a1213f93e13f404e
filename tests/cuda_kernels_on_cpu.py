"""The CUDA kernels of tinygrad_ift/fast/cuda_kernels.cu compiled as plain C++ and run on the CPU (test support).

CI has no GPU, so the kernels' index arithmetic would otherwise be checked nowhere before a GPU is lent. Here each
`extern "C" __global__` kernel becomes a host function, and a generated launcher runs it for every block and
thread in turn (blockIdx/threadIdx are globals). That order is sequential, so the one block-wide step, the shared
memory reduction `block_sum2` (with __syncthreads), is swapped for its sequential equivalent: thread 0 starts
each block's sums, every thread adds its own part. `launch` has the signature of fast/cuda.py's `_launch`, so a
test can run the CUDA fast paths on NumPy arrays. A check of the kernels' logic, not of the GPU: no FMA
contraction, no concurrency (atomicAdd is a plain add). It takes arrays of the CuPy stand-in too (their NumPy
data), so that benchmarks/step_launches.py can count the fast paths' calls on the stand-in.
"""
from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from tinygrad_ift.fast import cuda as fast_cuda

KERNEL = re.compile(r'extern "C" __global__ void (\w+)\(([^)]*)\)')
BLOCK_SUM = re.compile(r"__device__ void block_sum2\(.*?\n}\n", re.S)
HOST_PRELUDE = """
#include <cmath>
using std::erf; using std::exp; using std::log; using std::sqrt;
struct Index { unsigned x; };
static Index blockIdx, threadIdx, blockDim;
#define __global__
#define __device__
inline void __syncthreads() {}
template <class V> V atomicAdd(V* place, V value) { V old = *place; *place += value; return old; }
"""
SEQUENTIAL_BLOCK_SUM = """__device__ void block_sum2(double a, double b, double* out_a, double* out_b) {
    if (threadIdx.x == 0) { *out_a = 0; *out_b = 0; }
    *out_a += a;
    *out_b += b;
}
"""
C_TYPES = {"int": ctypes.c_int, "long long": ctypes.c_longlong, "float": ctypes.c_float, "double": ctypes.c_double}


def compiler_available() -> bool:
    return shutil.which("g++") is not None


def _parameters(text: str) -> list[tuple[str, str]]:
    """'const T* x, int n' -> [('const T*', 'x'), ('int', 'n')]."""
    pairs = []
    for part in text.split(","):
        kind, name = part.strip().rsplit(None, 1)
        pointer = name.startswith("*")
        pairs.append((kind + "*" * pointer, name.lstrip("*")))
    return pairs


def host_source(dtype) -> tuple[str, dict]:
    """The kernels as C++ for the host, with one launcher per kernel; and each kernel's parameter types."""
    code = fast_cuda.source(dtype)
    code, replaced = BLOCK_SUM.subn(SEQUENTIAL_BLOCK_SUM, code)
    assert replaced == 1, "block_sum2 not found: update SEQUENTIAL_BLOCK_SUM with the kernels' source"
    kernels = {name: _parameters(params) for name, params in KERNEL.findall(code)}
    code = code.replace('extern "C" __global__ void', "__global__ void")
    launchers = []
    for name, params in kernels.items():
        declared = ", ".join(f"{kind} {arg}" for kind, arg in params)
        passed = ", ".join(arg for _, arg in params)
        launchers.append(
            f'extern "C" void launch_{name}(unsigned blocks, unsigned threads, {declared}) {{\n'
            f"    blockDim.x = threads;\n"
            f"    for (blockIdx.x = 0; blockIdx.x < blocks; ++blockIdx.x)\n"
            f"        for (threadIdx.x = 0; threadIdx.x < threads; ++threadIdx.x) {name}({passed});\n}}\n")
    return HOST_PRELUDE + code + "\n" + "".join(launchers), kernels


class HostKernels:
    """The kernels for one dtype, compiled into a shared library in `folder`."""

    def __init__(self, dtype, folder: Path):
        source, self.kernels = host_source(dtype)
        self.c_type = C_TYPES[fast_cuda.C_TYPES[np.dtype(dtype)]]
        path = Path(folder) / f"cuda_kernels_{np.dtype(dtype).name}"
        path.with_suffix(".cpp").write_text(source)
        subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-std=c++17", "-o", str(path.with_suffix(".so")),
                        str(path.with_suffix(".cpp"))], check=True, capture_output=True, text=True)
        self.library = ctypes.CDLL(str(path.with_suffix(".so")))

    def argument(self, kind: str, value):
        if "*" in kind:
            value = getattr(value, "_array", value)  # a CuPy stand-in array: the NumPy array that holds its data
            assert isinstance(value, np.ndarray) and value.flags.c_contiguous, f"{kind}: a contiguous array"
            return ctypes.c_void_p(value.ctypes.data)
        return (self.c_type if kind.replace("const ", "") == "T" else C_TYPES[kind])(value)

    def launch(self, name: str, blocks: int, *args) -> None:
        params = self.kernels[name]
        assert len(args) == len(params), f"{name}: {len(params)} arguments expected, got {len(args)}"
        converted = [self.argument(kind, value) for (kind, _), value in zip(params, args)]
        getattr(self.library, f"launch_{name}")(ctypes.c_uint(blocks), ctypes.c_uint(fast_cuda.THREADS), *converted)


class HostLauncher:
    """A stand-in for fast/cuda.py's `_launch` that runs the kernels on the host, on NumPy arrays."""

    def __init__(self, folder: Path):
        self.folder, self.compiled, self.launched = Path(folder), {}, []

    def __call__(self, name: str, like, threads: int, *args, blocks: int | None = None) -> None:
        key = np.dtype(like.dtype)
        if key not in self.compiled:
            self.compiled[key] = HostKernels(key, self.folder)
        count = blocks if blocks is not None else max(1, -(-threads // fast_cuda.THREADS))
        self.compiled[key].launch(name, count, *args)
        self.launched.append(name)
