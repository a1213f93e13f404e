"""Every differentiable operation: the forward math and its local gradient, side by side.

Each `forward` takes raw arrays (NumPy or CuPy) and saves on `self` what its
`backward` needs; `backward(grad)` returns one gradient per input, or None for
an input that takes none. Gradients may keep the broadcast output shape: the
engine sums them back to each input's shape.

One module per kind of op: `elementwise` (arithmetic and functions applied element by element),
`reductions` (sums, maxima, softmax along axes), `linalg` (the matrix product) and `shapes`
(reshaping, indexing, joining, padding). `ops.Add`, `ops.Sum`, ... name them all.
"""
from .elementwise import (GELU, Abs, Add, Cast, Clip, Div, Exp, Identity, Log, Maximum, Minimum, Mul, Neg, Pow,
                          PowScalar, ReLU, Sigmoid, Sqrt, Sub, Tanh, ToDevice, Where)
from .linalg import MatMul
from .reductions import LogSoftmax, LogSumExp, Max, Mean, Min, Softmax, Sum
from .shapes import Concat, Expand, GetItem, Pad, Permute, Reshape

__all__ = ["Add", "Sub", "Mul", "Div", "Neg", "PowScalar", "Pow", "Identity", "Cast", "ToDevice", "Exp", "Log",
           "Sqrt", "Abs", "ReLU", "Sigmoid", "Tanh", "GELU", "Maximum", "Minimum", "Clip", "Where", "Sum", "Mean",
           "Max", "Min", "LogSumExp", "Softmax", "LogSoftmax", "MatMul", "Reshape", "Permute", "Expand", "GetItem",
           "Concat", "Pad"]
