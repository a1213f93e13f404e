"""Every differentiable operation: the forward math and its local gradient, side by side.

Each `forward` takes raw arrays (NumPy or CuPy) and saves on `self` what its
`backward` needs; `backward(grad)` returns one gradient per input, or None for
an input that takes none. Gradients may keep the broadcast output shape: the
engine sums them back to each input's shape.

One module per kind of op: `elementwise` (arithmetic and functions applied element by element),
`reductions` (sums, maxima, softmax along axes), `linalg` (the matrix product) and `shapes`
(reshaping, indexing, joining, padding). `ops.Add`, `ops.Sum`, ... name them all.
"""
from .elementwise import (Abs, Add, Cast, Clip, Clone, Div, Exp, GELUFunction, Log, Maximum, Minimum, Mul, Neg, Pow,
                          PowScalar, ReLUFunction, SigmoidFunction, Sqrt, Sub, TanhFunction, ToDevice, Where)
from .linalg import MatMul
from .reductions import LogSoftmaxFunction, LogSumExp, Max, Mean, SoftmaxFunction, Sum
from .shapes import Concat, Expand, GetItem, Pad, Permute, Reshape

__all__ = ["Add", "Sub", "Mul", "Div", "Neg", "PowScalar", "Pow", "Clone", "Cast", "ToDevice", "Exp", "Log",
           "Sqrt", "Abs", "ReLUFunction", "SigmoidFunction", "TanhFunction", "GELUFunction", "Maximum", "Minimum",
           "Clip", "Where", "Sum", "Mean", "Max", "LogSumExp", "SoftmaxFunction", "LogSoftmaxFunction", "MatMul",
           "Reshape", "Permute", "Expand", "GetItem", "Concat", "Pad"]
