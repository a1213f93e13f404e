"""The Tensor: an array that records the operations applied to it.

A Tensor wraps a NumPy or CuPy array. Every differentiable operation is a
`Function` (autograd.py) implemented in the ops package; `Tensor.backward` hands
the recorded graph to the engine in autograd.py.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import autograd, backend, ops
from .autograd import Function
from .backend import Device
from .grad_mode import is_grad_enabled

DEFAULT_FLOAT = np.float32


def _normalise_dtype(dtype: Any):
    return None if dtype is None else np.dtype(getattr(dtype, "np", dtype))


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
        xp = backend.get_array_module(device)
        if not isinstance(data, (np.ndarray, xp.ndarray)):
            from_python = not isinstance(data, np.generic)
            data = np.asarray(data)
            if dtype is None and from_python and data.dtype == np.float64:
                data = data.astype(DEFAULT_FLOAT)  # Python floats become float32, as in PyTorch
        if dtype is not None and data.dtype != dtype:
            data = data.astype(dtype)
        self.data = backend.to_device(data, device) if backend.device_of(data) != device else data
        self._device = device
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
            grad_data = grad.data if isinstance(grad, Tensor) else backend.to_device(np.asarray(grad), self._device)
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
    def _lift(self, other: Any) -> "Tensor":
        """Turn a number or array into a constant Tensor on this device (numbers take this dtype)."""
        if isinstance(other, Tensor):
            return other
        xp = backend.get_array_module(self.data)
        if isinstance(other, (int, float, bool)) and self.data.dtype.kind == "f":
            return Tensor._wrap(xp.asarray(other, dtype=self.data.dtype), self._device)
        return Tensor(other, device=self._device)

    # ----- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other): return ops.Add.apply(self, self._lift(other))
    def __radd__(self, other): return ops.Add.apply(self._lift(other), self)
    def __sub__(self, other): return ops.Sub.apply(self, self._lift(other))
    def __rsub__(self, other): return ops.Sub.apply(self._lift(other), self)
    def __mul__(self, other): return ops.Mul.apply(self, self._lift(other))
    def __rmul__(self, other): return ops.Mul.apply(self._lift(other), self)
    def __truediv__(self, other): return ops.Div.apply(self, self._lift(other))
    def __rtruediv__(self, other): return ops.Div.apply(self._lift(other), self)
    def __neg__(self): return ops.Neg.apply(self)
    def __matmul__(self, other): return ops.MatMul.apply(self, self._lift(other))
    def __rmatmul__(self, other): return ops.MatMul.apply(self._lift(other), self)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            return ops.Pow.apply(self, exponent)
        return ops.PowScalar.apply(self, exponent=exponent)

    def __rpow__(self, base): return ops.Pow.apply(self._lift(base), self)

    def __iadd__(self, other):
        raise RuntimeError("in-place +=: use `t = t + x`, or update `t.data` inside no_grad()")

    __isub__ = __imul__ = __itruediv__ = __iadd__

    # comparisons produce boolean tensors without a gradient
    def _compare(self, other, fn) -> "Tensor":
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(fn(self.data, other), self._device)

    def __eq__(self, other): return self._compare(other, lambda a, b: a == b)  # noqa: E731
    def __ne__(self, other): return self._compare(other, lambda a, b: a != b)
    def __lt__(self, other): return self._compare(other, lambda a, b: a < b)
    def __le__(self, other): return self._compare(other, lambda a, b: a <= b)
    def __gt__(self, other): return self._compare(other, lambda a, b: a > b)
    def __ge__(self, other): return self._compare(other, lambda a, b: a >= b)
    __hash__ = object.__hash__

    # ----- elementwise math ---------------------------------------------------------------------
    def exp(self) -> "Tensor": return ops.Exp.apply(self)
    def log(self) -> "Tensor": return ops.Log.apply(self)
    def sqrt(self) -> "Tensor": return ops.Sqrt.apply(self)
    def abs(self) -> "Tensor": return ops.Abs.apply(self)
    def relu(self) -> "Tensor": return ops.ReLUFunction.apply(self)
    def sigmoid(self) -> "Tensor": return ops.SigmoidFunction.apply(self)
    def tanh(self) -> "Tensor": return ops.TanhFunction.apply(self)
    def square(self) -> "Tensor": return ops.PowScalar.apply(self, exponent=2)

    def gelu(self, approximate: str = "none") -> "Tensor":
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return ops.GELUFunction.apply(self, approximate=approximate)

    def clip(self, min: float | None = None, max: float | None = None) -> "Tensor":
        return ops.Clip.apply(self, low=min, high=max)

    clamp = clip

    def maximum(self, other) -> "Tensor": return ops.Maximum.apply(self, self._lift(other))
    def minimum(self, other) -> "Tensor": return ops.Minimum.apply(self, self._lift(other))

    # ----- reductions ---------------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        return ops.Sum.apply(self, axis=_axes(axis, self.ndim), keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        return ops.Mean.apply(self, axis=_axes(axis, self.ndim), keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False) -> "Tensor":
        return ops.Max.apply(self, axis=_axes(axis, self.ndim), keepdims=keepdims)

    def min(self, axis=None, keepdims: bool = False) -> "Tensor":
        return -ops.Max.apply(-self, axis=_axes(axis, self.ndim), keepdims=keepdims)

    def var(self, axis=None, keepdims: bool = False, correction: int = 1) -> "Tensor":
        """Variance with Bessel's correction by default, as torch.var."""
        axes = _axes(axis, self.ndim)
        count = self.size if axes is None else int(np.prod([self.shape[a] for a in axes]))
        centred = self - self.mean(axis=axes, keepdims=True)
        return (centred * centred).sum(axis=axes, keepdims=keepdims) / max(count - correction, 0)

    def std(self, axis=None, keepdims: bool = False, correction: int = 1) -> "Tensor":
        return self.var(axis=axis, keepdims=keepdims, correction=correction).sqrt()

    def logsumexp(self, axis=None, keepdims: bool = False) -> "Tensor":
        return ops.LogSumExp.apply(self, axis=_axes(axis, self.ndim), keepdims=keepdims)

    def softmax(self, axis: int = -1) -> "Tensor":
        return ops.SoftmaxFunction.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> "Tensor":
        return ops.LogSoftmaxFunction.apply(self, axis=axis)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> "Tensor":
        return self._index_reduce(backend.get_array_module(self.data).argmax, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> "Tensor":
        return self._index_reduce(backend.get_array_module(self.data).argmin, axis, keepdims)

    def _index_reduce(self, fn, axis, keepdims) -> "Tensor":
        out = fn(self.data, axis=axis)
        if keepdims and axis is not None:
            out = backend.get_array_module(out).expand_dims(out, axis)
        return Tensor._wrap(out.astype(np.int64, copy=False), self._device)

    # ----- shapes -------------------------------------------------------------------------------
    def reshape(self, *shape) -> "Tensor":
        return ops.Reshape.apply(self, shape=_shape_arg(shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        shape = self.shape[:start] + (-1,) + self.shape[end + 1:]
        return self.reshape(shape)

    def permute(self, *dims) -> "Tensor":
        dims = _shape_arg(dims)
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of the {self.ndim} dims of shape {self.shape}")
        return ops.Permute.apply(self, dims=tuple(d % self.ndim for d in dims))

    def transpose(self, dim0: int = -2, dim1: int = -1) -> "Tensor":
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return ops.Permute.apply(self, dims=tuple(dims))

    def expand(self, *shape) -> "Tensor":
        shape = _shape_arg(shape)
        shape = tuple(s if n == -1 else n for n, s in
                      zip(shape, (1,) * (len(shape) - self.ndim) + self.shape))
        return ops.Expand.apply(self, shape=shape)

    broadcast_to = expand

    def squeeze(self, axis: int | None = None) -> "Tensor":
        if axis is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            axis %= self.ndim
            shape = self.shape if self.shape[axis] != 1 else self.shape[:axis] + self.shape[axis + 1:]
        return self.reshape(shape)

    def unsqueeze(self, axis: int) -> "Tensor":
        axis = axis % (self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def __getitem__(self, index) -> "Tensor":
        return ops.GetItem.apply(self, index=_raw_index(index))

    def __setitem__(self, index, value) -> None:
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError("setitem: in-place assignment into a tensor that requires grad would break "
                               "its gradient; assign to `.data` under no_grad() instead")
        self.data[_raw_index(index)] = value.data if isinstance(value, Tensor) else value

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


# ----- argument normalisation ---------------------------------------------------------------------
def _axes(axis, ndim: int):
    """None, or a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    if isinstance(axis, int):
        axis = (axis,)
    for a in axis:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"reduction: axis {a} is out of range for a tensor with {ndim} dims")
    return tuple(sorted(a % max(ndim, 1) for a in axis))


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _raw_index(index):
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


# ----- functions of several tensors ---------------------------------------------------------------
def cat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    return ops.Concat.apply(*tensors, axis=axis % tensors[0].ndim)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    axis = axis % (tensors[0].ndim + 1)
    return cat([t.unsqueeze(axis) for t in tensors], axis=axis)


def split(tensor: Tensor, split_size_or_sections, axis: int = 0) -> list:
    """Pieces of `split_size` along `axis` (the last may be smaller), or pieces of the given sizes."""
    length = tensor.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [min(step, length - s) for s in range(0, length, step)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise ValueError(f"split: sizes {sizes} sum to {sum(sizes)}, but axis {axis} has length {length}")
    pieces, start = [], 0
    prefix = (slice(None),) * (axis % tensor.ndim)
    for size in sizes:
        pieces.append(tensor[prefix + (slice(start, start + size),)])
        start += size
    return pieces


def where(condition: "Tensor | Any", x: "Tensor | float", y: "Tensor | float") -> Tensor:
    """Elementwise `x if condition else y`; the gradient flows to the chosen side."""
    ref = x if isinstance(x, Tensor) else y
    if not isinstance(ref, Tensor):
        raise TypeError("where: at least one of x and y must be a Tensor")
    cond = condition.data if isinstance(condition, Tensor) else condition
    return ops.Where.apply(ref._lift(x), ref._lift(y), condition=cond)


def maximum(a: Tensor, b: "Tensor | float") -> Tensor:
    return a.maximum(b)


def minimum(a: Tensor, b: "Tensor | float") -> Tensor:
    return a.minimum(b)


def pad_tensor(x: Tensor, pad: Sequence[int], value: float = 0.0) -> Tensor:
    """Constant padding with PyTorch's `F.pad` order of widths (last dimension first)."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of widths, at most 2 per dim of shape {x.shape}; got {pad}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return ops.Pad.apply(x, widths=tuple(widths), value=value)

