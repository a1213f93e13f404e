"""Every differentiable operation: the forward math and its local gradient, side by side.

Each `forward` takes raw arrays (NumPy or CuPy) and saves on `self` what its
`backward` needs; `backward(grad)` returns one gradient per input, or None for
an input that takes none. Gradients may keep the broadcast output shape: the
engine sums them back to each input's shape.

One module per kind of op: `elementwise` (arithmetic and functions applied element by element),
`elementwise_math` (trigonometric, special, rounding and two-operand math functions), `activations`,
`scans` (cumulative sums, products, logsumexp),
`reductions` (sums, maxima, softmax along axes), `linalg` (the matrix product) and `shapes`
(reshaping, indexing, joining, padding). `ops.Add`, `ops.Sum`, ... name them all.
"""
from .activations import (SELU_ALPHA, SELU_SCALE, ELUFunction, HardsigmoidFunction, HardswishFunction,
                          HardtanhFunction, LeakyReLUFunction, LogSigmoidFunction, MishFunction, SiLUFunction,
                          SoftplusFunction, SoftsignFunction)
from .elementwise import (Abs, Add, Cast, Clip, Clone, Div, Exp, GELUFunction, Log, Maximum, Minimum, Mul, Neg, Pow,
                          PowScalar, ReLUFunction, SigmoidFunction, Sqrt, Sub, TanhFunction, ToDevice, Where)
from .elementwise_math import (Acos, Asin, Atan, Copysign, Cos, Cosh, Erf, Exp2, FloorDivide, Fmod, Lerp, Log2,
                               Log10, LogAddExp, Remainder, Rounding, Rsqrt, Sin, Sinh, Tan)
from .linalg import Einsum, MatMul
from .reductions import LogSoftmaxFunction, LogSumExp, Max, Mean, Min, Prod, SoftmaxFunction, Sum
from .scans import CumProd, CumSum, LogCumSumExp, running_extremum_index
from .shapes import Concat, Expand, Flip, GetItem, Pad, Permute, Reshape, Roll, Scatter, ScatterReduce, Tile

__all__ = ["Add", "Sub", "Mul", "Div", "Neg", "PowScalar", "Pow", "Clone", "Cast", "ToDevice", "Exp", "Log",
           "Sqrt", "Abs", "ReLUFunction", "SigmoidFunction", "TanhFunction", "GELUFunction", "Maximum", "Minimum",
           "Clip", "Where", "Sum", "Mean", "Max", "Min", "LogSumExp", "SoftmaxFunction", "LogSoftmaxFunction", "MatMul",
           "Reshape", "Permute", "Expand", "GetItem", "Concat", "Pad", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan",
           "Sinh", "Cosh", "Erf", "Exp2", "Log2", "Log10", "Rsqrt", "Rounding", "FloorDivide", "Remainder", "Fmod",
           "Copysign", "LogAddExp", "Lerp", "LeakyReLUFunction", "ELUFunction", "SELU_ALPHA", "SELU_SCALE",
           "SiLUFunction", "MishFunction", "SoftplusFunction", "HardtanhFunction", "HardsigmoidFunction",
           "HardswishFunction", "LogSigmoidFunction", "SoftsignFunction", "Prod", "CumSum", "CumProd", "LogCumSumExp",
           "running_extremum_index", "Flip", "Roll", "Scatter", "ScatterReduce", "Tile", "Einsum"]
