"""tinygrad_ift: a small, readable deep-learning framework on NumPy (CPU) and CuPy (GPU)."""
import numpy as np

from . import backend, ops
from .backend import Device, cuda_available
from .fast import use_reference_ops
from .fast.slices import get_num_threads, set_num_threads
from .creation import (arange, eye, full, full_like, ones, ones_like, rand, rand_like, randint, randn,
                       randn_like, tensor, zeros, zeros_like)
from .grad_mode import is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck
from .random import get_rng_state, manual_seed, set_rng_state
from .autograd import Function
from .tensor import Tensor, cat, maximum, minimum, split, stack, where
from .tensor import pad_tensor as pad
from .serialization import load, save
from . import nn, optim  # noqa: E402  (they build on everything above)
from .fast import cpu  # noqa: E402,F401  (the fast paths register themselves against nn, ops and optim)

float32, float64, int64, int32, bool_ = np.float32, np.float64, np.int64, np.int32, np.bool_

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "Device", "backend", "ops", "cuda_available", "tensor", "zeros", "ones", "full",
    "arange", "eye", "rand", "randn", "randint", "zeros_like", "ones_like", "full_like", "rand_like",
    "randn_like", "no_grad", "is_grad_enabled", "set_grad_enabled", "gradcheck", "GradcheckError",
    "manual_seed", "get_rng_state", "set_rng_state", "cat", "stack", "split", "where", "maximum", "minimum",
    "pad", "save", "load", "set_num_threads", "get_num_threads", "use_reference_ops", "nn", "optim", "float32", "float64", "int64",
    "int32", "bool_", "__version__",
]
