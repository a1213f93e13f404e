"""The Tensor: an array that records the operations applied to it.

A Tensor wraps a NumPy or CuPy array. Every differentiable operation is a
`Function` (autograd.py) implemented in the ops package; `Tensor.backward` hands
the recorded graph to the engine in autograd.py.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from . import autograd, backend, ops
from .autograd import Function, check_same_device
from .backend import Device
from .dtypes import DEFAULT_FLOAT, float_dtype, result_type
from .grad_mode import is_grad_enabled


def _normalise_dtype(dtype: Any):
    return None if dtype is None else np.dtype(getattr(dtype, "np", dtype))


class ValuesIndices(NamedTuple):
    """What max and min along a dim, sort, topk, cummax and cummin return, as torch's named tuples
    (torch.return_types.max, ...): `.values` and `.indices`, or unpacked as a pair."""

    values: "Tensor"
    indices: "Tensor"


class RemovableHandle:
    """What register_hook returns: `remove()` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict, hook: Callable) -> None:
        RemovableHandle._next_id += 1
        self._hooks, self.id = hooks, RemovableHandle._next_id
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


class Tensor:
    """An n-dimensional array that records the operations applied to it, for gradients."""

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_device", "_retain_grad", "_hooks", "__weakref__")
    __array_priority__ = 1000  # so `ndarray + Tensor` defers to Tensor.__radd__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 device: "str | Device | None" = None):
        if isinstance(data, Tensor):
            data = data.data
        dtype = _normalise_dtype(dtype)
        if device is None:
            device = backend.device_of(data)
        device = Device(device)
        if device.is_cuda:
            backend.require_cuda(device)  # the clear "CuPy is not installed" / "no GPU" error
        if not isinstance(data, np.ndarray) and not backend.device_of(data).is_cuda:  # numbers, lists
            from_python = not isinstance(data, np.generic)
            data = np.asarray(data)
            if dtype is None and from_python and data.dtype == np.float64:
                data = data.astype(DEFAULT_FLOAT)  # Python floats become float32, as in PyTorch
        if dtype is not None and data.dtype != dtype:
            data = data.astype(dtype)
        self._device = device
        self.data = backend.to_device(data, device) if backend.device_of(data) != device else data
        self.grad: Tensor | None = None
        self._ctx: Function | None = None
        self._retain_grad = False
        self._hooks: dict | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data: Any, device: Device, requires_grad: bool = False) -> "Tensor":
        """Make a Tensor around an array already on `device`, skipping all checks (the hot path)."""
        t = cls.__new__(cls)
        t.data = data
        t._device = device
        t.grad = None
        t._ctx = None
        t._retain_grad = False
        t._hooks = None
        t.requires_grad = requires_grad
        return t

    # ----- properties -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def numel(self) -> int:
        return int(self.data.size)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self) -> Device:
        return self._device

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def T(self) -> "Tensor":
        return self.permute(*reversed(range(self.ndim)))

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        dev = "" if self._device.type == "cpu" else f", device='{self._device}'"
        body = np.array2string(backend.to_numpy(self.data), separator=", ", prefix="tensor(")
        return f"tensor({body}, dtype={self.dtype}{dev}{grad})"

    # ----- gradient bookkeeping ---------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Mark this tensor as a leaf whose gradient backward() should compute."""
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients; this tensor has dtype "
                f"{self.data.dtype} and shape {self.shape} (integer tensors hold labels and indices)")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> "Tensor":
        """Keep this non-leaf tensor's gradient in `.grad` after backward()."""
        self._retain_grad = True
        return self

    def register_hook(self, hook: "Callable[[Tensor], Tensor | None]") -> "RemovableHandle":
        """Call `hook(grad)` each time backward() computes this tensor's gradient, as in PyTorch.

        The hook sees the whole gradient (summed over every use) before it reaches `.grad` or flows on to
        this tensor's inputs; a returned Tensor replaces it. `handle.remove()` takes the hook off again.
        """
        if not self.requires_grad:
            raise RuntimeError(f"register_hook: cannot register a hook on a tensor that does not require grad "
                               f"(shape {self.shape}, dtype {self.dtype})")
        if not callable(hook):
            raise TypeError(f"register_hook: expected a callable taking the gradient, got {type(hook).__name__}")
        if self._hooks is None:
            self._hooks = {}
        if self._ctx is not None:  # the node holds its output only weakly: keep a hooked one alive, as PyTorch
            self._ctx.__dict__["hooked_output"] = self  # does, so `x = layer(x)` after the hook still runs it
        return RemovableHandle(self._hooks, hook)

    def _run_hooks(self, grad: Any) -> Any:
        """The gradient array after every registered hook has seen (and maybe replaced) it."""
        for hook in list(self._hooks.values()):
            replaced = hook(Tensor._wrap(grad, self._device))
            if replaced is not None:
                replaced = replaced.data if isinstance(replaced, Tensor) else replaced
                if replaced.shape != grad.shape:
                    raise ValueError(f"register_hook: the hook returned a gradient of shape {replaced.shape}, "
                                     f"expected the tensor's shape {grad.shape}")
                grad = replaced
        return grad

    def detach(self) -> "Tensor":
        """The same data, cut from the graph."""
        return Tensor._wrap(self.data, self._device)

    def zero_grad(self) -> None:
        self.grad = None

    def backward(self, grad: "Tensor | Any | None" = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`, in reverse topological order."""
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no graph; "
                               "create the inputs with requires_grad=True")
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward: a gradient can be created implicitly only for a scalar output, but the "
                    f"output has shape {self.shape}; pass grad= a tensor of that shape")
            grad_data = backend.get_array_module(self.data).ones_like(self.data)
        else:
            grad_data = Tensor(grad, dtype=self.dtype, device=self._device).data
            if grad_data.shape != self.shape:
                raise ValueError(f"backward: the gradient has shape {grad_data.shape}, expected the "
                                 f"output's shape {self.shape}")
        autograd.backward(self, grad_data, retain_graph)

    # ----- devices and conversion -------------------------------------------------------------
    def to(self, device: "str | Device | None" = None, dtype: Any = None) -> "Tensor":
        """A copy on `device` and/or with `dtype` (self when nothing changes); differentiable."""
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = ops.Cast.apply(out, dtype=np.dtype(dtype))
        if device is not None and Device(device) != self._device:
            out = ops.ToDevice.apply(out, device=Device(device))
            out._device = Device(device)
        return out

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self, index: int = 0) -> "Tensor":
        return self.to(f"cuda:{index}")

    def float(self) -> "Tensor":
        return self.to(dtype=np.float32)

    def double(self) -> "Tensor":
        return self.to(dtype=np.float64)

    def long(self) -> "Tensor":
        return self.to(dtype=np.int64)

    def int(self) -> "Tensor":
        return self.to(dtype=np.int32)

    def half(self) -> "Tensor":
        return self.to(dtype=np.float16)

    def bool(self) -> "Tensor":
        return self.to(dtype=np.bool_)

    def numpy(self) -> np.ndarray:
        """The data as a host NumPy array (a copy when it lives on the GPU)."""
        return backend.to_numpy(self.data)

    def tolist(self) -> Any:
        return backend.to_numpy(self.data).tolist()

    def item(self) -> Any:
        if self.size != 1:
            raise ValueError(f"item: only a one-element tensor converts to a Python number; shape is {self.shape}")
        return backend.to_numpy(self.data).reshape(()).item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def __array__(self, dtype=None, copy=None):
        arr = backend.to_numpy(self.data)
        return arr if dtype is None else arr.astype(dtype)

    # ----- helpers to lift Python numbers and arrays --------------------------------------------
    def _lift(self, other: Any, dtype: Any) -> "Tensor":
        """`other` (a Tensor, number or array) as a Tensor of `dtype` on this device; Tensors stay differentiable."""
        if isinstance(other, Tensor):
            return other if other.data.dtype == dtype else other.to(dtype=dtype)
        if isinstance(other, (int, float, bool)):
            return Tensor._wrap(backend.scalar(other, dtype, self._device), self._device)
        return Tensor(other, dtype=dtype, device=self._device)

    def _dtype_with(self, other: Any) -> np.dtype:
        """PyTorch's result dtype of an op between self and other (see dtypes.py)."""
        return result_type(self.data, other.data if isinstance(other, Tensor) else other)

    def _binary(self, op: type, other: Any, reflected: bool = False, floating: bool = False) -> "Tensor":
        """op(self, other) (or op(other, self)) on operands promoted to PyTorch's result dtype (to a float
        dtype if `floating`). The common cases, same dtypes or a number with a float tensor, go straight."""
        dtype = self.data.dtype
        if isinstance(other, Tensor) and other.data.dtype == dtype and (dtype.kind == "f" or not floating):
            b = other
        elif type(other) in (float, int) and dtype.kind == "f":
            b = Tensor._wrap(backend.scalar(other, dtype, self._device), self._device)
        else:
            dtype = self._dtype_with(other)
            dtype = float_dtype(dtype) if floating else dtype
            b = self._lift(other, dtype)
        a = self if self.data.dtype == dtype else self.to(dtype=dtype)
        return op.apply(b, a) if reflected else op.apply(a, b)

    def _floating(self) -> "Tensor":
        """Self, cast to the default float dtype if it holds integers or booleans (exp(int) is a float)."""
        if self.data.dtype.kind in "fc":  # the common case, without a dtype lookup
            return self
        return self.to(dtype=float_dtype(self.data.dtype))

    # ----- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other): return self._binary(ops.Add, other)
    def __radd__(self, other): return self._binary(ops.Add, other, reflected=True)
    def __sub__(self, other): return self._binary(ops.Sub, other)
    def __rsub__(self, other): return self._binary(ops.Sub, other, reflected=True)
    def __mul__(self, other): return self._binary(ops.Mul, other)
    def __rmul__(self, other): return self._binary(ops.Mul, other, reflected=True)
    def __truediv__(self, other): return self._binary(ops.Div, other, floating=True)
    def __rtruediv__(self, other): return self._binary(ops.Div, other, reflected=True, floating=True)
    def __neg__(self): return ops.Neg.apply(self)
    def __abs__(self): return self.abs()
    def __matmul__(self, other): return self._binary(ops.MatMul, other)
    def __rmatmul__(self, other): return self._binary(ops.MatMul, other, reflected=True)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            return self._binary(ops.Pow, exponent)
        dtype = self._dtype_with(exponent)
        return ops.PowScalar.apply(self._lift(self, dtype), exponent=exponent)

    def __rpow__(self, base): return self._binary(ops.Pow, base, reflected=True)
    def __floordiv__(self, other): return self._binary(ops.FloorDivide, other)
    def __rfloordiv__(self, other): return self._binary(ops.FloorDivide, other, reflected=True)
    def __mod__(self, other): return self._binary(ops.Remainder, other)
    def __rmod__(self, other): return self._binary(ops.Remainder, other, reflected=True)

    # the method forms PyTorch code calls
    def add(self, other, alpha: float = 1) -> "Tensor": return self + (other if alpha == 1 else other * alpha)
    def sub(self, other, alpha: float = 1) -> "Tensor": return self - (other if alpha == 1 else other * alpha)
    def mul(self, other) -> "Tensor": return self * other
    def pow(self, exponent) -> "Tensor": return self ** exponent
    def neg(self) -> "Tensor": return -self
    def matmul(self, other) -> "Tensor": return self @ other
    def remainder(self, other) -> "Tensor": return self % other
    def fmod(self, other) -> "Tensor": return self._binary(ops.Fmod, other)
    def copysign(self, other) -> "Tensor": return self._binary(ops.Copysign, other, floating=True)
    def logaddexp(self, other) -> "Tensor": return self._binary(ops.LogAddExp, other, floating=True)

    def div(self, other, rounding_mode: str | None = None) -> "Tensor":
        """True division, or rounded to an integer toward -inf ("floor") or toward 0 ("trunc")."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode != "trunc":
            raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
        dtype = self._dtype_with(other)
        if dtype.kind == "f":
            return (self / other).trunc()
        return (self.double() / other).trunc().to(dtype=dtype)  # float64 holds every int32 quotient exactly

    divide, true_divide, multiply, subtract = div, __truediv__, mul, sub

    def lerp(self, end: "Tensor", weight: "Tensor | float") -> "Tensor":
        """self + weight (end - self)."""
        dtype = result_type(self.data, end.data if isinstance(end, Tensor) else end,
                            weight.data if isinstance(weight, Tensor) else weight)
        return ops.Lerp.apply(self._lift(self, dtype), self._lift(end, dtype), self._lift(weight, dtype))

    # logical and bitwise operators: integer and boolean tensors, no gradient
    def _bitwise(self, other, name: str) -> "Tensor":
        operands = (self,) if other is None else (self, other)
        for t in operands:
            kind = t.dtype.kind if isinstance(t, Tensor) else ("b" if isinstance(t, bool) else "i")
            if kind not in "biu" or isinstance(t, float):
                raise TypeError(f"{name}: needs integer or boolean tensors, got dtypes "
                                f"{[getattr(o, 'dtype', type(o).__name__) for o in operands]}")
        xp = backend.get_array_module(self.data)
        fn = getattr(xp, name)
        if other is None:
            return Tensor._wrap(fn(self.data), self._device)
        dtype = self._dtype_with(other)
        return Tensor._wrap(fn(self._lift(self, dtype).data, self._lift(other, dtype).data), self._device)

    def __and__(self, other): return self._bitwise(other, "bitwise_and")
    def __or__(self, other): return self._bitwise(other, "bitwise_or")
    def __xor__(self, other): return self._bitwise(other, "bitwise_xor")
    def __lshift__(self, other): return self._bitwise(other, "left_shift")
    def __rshift__(self, other): return self._bitwise(other, "right_shift")
    def __invert__(self): return self._bitwise(None, "invert")
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    bitwise_and, bitwise_or, bitwise_xor, bitwise_not = __and__, __or__, __xor__, __invert__

    def _logical(self, other, fn) -> "Tensor":
        args = (self.data,) if other is None else (self.data, other.data if isinstance(other, Tensor) else other)
        return Tensor._wrap(fn(*args), self._device)

    def logical_and(self, other): return self._logical(other, backend.get_array_module(self.data).logical_and)
    def logical_or(self, other): return self._logical(other, backend.get_array_module(self.data).logical_or)
    def logical_xor(self, other): return self._logical(other, backend.get_array_module(self.data).logical_xor)
    def logical_not(self): return self._logical(None, backend.get_array_module(self.data).logical_not)

    def __iadd__(self, other):
        raise RuntimeError("in-place +=: use `t = t + x`, or update `t.data` inside no_grad()")

    __isub__ = __imul__ = __itruediv__ = __iadd__

    # comparisons produce boolean tensors without a gradient
    def _compare(self, other, fn) -> "Tensor":
        """A boolean tensor, no gradient; `other` is lifted and device-checked as arithmetic's operands are."""
        if isinstance(other, Tensor):
            check_same_device("comparison", (self, other))
            other = other.data
        elif not isinstance(other, (int, float, bool)):
            other = Tensor(other, device=self._device).data
        return Tensor._wrap(fn(self.data, other), self._device)

    def __eq__(self, other): return self._compare(other, lambda a, b: a == b)  # noqa: E731
    def __ne__(self, other): return self._compare(other, lambda a, b: a != b)
    def __lt__(self, other): return self._compare(other, lambda a, b: a < b)
    def __le__(self, other): return self._compare(other, lambda a, b: a <= b)
    def __gt__(self, other): return self._compare(other, lambda a, b: a > b)
    def __ge__(self, other): return self._compare(other, lambda a, b: a >= b)
    __hash__ = object.__hash__

    # ----- elementwise math ---------------------------------------------------------------------
    def exp(self) -> "Tensor": return ops.Exp.apply(self._floating())
    def log(self) -> "Tensor": return ops.Log.apply(self._floating())
    def sqrt(self) -> "Tensor": return ops.Sqrt.apply(self._floating())
    def abs(self) -> "Tensor": return ops.Abs.apply(self)
    def relu(self) -> "Tensor": return ops.ReLUFunction.apply(self)
    def sigmoid(self) -> "Tensor": return ops.SigmoidFunction.apply(self._floating())
    def tanh(self) -> "Tensor": return ops.TanhFunction.apply(self._floating())
    def square(self) -> "Tensor": return ops.PowScalar.apply(self, exponent=2)
    def sin(self) -> "Tensor": return ops.Sin.apply(self._floating())
    def cos(self) -> "Tensor": return ops.Cos.apply(self._floating())
    def tan(self) -> "Tensor": return ops.Tan.apply(self._floating())
    def asin(self) -> "Tensor": return ops.Asin.apply(self._floating())
    def acos(self) -> "Tensor": return ops.Acos.apply(self._floating())
    def atan(self) -> "Tensor": return ops.Atan.apply(self._floating())
    def sinh(self) -> "Tensor": return ops.Sinh.apply(self._floating())
    def cosh(self) -> "Tensor": return ops.Cosh.apply(self._floating())
    def erf(self) -> "Tensor": return ops.Erf.apply(self._floating())
    def exp2(self) -> "Tensor": return ops.Exp2.apply(self._floating())
    def log2(self) -> "Tensor": return ops.Log2.apply(self._floating())
    def log10(self) -> "Tensor": return ops.Log10.apply(self._floating())
    def rsqrt(self) -> "Tensor": return ops.Rsqrt.apply(self._floating())
    arcsin, arccos, arctan = asin, acos, atan

    def _rounded(self, mode: str) -> "Tensor":
        """floor/ceil/round/trunc leave integers as they are (a copy), as PyTorch does."""
        if self.dtype.kind in "biu" and mode != "sign":
            return self.clone()
        return ops.Rounding.apply(self, mode=mode)

    def floor(self) -> "Tensor": return self._rounded("floor")
    def ceil(self) -> "Tensor": return self._rounded("ceil")
    def round(self) -> "Tensor": return self._rounded("round")
    def trunc(self) -> "Tensor": return self._rounded("trunc")
    def sign(self) -> "Tensor": return self._rounded("sign")

    # tests for special values: boolean, no gradient
    def isnan(self) -> "Tensor": return Tensor._wrap(backend.get_array_module(self.data).isnan(self.data), self._device)
    def isinf(self) -> "Tensor": return Tensor._wrap(backend.get_array_module(self.data).isinf(self.data), self._device)

    def isfinite(self) -> "Tensor":
        return Tensor._wrap(backend.get_array_module(self.data).isfinite(self.data), self._device)

    def gelu(self, approximate: str = "none") -> "Tensor":
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return ops.GELUFunction.apply(self._floating(), approximate=approximate)

    def clip(self, min: float | None = None, max: float | None = None) -> "Tensor":
        """Clamp into [min, max] (either may be None, not both); float bounds make an integer tensor float."""
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must not be None")
        bounds = [b.data if isinstance(b, Tensor) else b for b in (min, max)]
        dtype = result_type(self.data, *bounds)
        return ops.Clip.apply(self._lift(self, dtype), low=bounds[0], high=bounds[1])

    clamp = clip

    def maximum(self, other) -> "Tensor": return self._binary(ops.Maximum, other)
    def minimum(self, other) -> "Tensor": return self._binary(ops.Minimum, other)

    # ----- reductions ---------------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        return ops.Sum.apply(self, axis=_axes(axis, self.ndim, "sum"), keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        """The mean; of an integer tensor, in the default float dtype."""
        return ops.Mean.apply(self._floating(), axis=_axes(axis, self.ndim, "mean"), keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False) -> "Tensor | ValuesIndices":
        """As torch.max: the largest element (0-d); along a dim, (values, indices) with each value's gradient
        going to the index given (the first maximum); of two tensors, the elementwise maximum."""
        return self._extremum(axis, keepdims, largest=True)

    def min(self, axis=None, keepdims: bool = False) -> "Tensor | ValuesIndices":
        """As torch.min: the smallest element, (values, indices) along a dim, or the elementwise minimum."""
        return self._extremum(axis, keepdims, largest=False)

    def _extremum(self, axis, keepdims: bool, largest: bool) -> "Tensor | ValuesIndices":
        name = "max" if largest else "min"
        if isinstance(axis, Tensor):  # torch.max(a, b)
            return self.maximum(axis) if largest else self.minimum(axis)
        if axis is None:
            if keepdims:
                raise TypeError(f"{name}: keepdim needs a dim; for every dim at once use amax/amin(keepdim=True)")
            return (ops.Max if largest else ops.Min).apply(self, axis=None, keepdims=False)
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"{name}: dim must be an int, got {axis!r}; amax/amin reduce several dims at once")
        axis = _dim(axis, self.ndim, name)
        x = self.reshape(1) if self.ndim == 0 else self
        if x.shape[axis] == 0:
            raise IndexError(f"{name}: dim {axis} of shape {self.shape} is empty; there is no {name}imum")
        xp = backend.get_array_module(self.data)
        index = xp.expand_dims((xp.argmax if largest else xp.argmin)(x.data, axis=axis), axis).astype(np.int64)
        values = x[_along(x, axis, index)]
        if not keepdims or self.ndim == 0:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return ValuesIndices(values, self._untracked(index))

    def amax(self, axis=None, keepdims: bool = False) -> "Tensor":
        """The maximum over one dim, several, or all (None or ()); tied maxima share the gradient, as torch.amax."""
        return ops.Max.apply(self, axis=_axes(None if axis == () else axis, self.ndim, "amax"), keepdims=keepdims)

    def amin(self, axis=None, keepdims: bool = False) -> "Tensor":
        """The minimum over one dim, several, or all; tied minima share the gradient, as torch.amin."""
        return ops.Min.apply(self, axis=_axes(None if axis == () else axis, self.ndim, "amin"), keepdims=keepdims)

    def var(self, axis=None, keepdims: bool = False, correction: int = 1) -> "Tensor":
        """Variance with Bessel's correction by default, as torch.var."""
        axes = _axes(axis, self.ndim, "var")
        count = self.size if axes is None else int(np.prod([self.shape[a] for a in axes]))
        centred = self - self.mean(axis=axes, keepdims=True)
        return (centred * centred).sum(axis=axes, keepdims=keepdims) / max(count - correction, 0)

    def std(self, axis=None, keepdims: bool = False, correction: int = 1) -> "Tensor":
        return self.var(axis=axis, keepdims=keepdims, correction=correction).sqrt()

    def var_mean(self, axis=None, keepdims: bool = False, correction: int = 1) -> tuple:
        """(var, mean), as torch.var_mean."""
        return self.var(axis, keepdims, correction), self.mean(axis, keepdims)

    def std_mean(self, axis=None, keepdims: bool = False, correction: int = 1) -> tuple:
        """(std, mean), as torch.std_mean."""
        return self.std(axis, keepdims, correction), self.mean(axis, keepdims)

    def logsumexp(self, axis=None, keepdims: bool = False) -> "Tensor":
        return ops.LogSumExp.apply(self._floating(), axis=_axes(axis, self.ndim, "logsumexp"), keepdims=keepdims)

    def softmax(self, axis: int = -1) -> "Tensor":
        return ops.SoftmaxFunction.apply(self._floating(), axis=_dim(axis, self.ndim, "softmax") if self.ndim else None)

    def log_softmax(self, axis: int = -1) -> "Tensor":
        axis = _dim(axis, self.ndim, "log_softmax") if self.ndim else None
        return ops.LogSoftmaxFunction.apply(self._floating(), axis=axis)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> "Tensor":
        return self._index_reduce(backend.get_array_module(self.data).argmax, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> "Tensor":
        return self._index_reduce(backend.get_array_module(self.data).argmin, axis, keepdims)

    def _index_reduce(self, fn, axis, keepdims) -> "Tensor":
        out = fn(self.data, axis=axis)
        if keepdims and axis is not None:
            out = backend.get_array_module(out).expand_dims(out, axis)
        return Tensor._wrap(out.astype(np.int64, copy=False), self._device)

    def prod(self, axis=None, keepdims: bool = False) -> "Tensor":
        return ops.Prod.apply(self, axis=_axes(axis, self.ndim, "prod"), keepdims=keepdims)

    def any(self, axis=None, keepdims: bool = False) -> "Tensor":
        return self._untracked(self.data.any(axis=_axes(axis, self.ndim, "any"), keepdims=keepdims))

    def all(self, axis=None, keepdims: bool = False) -> "Tensor":
        return self._untracked(self.data.all(axis=_axes(axis, self.ndim, "all"), keepdims=keepdims))

    def norm(self, p: "float | str" = 2, axis=None, keepdims: bool = False) -> "Tensor":
        """The vector p-norm over `axis` (all elements by default); p = 'fro' is 2, inf the largest |x|."""
        if p in ("fro", 2):
            return (self * self).sum(axis, keepdims).sqrt()
        if p == float("inf"):
            return self.abs().amax(axis, keepdims)
        return (self.abs() ** p).sum(axis, keepdims) ** (1.0 / p)

    def _untracked(self, array) -> "Tensor":
        """A result without a gradient (booleans, indices) on this device, as an array even when 0-d."""
        return Tensor._wrap(backend.get_array_module(self.data).asarray(array), self._device)

    # ----- scans and sorting ----------------------------------------------------------------------
    def cumsum(self, axis: int) -> "Tensor": return self._scan(ops.CumSum, axis, "cumsum")
    def cumprod(self, axis: int) -> "Tensor": return self._scan(ops.CumProd, axis, "cumprod")
    def logcumsumexp(self, axis: int) -> "Tensor": return self._floating()._scan(ops.LogCumSumExp, axis, "logcumsumexp")

    def _scan(self, op: type, axis: int, name: str) -> "Tensor":
        """A cumulative op along `axis` (a 0-d tensor scans as one element)."""
        axis = _dim(axis, self.ndim, name)
        return op.apply(self.reshape(1), axis=0).reshape(()) if self.ndim == 0 else op.apply(self, axis=axis)

    def cummax(self, axis: int) -> "ValuesIndices":
        """(running maximum, the index it came from), as torch.cummax."""
        return self._running_extremum(axis, largest=True)

    def cummin(self, axis: int) -> "ValuesIndices":
        return self._running_extremum(axis, largest=False)

    def _running_extremum(self, axis: int, largest: bool) -> "ValuesIndices":
        x = self.reshape(-1) if self.ndim == 0 else self
        axis = _dim(axis, self.ndim, "cummax" if largest else "cummin")
        xp = backend.get_array_module(self.data)
        index = ops.running_extremum_index(xp, x.data, axis, largest).astype(np.int64)
        return ValuesIndices(x.gather(axis, index).reshape(self.shape), self._untracked(index.reshape(self.shape)))

    def argsort(self, axis: int = -1, descending: bool = False) -> "Tensor":
        """Indices that sort along `axis` (a stable sort, so equal values keep their order)."""
        xp = backend.get_array_module(self.data)
        if self.ndim == 0:
            return self._untracked(xp.zeros((), dtype=np.int64))
        axis = _dim(axis, self.ndim, "argsort")
        if descending:  # stable and descending: sort the reversed array, then map the positions back
            flipped = xp.argsort(xp.flip(self.data, axis), axis=axis, kind="stable")
            order = xp.flip(self.shape[axis] - 1 - flipped, axis)
        else:
            order = xp.argsort(self.data, axis=axis, kind="stable")
        return self._untracked(order.astype(np.int64, copy=False))

    def sort(self, axis: int = -1, descending: bool = False) -> "ValuesIndices":
        """(sorted values, their indices in self); the values' gradient goes back to where each came from."""
        order = self.argsort(axis, descending)
        return ValuesIndices(self if self.ndim == 0 else self.gather(axis, order), order)

    def topk(self, k: int, axis: int = -1, largest: bool = True, sorted: bool = True) -> "ValuesIndices":
        """The k largest (or smallest) values along `axis` and their indices, largest first."""
        axis = _dim(axis, self.ndim, "topk")
        length = self.shape[axis] if self.ndim else 1
        if not 0 <= k <= length:
            raise ValueError(f"topk: k={k} is out of range for dim {axis} of size {length} (shape {self.shape})")
        order = self.argsort(axis, descending=largest)
        order = order[(slice(None),) * axis + (slice(0, k),)] if self.ndim else order
        return ValuesIndices(self if self.ndim == 0 else self.gather(axis, order), order)

    def kthvalue(self, k: int, axis: int = -1, keepdims: bool = False) -> "ValuesIndices":
        """The k-th smallest value along `axis` and its index, as torch.kthvalue; the value's gradient goes
        to that index."""
        x = self.reshape(1) if self.ndim == 0 else self
        axis = _dim(axis, self.ndim, "kthvalue")
        if not 1 <= k <= x.shape[axis]:
            raise ValueError(f"kthvalue: k={k} is out of range for dim {axis} of size {x.shape[axis]} "
                             f"(shape {self.shape}); expected 1 <= k <= {x.shape[axis]}")
        index = x.argsort(axis)[(slice(None),) * axis + (slice(k - 1, k),)]
        values = x[_along(x, axis, index.data)]
        if not keepdims or self.ndim == 0:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return ValuesIndices(values.reshape(()) if self.ndim == 0 else values,
                             index.reshape(()) if self.ndim == 0 else index)

    def median(self, axis=None, keepdims: bool = False) -> "Tensor | ValuesIndices":
        """The lower median (the ((n + 1) // 2)-th smallest), as torch.median: of every element (a 0-d tensor),
        or along a dim as (values, indices)."""
        if axis is None:
            if keepdims:
                raise TypeError("median: keepdim needs a dim")
            flat = self.reshape(-1)
            return flat.kthvalue((flat.shape[0] + 1) // 2, 0).values
        length = self.shape[_dim(axis, self.ndim, "median")] if self.ndim else 1
        return self.kthvalue((length + 1) // 2, axis, keepdims)

    # ----- gather and scatter ---------------------------------------------------------------------
    def gather(self, axis: int, index: "Tensor | Any") -> "Tensor":
        """out[i][j][k] = self[i][index[i][j][k]][k] for axis 1 (and so on), as torch.gather."""
        return self[_index_along(self, axis, index, "gather")]

    def take_along_dim(self, indices: "Tensor | Any", axis: int) -> "Tensor":
        return self.gather(axis, indices)

    def index_select(self, axis: int, index: "Tensor | Any") -> "Tensor":
        """The entries `index` (1-D integers) along `axis`."""
        axis = _dim(axis, self.ndim, "index_select")
        return self[(slice(None),) * axis + (_integer_array(self, index, "index_select"),)]

    def scatter(self, axis: int, index: "Tensor | Any", src: "Tensor | float") -> "Tensor":
        """A copy with self[i][index[i][j]] = src[i][j] for axis 1 (and so on), as torch.scatter (not in place)."""
        return self._scatter(axis, index, src, accumulate=False, name="scatter")

    def scatter_add(self, axis: int, index: "Tensor | Any", src: "Tensor") -> "Tensor":
        """A copy with src[i][j] added to self[i][index[i][j]] for axis 1, repeated indices summed."""
        return self._scatter(axis, index, src, accumulate=True, name="scatter_add")

    def scatter_reduce(self, axis: int, index: "Tensor | Any", src: "Tensor", reduce: str, *,
                       include_self: bool = True) -> "Tensor":
        """A copy with each src[i][j] reduced into self[i][index[i][j]] (axis 1) by reduce = "sum", "prod",
        "mean", "amax" or "amin", as torch.scatter_reduce; include_self=False leaves out self's values there."""
        if reduce not in ("sum", "prod", "mean", "amax", "amin"):
            raise ValueError(f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or 'amin', got {reduce!r}")
        if not isinstance(src, Tensor):
            raise TypeError(f"scatter_reduce: src must be a Tensor, got {type(src).__name__}")
        full_index, src = self._scatter_operands(axis, index, src, "scatter_reduce")
        return ops.ScatterReduce.apply(self, src, index=full_index, reduce=reduce, include_self=include_self)

    def _scatter(self, axis, index, src, accumulate: bool, name: str) -> "Tensor":
        full_index, src = self._scatter_operands(axis, index, src, name)
        return ops.Scatter.apply(self, src, index=full_index, accumulate=accumulate)

    def _scatter_operands(self, axis, index, src, name: str) -> tuple:
        """The full index tuple, and src (a Tensor or a number) as a tensor of the index's shape and self's dtype."""
        full_index = _index_along(self, axis, index, name, bounded_by=src if isinstance(src, Tensor) else None)
        index_shape = full_index[_dim(axis, self.ndim, name)].shape
        if isinstance(src, Tensor):
            if src.shape != index_shape:
                src = src[tuple(slice(0, n) for n in index_shape)]
            src = src if src.dtype == self.dtype else src.to(dtype=self.dtype)
        else:
            src = Tensor._wrap(backend.get_array_module(self.data).full(index_shape, src, dtype=self.dtype), self._device)
        return full_index, src

    def masked_fill(self, mask: "Tensor | Any", value: "float | Tensor") -> "Tensor":
        """value where mask is True, self elsewhere (mask broadcasts); keeps self's dtype."""
        value = value if isinstance(value, Tensor) else Tensor._wrap(
            backend.scalar(value, self.dtype, self._device), self._device)
        return ops.Where.apply(value.to(dtype=self.dtype), self, condition=_condition(mask, "masked_fill", self))

    def masked_select(self, mask: "Tensor | Any") -> "Tensor":
        """The elements where mask (broadcast to self's shape) is True, as a 1-D tensor."""
        mask = backend.get_array_module(self.data).broadcast_to(_condition(mask, "masked_select", self), self.shape)
        return self[mask]

    def where(self, condition: "Tensor | Any", other: "Tensor | float") -> "Tensor":
        """self where condition is True, other elsewhere."""
        return where(condition, self, other)

    def nonzero(self, as_tuple: bool = False) -> "Tensor | tuple":
        """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
        xp = backend.get_array_module(self.data)
        found = xp.nonzero(self.data.reshape(1) if self.ndim == 0 else self.data)
        if as_tuple:
            return tuple(self._untracked(i.astype(np.int64)) for i in found)
        return self._untracked(xp.stack(found, axis=1).astype(np.int64) if self.ndim else
                               xp.zeros((len(found[0]), 0), dtype=np.int64))

    def isclose(self, other: "Tensor | float", rtol: float = 1e-5, atol: float = 1e-8,
                equal_nan: bool = False) -> "Tensor":
        xp = backend.get_array_module(self.data)
        other = other.data if isinstance(other, Tensor) else other
        return self._untracked(xp.isclose(self.data, other, rtol=rtol, atol=atol, equal_nan=equal_nan))

    def allclose(self, other: "Tensor | float", rtol: float = 1e-5, atol: float = 1e-8,
                 equal_nan: bool = False) -> bool:
        return bool(self.isclose(other, rtol, atol, equal_nan).all().item())

    # ----- shapes -------------------------------------------------------------------------------
    def reshape(self, *shape) -> "Tensor":
        return ops.Reshape.apply(self, shape=_shape_arg(shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        if self.ndim == 0:
            return self.reshape(1)
        start, end = _dim(start_dim, self.ndim, "flatten"), _dim(end_dim, self.ndim, "flatten")
        shape = self.shape[:start] + (-1,) + self.shape[end + 1:]
        return self.reshape(shape)

    def permute(self, *dims) -> "Tensor":
        dims = _shape_arg(dims)
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of the {self.ndim} dims of shape {self.shape}")
        return ops.Permute.apply(self, dims=tuple(d % self.ndim for d in dims))

    def transpose(self, dim0: int = -2, dim1: int = -1) -> "Tensor":
        dims = list(range(self.ndim))
        dim0, dim1 = _dim(dim0, self.ndim, "transpose"), _dim(dim1, self.ndim, "transpose")
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return ops.Permute.apply(self, dims=tuple(dims))

    def expand(self, *shape) -> "Tensor":
        shape = _shape_arg(shape)
        shape = tuple(s if n == -1 else n for n, s in
                      zip(shape, (1,) * (len(shape) - self.ndim) + self.shape))
        return ops.Expand.apply(self, shape=shape)

    broadcast_to = expand

    def squeeze(self, axis: int | None = None) -> "Tensor":
        """Drop size-1 dims: all of them, or `axis` if it has size 1."""
        if axis is None:
            shape = tuple(n for n in self.shape if n != 1)
        elif self.ndim == 0:
            _dim(axis, 0, "squeeze")
            shape = ()
        else:
            axis = _dim(axis, self.ndim, "squeeze")
            shape = self.shape if self.shape[axis] != 1 else self.shape[:axis] + self.shape[axis + 1:]
        return self.reshape(shape)

    def unsqueeze(self, axis: int) -> "Tensor":
        axis = _dim(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def __getitem__(self, index) -> "Tensor":
        index = _raw_index(self, index)
        selects_first = _integers_before_arrays(index)
        if selects_first:  # PyTorch's order of dims; see _integers_before_arrays
            return ops.GetItem.apply(ops.GetItem.apply(self, index=selects_first[0]), index=selects_first[1])
        return ops.GetItem.apply(self, index=index)

    def __setitem__(self, index, value) -> None:
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError("setitem: in-place assignment into a tensor that requires grad would break "
                               "its gradient; assign to `.data` under no_grad() instead")
        value = value if isinstance(value, (int, float, bool)) else Tensor(value, device=self._device).data
        self.data[_raw_index(self, index)] = value

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def contiguous(self) -> "Tensor":
        return self

    def clone(self) -> "Tensor":
        return ops.Clone.apply(self)

    def pad(self, pad: Sequence[int], value: float = 0.0) -> "Tensor":
        """Constant padding, PyTorch's order: (last_left, last_right, prev_left, prev_right, ...)."""
        return pad_tensor(self, pad, value)

    def split(self, split_size_or_sections, axis: int = 0) -> list:
        return split(self, split_size_or_sections, axis)

    def chunk(self, chunks: int, axis: int = 0) -> list:
        """At most `chunks` pieces of ceil(size / chunks) along `axis` (the last may be smaller), as torch."""
        if chunks < 1:
            raise ValueError(f"chunk: chunks must be at least 1, got {chunks}")
        length = self.shape[_dim(axis, self.ndim, "chunk")]
        return split(self, max(-(-length // chunks), 1), axis)

    def unflatten(self, axis: int, sizes: Sequence[int]) -> "Tensor":
        """Split dim `axis` into dims of `sizes` (one may be -1)."""
        axis = _dim(axis, self.ndim, "unflatten")
        return self.reshape(self.shape[:axis] + tuple(sizes) + self.shape[axis + 1:])

    def flip(self, *axes, dims: "Sequence[int] | None" = None) -> "Tensor":
        """Reverse the order of the elements along the given dims (`x.flip(0, 1)` or `x.flip(dims=(0, 1))`)."""
        if dims is not None and axes:
            raise TypeError("flip: give the dims either positionally or as dims=, not both")
        axes = tuple(_dim(a, self.ndim, "flip") for a in _shape_arg(axes if dims is None else (dims,)))
        return ops.Flip.apply(self, axes=axes) if self.ndim else self.clone()

    def roll(self, shifts: "int | Sequence[int]", dims: "int | Sequence[int] | None" = None) -> "Tensor":
        """Shift cyclically along `dims` (along the flattened tensor when None)."""
        axes = dims
        if axes is None:
            return ops.Roll.apply(self.reshape(-1), shifts=(int(shifts),), axes=(0,)).reshape(self.shape)
        shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
        axes = (axes,) if isinstance(axes, int) else tuple(axes)
        if len(shifts) != len(axes):
            raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} dims; give one shift per dim")
        return ops.Roll.apply(self, shifts=shifts, axes=tuple(_dim(a, self.ndim, "roll") for a in axes))

    def repeat(self, *sizes) -> "Tensor":
        """Tile the whole tensor sizes[i] times along dim i (torch's repeat; NumPy's tile)."""
        sizes = _shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise ValueError(f"repeat: {len(sizes)} repeat counts for a tensor of {self.ndim} dims "
                             f"(shape {self.shape}); give at least one per dim")
        return ops.Tile.apply(self, reps=tuple(sizes))

    def repeat_interleave(self, repeats: "int | Tensor | Any", axis: int | None = None) -> "Tensor":
        """Repeat each element (along `axis`, or of the flattened tensor) `repeats` times, or repeats[i] times."""
        x = self.reshape(-1) if axis is None else self
        axis = 0 if axis is None else _dim(axis, self.ndim, "repeat_interleave")
        xp = backend.get_array_module(self.data)
        counts = repeats.data if isinstance(repeats, Tensor) else repeats
        index = xp.repeat(xp.arange(x.shape[axis]), xp.asarray(counts) if not isinstance(counts, int) else counts)
        return x[(slice(None),) * axis + (index,)]

    def tril(self, diagonal: int = 0) -> "Tensor":
        """Zero above the `diagonal`-th diagonal of the last two dims."""
        return self._keep_triangle(diagonal, lower=True)

    def triu(self, diagonal: int = 0) -> "Tensor":
        """Zero below the `diagonal`-th diagonal of the last two dims."""
        return self._keep_triangle(diagonal, lower=False)

    def _keep_triangle(self, diagonal: int, lower: bool) -> "Tensor":
        if self.ndim < 2:
            raise ValueError(f"{'tril' if lower else 'triu'}: needs at least 2 dims, got shape {self.shape}")
        xp = backend.get_array_module(self.data)
        rows, cols = self.shape[-2:]
        keep = xp.tri(rows, cols, diagonal, dtype=bool) if lower else ~xp.tri(rows, cols, diagonal - 1, dtype=bool)
        return self.masked_fill(~keep, 0)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> "Tensor":
        """The diagonal of dims (dim1, dim2), moved to the last dim, as torch.diagonal."""
        dim1, dim2 = _dim(dim1, self.ndim, "diagonal"), _dim(dim2, self.ndim, "diagonal")
        if dim1 == dim2:
            raise ValueError(f"diagonal: dim1 and dim2 must differ, both are {dim1}")
        rest = [d for d in range(self.ndim) if d not in (dim1, dim2)]
        x = self.permute(*rest, dim1, dim2)
        rows, cols = x.shape[-2:]
        xp = backend.get_array_module(self.data)
        start_row, start_col = max(-offset, 0), max(offset, 0)
        length = max(min(rows - start_row, cols - start_col), 0)
        return x[..., xp.arange(length) + start_row, xp.arange(length) + start_col]

    def diag(self, diagonal: int = 0) -> "Tensor":
        """A 1-D tensor as the `diagonal`-th diagonal of a square matrix, or a matrix's diagonal as 1-D."""
        if self.ndim == 2:
            return self.diagonal(diagonal)
        if self.ndim != 1:
            raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {self.shape}")
        n, k = self.shape[0], abs(diagonal)
        square = self.unsqueeze(1) * Tensor._wrap(backend.get_array_module(self.data).eye(n, dtype=bool), self._device)
        return pad_tensor(square, (k, 0, 0, k) if diagonal >= 0 else (0, k, k, 0))

    def unfold(self, axis: int, size: int, step: int) -> "Tensor":
        """Every window of `size` along `axis`, `step` apart, as a new last dim (torch's Tensor.unfold)."""
        axis = _dim(axis, self.ndim, "unfold")
        length = self.shape[axis] if self.ndim else 1
        if size > length or step < 1:
            raise ValueError(f"unfold: size {size} must not exceed dim {axis}'s length {length}, step {step} >= 1")
        xp = backend.get_array_module(self.data)
        starts = xp.arange(0, length - size + 1, step)
        windows = self[(slice(None),) * axis + (starts[:, None] + xp.arange(size),)]  # (..., n, size, ...)
        return windows.permute(*range(axis + 1), *range(axis + 2, windows.ndim), axis + 1)


def _with_torch_names(method: Callable) -> Callable:
    """Let a method that takes NumPy's `axis`/`keepdims` also take PyTorch's `dim`/`keepdim`, so that ported
    calls such as x.sum(dim=1, keepdim=True) work unchanged."""
    @functools.wraps(method)
    def method_with_torch_names(self, *args, **kwargs):
        if "dim" in kwargs:
            kwargs["axis"] = kwargs.pop("dim")
        if "keepdim" in kwargs:
            kwargs["keepdims"] = kwargs.pop("keepdim")
        return method(self, *args, **kwargs)
    return method_with_torch_names


for _name in ("sum", "mean", "max", "min", "amax", "amin", "var", "std", "var_mean", "std_mean", "logsumexp", "softmax",
              "log_softmax", "argmax", "argmin", "prod", "any", "all", "norm", "cumsum", "cumprod", "logcumsumexp",
              "cummax", "cummin", "argsort", "sort", "topk", "kthvalue", "median", "gather", "take_along_dim",
              "index_select", "scatter", "scatter_add", "scatter_reduce", "squeeze", "unsqueeze", "split", "chunk",
              "unflatten", "repeat_interleave", "unfold"):
    setattr(Tensor, _name, _with_torch_names(getattr(Tensor, _name)))


# ----- argument normalisation ---------------------------------------------------------------------
def _dim(dim: int, ndim: int, name: str) -> int:
    """`dim` as a non-negative index among `ndim` dims; PyTorch's IndexError when out of range (a 0-d tensor
    accepts 0 and -1, as one with a single dim)."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{name}: a dim must be an int, got {type(dim).__name__}")
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"{name}: dim {dim} is out of range for {ndim} dims (expected one in [{-size}, {size - 1}])")
    return int(dim) % size


def _axes(axis, ndim: int, name: str = "reduction"):
    """None (every axis), or a sorted tuple of non-negative axes; on a 0-d tensor, dims 0 and -1 reduce
    nothing, as in PyTorch."""
    if axis is None:
        return None
    axes = {_dim(a, ndim, name) for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis)}
    return () if ndim == 0 else tuple(sorted(axes))


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _raw_index(x: Tensor, index):
    """x's index with Tensors replaced by their arrays (on x's device, or the device error) and lists by arrays.

    On a GPU, host index arrays are bounds-checked on the host before they move: CuPy wraps an out-of-range
    index around silently where NumPy raises. (Index arrays already on the GPU are not checked.)"""
    parts = index if isinstance(index, tuple) else (index,)
    if not any(isinstance(p, (Tensor, list, np.ndarray)) for p in parts):
        return index
    raw = []
    for part in parts:
        if isinstance(part, Tensor):
            check_same_device("indexing", (x, part))
            part = part.data
        elif isinstance(part, list):
            part = np.asarray(part)
        raw.append(part)
    if x._device.is_cuda and any(isinstance(p, np.ndarray) for p in raw):
        shapes_only = [np.zeros(p.shape, p.dtype) if backend.device_of(p).is_cuda else p for p in raw]
        np.broadcast_to(np.False_, x.shape)[tuple(shapes_only)]  # NumPy's IndexError for a bad one, on no memory
        raw = [backend.to_device(p, x._device) if isinstance(p, np.ndarray) else p for p in raw]
    return tuple(raw) if isinstance(index, tuple) else raw[0]


def _integer_array(x: Tensor, index: Any, name: str):
    """`index` (a Tensor, array or list) as an integer array on x's device."""
    data = index.data if isinstance(index, Tensor) else backend.get_array_module(x.data).asarray(index)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must hold integers, got dtype {data.dtype}")
    return data


def _index_along(x: Tensor, axis: int, index: Any, name: str, bounded_by: "Tensor | None" = None) -> tuple:
    """The full index tuple that picks x[..., index[...], ...] along `axis`, torch.gather's way: index has x's
    number of dims and, on the other dims, sizes no larger than x's."""
    index = _integer_array(x, index, name)
    axis = _dim(axis, x.ndim, name)
    if index.ndim != max(x.ndim, 1):
        raise ValueError(f"{name}: index has {index.ndim} dims, expected as many as the input {x.shape}")
    limits = x.shape if bounded_by is None else tuple(min(a, b) for a, b in zip(x.shape, bounded_by.shape))
    if any(i > n for d, (i, n) in enumerate(zip(index.shape, limits)) if d != axis):
        raise ValueError(f"{name}: index of shape {index.shape} is larger than the input {x.shape} "
                         f"on a dim other than {axis}")
    if index.size and (int(index.min()) < -x.shape[axis] or int(index.max()) >= x.shape[axis]):
        raise IndexError(f"{name}: index values must be in [0, {x.shape[axis]}) for dim {axis} of {x.shape}, "
                         f"got [{int(index.min())}, {int(index.max())}]")
    return _along(x, axis, index)


def _along(x: Tensor, axis: int, index) -> tuple:
    """The index tuple that picks x[..., index[...], ...] along `axis` (an integer array with x's number of
    dims), each other dim indexed by its own position (no checks: see _index_along)."""
    xp = backend.get_array_module(x.data)
    grids = [xp.arange(n).reshape([-1 if d == e else 1 for e in range(index.ndim)])
             for d, n in enumerate(index.shape)]
    grids[axis] = index
    return tuple(grids)


def _condition(mask: Any, name: str, like: "Tensor"):
    """A boolean array on like's device from a Tensor there, or from a host array or list (moved there)."""
    if isinstance(mask, Tensor):
        check_same_device(name, (like, mask))
        data = mask.data
    else:
        data = backend.to_device(mask if hasattr(mask, "shape") else np.asarray(mask), like._device)
    if data.dtype != np.bool_:
        raise TypeError(f"{name}: the mask must be boolean, got dtype {data.dtype}")
    return data


def _integers_before_arrays(index) -> tuple | None:
    """Split an index that mixes integers with index arrays into two steps, integers first, as PyTorch reads it.

    NumPy counts an integer as one more index array, so in x[0, :, idx] the slice separates "two" arrays and
    NumPy puts idx's dims first; PyTorch selects x[0] first and then indexes [:, idx], keeping the slice's
    dim first. Returns (the selections, the rest), or None when the index has no such mix.
    """
    if not isinstance(index, tuple):
        return None
    is_int = [isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)) or
              (hasattr(i, "ndim") and i.ndim == 0 and i.dtype.kind in "iu") for i in index]
    is_array = [hasattr(i, "ndim") and not integer for i, integer in zip(index, is_int)]
    if not (any(is_int) and any(is_array)):
        return None
    selections = tuple(slice(None) if array else (int(i) if integer else i)
                       for i, integer, array in zip(index, is_int, is_array))
    rest = tuple(i if array or i is Ellipsis else slice(None)
                 for i, integer, array in zip(index, is_int, is_array) if not integer)
    return selections, rest


# ----- functions of several tensors ---------------------------------------------------------------
def cat(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis (`dim` is PyTorch's name for it)."""
    axis = axis if dim is None else dim
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    if tensors[0].ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    return ops.Concat.apply(*tensors, axis=_dim(axis, tensors[0].ndim, "cat"))


def stack(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along a new axis (`dim` is PyTorch's name for it)."""
    axis = axis if dim is None else dim
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    axis = _dim(axis, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(axis) for t in tensors], axis=axis)


def split(tensor: Tensor, split_size_or_sections, axis: int = 0) -> list:
    """Pieces of `split_size` along `axis` (the last may be smaller), or pieces of the given sizes."""
    axis = _dim(axis, tensor.ndim, "split")
    length = tensor.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [min(step, length - s) for s in range(0, length, step)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise ValueError(f"split: sizes {sizes} sum to {sum(sizes)}, but axis {axis} has length {length}")
    pieces, start = [], 0
    prefix = (slice(None),) * axis
    for size in sizes:
        pieces.append(tensor[prefix + (slice(start, start + size),)])
        start += size
    return pieces


def where(condition: "Tensor | Any", x: "Tensor | float", y: "Tensor | float") -> Tensor:
    """Elementwise `x if condition else y` (either may be a number); the gradient flows to the chosen side."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    ref = x if isinstance(x, Tensor) else y
    if not isinstance(ref, Tensor):  # two numbers: a tensor on the condition's device
        ref = Tensor(x, device=condition.device if isinstance(condition, Tensor) else None)
    dtype = result_type(*(v.data if isinstance(v, Tensor) else v for v in (x, y)))
    return ops.Where.apply(ref._lift(x, dtype), ref._lift(y, dtype), condition=cond)


def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Einstein summation, as torch.einsum: "ij,jk->ik", "bij,bjk", "...ij,...jk->...ik" (an implicit output
    keeps the letters used once, in alphabetical order); a letter repeated in one operand takes its diagonal
    ("ii->i", "ii" is the trace)."""
    operands = tuple(operands[0]) if len(operands) == 1 and isinstance(operands[0], (list, tuple)) else operands
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    inputs = inputs.split(",")
    if len(inputs) != len(operands):
        raise ValueError(f"einsum: {equation!r} has {len(inputs)} operands, got {len(operands)} tensors")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in equation]  # letters for the dims of "..."
    ellipsis_dims = max((t.ndim - len(s.replace("...", "")) for s, t in zip(inputs, operands) if "..." in s),
                        default=0)
    batch = "".join(spare[:ellipsis_dims])
    expanded = []
    for subs, t in zip(inputs, operands):
        own = t.ndim - len(subs.replace("...", "")) if "..." in subs else 0
        subs = subs.replace("...", batch[ellipsis_dims - own:])
        if len(subs) != t.ndim:
            raise ValueError(f"einsum: subscripts {subs!r} name {len(subs)} dims, the operand has shape {t.shape}")
        expanded.append(subs)
    if arrow:
        output = output.replace("...", batch)
    else:
        letters = "".join(expanded)
        output = batch + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in batch))
    operands, expanded = zip(*(_einsum_diagonals(t, subs) for t, subs in zip(operands, expanded)))
    dtype = result_type(*(t.data for t in operands))
    operands = tuple(t if t.dtype == dtype else t.to(dtype=dtype) for t in operands)
    return ops.Einsum.apply(*operands, inputs=tuple(expanded), output=output)


def _einsum_diagonals(t: Tensor, subs: str) -> tuple:
    """An operand whose subscripts repeat a letter ("ii", "iji") as its diagonal over those dims, and its
    subscripts with the letter once (last, where diagonal() puts it)."""
    for letter in dict.fromkeys(subs):
        while subs.count(letter) > 1:
            first, second = subs.index(letter), subs.index(letter, subs.index(letter) + 1)
            if t.shape[first] != t.shape[second]:
                raise ValueError(f"einsum: subscript {letter!r} repeats in {subs!r} over dims of different sizes "
                                 f"{t.shape[first]} and {t.shape[second]} (shape {t.shape})")
            t = t.diagonal(0, first, second)
            subs = subs[:first] + subs[first + 1:second] + subs[second + 1:] + letter
    return t, subs


def meshgrid(*tensors: Tensor, indexing: str = "ij") -> list:
    """Coordinate grids from 1-D tensors: "ij" (matrix) or "xy" (Cartesian, first two dims swapped)."""
    tensors = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if any(t.ndim > 1 for t in tensors):
        raise ValueError(f"meshgrid: expected 0-d or 1-D tensors, got shapes {[t.shape for t in tensors]}")
    swap = indexing == "xy" and len(tensors) > 1
    order = (1, 0, *range(2, len(tensors))) if swap else tuple(range(len(tensors)))
    shape = tuple(tensors[i].numel() for i in order)
    grids = []
    for position, i in enumerate(order):
        view = [1] * len(tensors)
        view[position] = -1
        grids.append((i, tensors[i].reshape(view).expand(*shape)))
    return [grid for _, grid in sorted(grids, key=lambda pair: pair[0])]


def maximum(a: Tensor, b: "Tensor | float") -> Tensor:
    return a.maximum(b)


def minimum(a: Tensor, b: "Tensor | float") -> Tensor:
    return a.minimum(b)


def pad_tensor(x: Tensor, pad: Sequence[int], value: float = 0.0) -> Tensor:
    """Constant padding with PyTorch's `F.pad` order of widths (last dimension first); a negative width crops."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of widths, at most 2 per dim of shape {x.shape}; got {pad}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if any(w < 0 for pair in widths for w in pair):
        if any(n + min(lo, 0) + min(hi, 0) < 0 for (lo, hi), n in zip(widths, x.shape)):
            raise ValueError(f"pad: widths {tuple(pad)} crop more than the input's shape {x.shape}")
        x = x[tuple(slice(-min(lo, 0), n - (-min(hi, 0))) for (lo, hi), n in zip(widths, x.shape))]
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    return ops.Pad.apply(x, widths=tuple(widths), value=value)

