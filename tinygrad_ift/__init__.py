"""tinygrad_ift: a small, readable deep-learning framework on NumPy (CPU) and CuPy (GPU)."""
import numpy as np

from . import backend, ops
from .backend import Device, cuda_available
from .fast import reference_ops, use_reference_ops
from .fast.slices import get_num_threads, set_num_threads
from .creation import (arange, empty, empty_like, eye, full, full_like, linspace, ones, ones_like, rand, rand_like,
                       randint, randn, randn_like, tensor, zeros, zeros_like)
from .grad_mode import is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck
from .random import get_rng_state, manual_seed, set_rng_state
from .autograd import Function
from .tensor import Tensor, ValuesIndices, cat, einsum, maximum, meshgrid, minimum, split, stack, where
from .tensor import pad_tensor as pad
from .serialization import load, save
from .graph_drawing import draw_graph
from . import nn, optim  # noqa: E402  (they build on everything above)
from .fast import cpu, cuda  # noqa: E402,F401  (the fast paths register themselves against nn, ops and optim)

float32, float64, int64, int32, bool_ = np.float32, np.float64, np.int64, np.int32, np.bool_
float16, uint8, int8, int16 = np.float16, np.uint8, np.int8, np.int16

# torch.fn(x, ...) for the Tensor methods PyTorch also offers as functions: the unbound method is that function
_FUNCTION_FORMS = (
    "abs", "exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "erf",
    "exp2", "log2", "log10", "rsqrt", "floor", "ceil", "round", "trunc", "sign", "isnan", "isinf", "isfinite",
    "remainder", "fmod", "copysign", "logaddexp", "lerp", "clamp", "clip", "matmul", "prod", "sum", "mean", "std",
    "max", "min", "amax", "amin", "var", "std_mean", "var_mean", "any", "all", "norm", "logsumexp", "softmax", "argmax",
    "argmin", "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "sort", "argsort", "topk", "kthvalue", "median",
    "flip", "roll", "tril", "triu", "diag", "diagonal", "gather", "scatter", "scatter_add", "scatter_reduce",
    "take_along_dim", "index_select", "masked_fill", "masked_select", "nonzero", "isclose", "allclose",
    "repeat_interleave", "chunk", "unflatten", "flatten", "reshape", "squeeze", "unsqueeze", "permute", "transpose",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "div", "mul", "add", "sub", "pow", "neg")
globals().update({name: getattr(Tensor, name) for name in _FUNCTION_FORMS})

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "Device", "backend", "ops", "cuda_available", "tensor", "zeros", "ones", "full",
    "arange", "eye", "rand", "randn", "randint", "zeros_like", "ones_like", "full_like", "rand_like",
    "randn_like", "no_grad", "is_grad_enabled", "set_grad_enabled", "gradcheck", "GradcheckError",
    "manual_seed", "get_rng_state", "set_rng_state", "cat", "stack", "split", "where", "maximum", "minimum",
    "pad", "save", "load", "draw_graph", "empty", "empty_like", "linspace", "meshgrid", "einsum", "ValuesIndices",
    *_FUNCTION_FORMS, "set_num_threads", "get_num_threads", "use_reference_ops", "reference_ops", "nn", "optim",
    "float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool_", "__version__",
]
