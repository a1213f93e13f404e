#!/usr/bin/env bash
# One command for a lent GPU (see benchmarks/gpu_check.py): the test suite on the GPU, the op/conv/BatchNorm
# benchmarks, whole-model training steps against PyTorch with TF32 off and on, and a short ResNet18 run.
# Usage: benchmarks/gpu_check.sh OUT_DIR        (nothing to install; needs CuPy 14, PyTorch and NumPy)
#        benchmarks/gpu_check.sh OUT_DIR --device cpu --quick      (the same parts, small, without a GPU)
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=.
exec python3 -m benchmarks.gpu_check "$@"
