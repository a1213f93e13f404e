"""The stand-in's device array, ufuncs and function wrappers, and the sync/copy counters (test support)."""
from __future__ import annotations

import collections
import operator

import numpy as _np

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy "
             "array explicitly.")


class Counters:
    """Device-to-host syncs (a value read back: item, float, bool, get, asnumpy, boolean masks, ...),
    host-to-device copies (asarray/array of host data, host index arrays), and device operations, since the
    last reset().

    An operation is a call that computes or copies on the device (a ufunc, a reduction, a product, a copy, an
    assignment, a transfer, a random draw): about one kernel launch each in CuPy, `operations_by_name` saying
    which. Views (reshape, transpose, basic indexing, ...) and allocations (empty) are not operations.
    """

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.syncs = 0
        self.host_to_device = 0
        self.operations = 0
        self.operations_by_name = collections.Counter()

    def operation(self, name: str) -> None:
        self.operations += 1
        self.operations_by_name[name] += 1

    def snapshot(self) -> tuple[int, int]:
        return self.syncs, self.host_to_device


counters = Counters()


def _wrap(value):
    """NumPy results as device arrays (a NumPy scalar becomes a 0-d array, as CuPy's reductions give)."""
    if isinstance(value, _np.ndarray):
        return ndarray._from_numpy(value)
    if isinstance(value, _np.generic):
        return ndarray._from_numpy(_np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def device_operand(value):
    """The NumPy array behind a device array; scalars pass; a host array is CuPy's TypeError."""
    if isinstance(value, ndarray):
        return value._array
    if isinstance(value, _np.ndarray):
        raise TypeError(f"Unsupported type {type(value)}")
    if isinstance(value, (list, tuple)):
        return type(value)(device_operand(v) for v in value)
    return value


# Arguments that CuPy reads on the host (sizes, split points, pad widths): a NumPy array there is no operand.
HOST_ARGUMENTS = {"split": (1, "indices_or_sections"), "array_split": (1, "indices_or_sections"), "pad": (1, "pad_width"), "reshape": (1, "newshape"),
                  "broadcast_to": (1, "shape"), "tile": (1, "reps"), "repeat": (1, "repeats")}
# Index arguments that CuPy copies to the device when they come from the host.
COPIED_ARGUMENTS = {"take": (1, "indices"), "take_along_axis": (1, "indices")}


def _names_argument(entry, position, keyword) -> bool:
    """Whether an argument passed at `position` (or as `keyword`) is the one that (position, keyword) names."""
    return entry is not None and ((position is not None and position == entry[0]) or
                                  (keyword is not None and keyword == entry[1]))


def _argument(value, name: str, position, keyword) -> object:
    if _names_argument(HOST_ARGUMENTS.get(name), position, keyword):
        return value._array if isinstance(value, ndarray) else value
    if isinstance(value, (_np.ndarray, list)) and _names_argument(COPIED_ARGUMENTS.get(name), position, keyword):
        counters.host_to_device += 1
        return _np.asarray(value)
    return device_operand(value)


# Functions that only allocate: no kernel runs.
ALLOCATING = {"empty", "empty_like"}


def _count_unless_view(name: str, result, source) -> None:
    """Count an operation, unless `result` (a NumPy array, or a tuple/list of them) is a view of `source`."""
    first = result[0] if isinstance(result, (tuple, list)) and result else result
    if not (isinstance(first, _np.ndarray) and isinstance(source, _np.ndarray)
            and _np.may_share_memory(first, source)):
        counters.operation(name)


def device_function(name: str, numpy_function, keywords: tuple, syncs: bool = False):
    """A module-level CuPy function: device operands only, the keywords CuPy takes, device results."""
    def function(*args, **kwargs):
        unknown = set(kwargs) - set(keywords)
        if unknown:
            raise TypeError(f"cupy.{name}() got unexpected keyword arguments {sorted(unknown)}")
        if syncs:
            counters.syncs += 1
        args = [_argument(a, name, i, None) for i, a in enumerate(args)]
        kwargs = {k: _argument(v, name, None, k) for k, v in kwargs.items()}
        result = numpy_function(*args, **kwargs)
        if name not in ALLOCATING:
            _count_unless_view(name, result, args[0] if args else None)
        return _wrap(result)
    function.__name__ = function.__qualname__ = name
    function.keywords = keywords
    return function


class ufunc:
    """An elementwise function: device arrays and scalars in, keywords `out` and `dtype` only (as CuPy's)."""

    def __init__(self, name: str, numpy_ufunc):
        self.__name__, self._ufunc = name, numpy_ufunc
        self.keywords = ("out", "dtype")
        self.nin, self.nout = numpy_ufunc.nin, numpy_ufunc.nout

    def __call__(self, *args, out=None, dtype=None, **kwargs):
        if kwargs:
            raise TypeError(f"Wrong arguments {kwargs}")
        if out is not None and not isinstance(out, ndarray):
            raise TypeError(f"Output argument type must be cupy.ndarray, got {type(out)}")
        counters.operation(self.__name__)
        extra = {} if dtype is None else {"dtype": dtype}
        if out is not None:
            self._ufunc(*device_operand(args), out=out._array, **extra)
            return out
        return _wrap(self._ufunc(*device_operand(args), **extra))

    def _method(self, name, *args, out=None, **kwargs):
        counters.operation(f"{self.__name__}.{name}")
        extra = {} if out is None else {"out": device_operand(out)}
        result = getattr(self._ufunc, name)(*device_operand(args), **{k: device_operand(v) for k, v in kwargs.items()},
                                            **extra)
        return out if out is not None else _wrap(result)

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        return self._method("reduce", array, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def accumulate(self, array, axis=0, dtype=None, out=None):
        return self._method("accumulate", array, axis=axis, dtype=dtype, out=out)

    def outer(self, A, B, **kwargs):
        return self._method("outer", A, B, **kwargs)

    def at(self, a, indices, b=None):
        counters.operation(f"{self.__name__}.at")
        self._ufunc.at(device_operand(a), _device_index(indices, a.shape), *(() if b is None else (device_operand(b),)))

    def __repr__(self) -> str:
        return f"<ufunc 'cupy_{self.__name__}'>"


def _module():
    import cupy
    return cupy


def _has_array(parts) -> bool:
    return any(isinstance(p, (ndarray, _np.ndarray, list)) for p in parts)


def _device_index(key, shape):
    """The NumPy index behind a device index: host index arrays and lists are counted copies, boolean masks
    syncs (CuPy reads the count of True back), and integer arrays wrap around as CuPy's do."""
    parts = key if isinstance(key, tuple) else (key,)
    out, axis = [], 0
    n_explicit = sum(1 for p in parts if p is not None and p is not Ellipsis
                     and not (isinstance(p, (ndarray, _np.ndarray)) and p.dtype == bool))
    for part in parts:
        if isinstance(part, (_np.ndarray, list)):
            counters.host_to_device += 1
            part = _np.asarray(part)
        elif isinstance(part, ndarray):
            part = part._array
        if isinstance(part, _np.ndarray) and part.dtype == bool and part.ndim > 0:
            counters.syncs += 1
            axis += part.ndim
        elif isinstance(part, _np.ndarray) and part.dtype.kind in "iu":
            if axis < len(shape) and shape[axis] > 0:
                part = part % shape[axis]  # CuPy wraps out-of-range indices around instead of raising
            axis += 1
        elif part is Ellipsis:
            axis += len(shape) - n_explicit
        elif part is not None:
            axis += 1
        out.append(part)
    return tuple(out) if isinstance(key, tuple) else out[0]


class ndarray:
    """A device array: a NumPy array that refuses to meet host arrays, and counts what crosses the bus."""

    __slots__ = ("_array", "__weakref__")
    __array_priority__ = 100  # CuPy's: a Tensor (1000) gets `array + tensor` through its __radd__

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._array = _np.empty(shape, dtype=dtype, order=order)

    @classmethod
    def _from_numpy(cls, array):
        out = cls.__new__(cls)
        out._array = array
        return out

    # ----- what CuPy refuses: implicit conversion to the host --------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    def __array_ufunc__(self, numpy_ufunc, method, *inputs, **kwargs):
        """np.exp(device array) runs the device ufunc, as CuPy's; a host operand then raises TypeError."""
        device_ufunc = getattr(_module(), numpy_ufunc.__name__, None)
        if method != "__call__" or not isinstance(device_ufunc, ufunc):
            return NotImplemented
        if isinstance(kwargs.get("out"), tuple):  # NumPy hands `out` over as a tuple
            kwargs["out"], = kwargs["out"]
        return device_ufunc(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        device_function = getattr(_module(), func.__name__, None)
        if device_function is None:
            return NotImplemented
        return device_function(*args, **kwargs)

    # ----- reading values back: each is a sync -----------------------------------------------------------
    def get(self, stream=None, order="C", out=None, blocking=True):
        counters.syncs += 1
        counters.operation("get")
        if out is not None:
            out[...] = self._array
            return out
        return _np.array(self._array, order=order, copy=True)

    def item(self):
        counters.syncs += 1
        return self._array.item()

    def tolist(self):
        counters.syncs += 1
        return self._array.tolist()

    def _scalar(self, convert):
        counters.syncs += 1
        return convert(self._array)

    def __bool__(self):
        return self._scalar(bool)

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __index__(self):
        return self._scalar(operator.index)

    def __repr__(self):
        counters.syncs += 1
        return repr(self._array)

    def __str__(self):
        counters.syncs += 1
        return str(self._array)

    def __format__(self, spec):
        counters.syncs += 1
        return format(self._array, spec)

    # ----- attributes --------------------------------------------------------------------------------
    shape = property(lambda self: self._array.shape)
    ndim = property(lambda self: self._array.ndim)
    size = property(lambda self: self._array.size)
    dtype = property(lambda self: self._array.dtype)
    nbytes = property(lambda self: self._array.nbytes)
    itemsize = property(lambda self: self._array.itemsize)
    strides = property(lambda self: self._array.strides)
    flags = property(lambda self: self._array.flags)
    T = property(lambda self: _wrap(self._array.T))
    base = property(lambda self: None if self._array.base is None else _wrap(self._array.base))

    @property
    def device(self):
        from .cuda import Device
        return Device(0)

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return (_wrap(row) for row in self._array)

    __hash__ = None

    # ----- indexing ----------------------------------------------------------------------------------
    def __getitem__(self, key):
        result = self._array[_device_index(key, self.shape)]
        _count_unless_view("getitem", result, self._array)
        return _wrap(result)

    def __setitem__(self, key, value):
        counters.operation("setitem")
        parts = key if isinstance(key, tuple) else (key,)
        if isinstance(value, _np.ndarray):
            if not _has_array(parts) and value.ndim > 0:
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
            if value.ndim > 0:
                counters.host_to_device += 1
            value = value.item() if value.ndim == 0 else value
        self._array[_device_index(key, self.shape)] = device_operand(value) if not isinstance(
            value, _np.ndarray) else value

    # ----- methods: device operands in, device arrays out ------------------------------------------------
    def _call(self, name, *args, **kwargs):
        result = getattr(self._array, name)(*device_operand(args), **{k: device_operand(v) for k, v in kwargs.items()})
        _count_unless_view(name, result, self._array)
        return _wrap(result)

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        result = self._array.astype(dtype, order=order, copy=copy, **({} if casting is None else {"casting": casting}))
        if result is not self._array:
            counters.operation("astype")
        return _wrap(result)

    def copy(self, order="C"):
        counters.operation("copy")
        return _wrap(self._array.copy(order=order))

    def fill(self, value):
        counters.operation("fill")
        if isinstance(value, _np.ndarray):
            if value.shape != ():
                raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
            value = value.item()
        self._array.fill(device_operand(value))

    def reshape(self, *shape, order="C"):
        return self._call("reshape", *shape, order=order)

    def transpose(self, *axes):
        return self._call("transpose", *axes)

    def swapaxes(self, axis1, axis2):
        return self._call("swapaxes", axis1, axis2)

    def squeeze(self, axis=None):
        return self._call("squeeze", axis=axis)

    def ravel(self, order="C"):
        return self._call("ravel", order=order)

    def flatten(self, order="C"):
        return self._call("flatten", order=order)

    def view(self, dtype=None, type=None):
        """A view of the same memory, of another dtype and/or another ndarray subclass (CuPy's `type=`)."""
        array_class = ndarray if type is None else type  # (whether CuPy keeps a subclass by default: unchecked)
        if not issubclass(array_class, ndarray):
            raise TypeError(f"view: type must be a subclass of cupy.ndarray, got {array_class}")
        out = array_class.__new__(array_class)
        out._array = self._array.view() if dtype is None else self._array.view(dtype)
        return out

    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        return _module().sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        return _module().mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        return _module().prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return self._call("var", axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return self._call("std", axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def max(self, axis=None, out=None, keepdims=False):
        return self._call("max", axis=axis, out=out, keepdims=keepdims)

    def min(self, axis=None, out=None, keepdims=False):
        return self._call("min", axis=axis, out=out, keepdims=keepdims)

    def argmax(self, axis=None, out=None, dtype=None, keepdims=False):
        return self._call("argmax", axis=axis, out=out, keepdims=keepdims)

    def argmin(self, axis=None, out=None, dtype=None, keepdims=False):
        return self._call("argmin", axis=axis, out=out, keepdims=keepdims)

    def all(self, axis=None, out=None, keepdims=False):
        return self._call("all", axis=axis, out=out, keepdims=keepdims)

    def any(self, axis=None, out=None, keepdims=False):
        return self._call("any", axis=axis, out=out, keepdims=keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        return self._call("cumsum", axis=axis, dtype=dtype, out=out)

    def clip(self, min=None, max=None, out=None):
        return self._call("clip", min, max, out=out)

    def dot(self, b, out=None):
        return self._call("dot", b, out=out)

    def take(self, indices, axis=None, out=None):
        return _module().take(self, indices, axis=axis, out=out)

    def repeat(self, repeats, axis=None):
        return self._call("repeat", repeats, axis=axis)

    def round(self, decimals=0, out=None):
        return self._call("round", decimals=decimals, out=out)

    def nonzero(self):
        counters.syncs += 1
        return self._call("nonzero")

    # ----- operators: each a ufunc, so host operands raise TypeError ---------------------------------------
    def _binary(name, reflected=False, inplace=False):
        def method(self, other):
            if (not isinstance(other, (ndarray, _np.ndarray)) and
                    getattr(other, "__array_priority__", 0) > self.__array_priority__):
                return NotImplemented  # e.g. a Tensor: let its reflected operator run
            function = getattr(_module(), name)
            if inplace:
                return function(self, other, out=self)
            return function(other, self) if reflected else function(self, other)
        return method

    __add__, __radd__, __iadd__ = _binary("add"), _binary("add", True), _binary("add", inplace=True)
    __sub__, __rsub__ = _binary("subtract"), _binary("subtract", True)
    __isub__ = _binary("subtract", inplace=True)
    __mul__, __rmul__ = _binary("multiply"), _binary("multiply", True)
    __imul__ = _binary("multiply", inplace=True)
    __truediv__, __rtruediv__ = _binary("true_divide"), _binary("true_divide", True)
    __itruediv__ = _binary("true_divide", inplace=True)
    __floordiv__, __rfloordiv__ = _binary("floor_divide"), _binary("floor_divide", True)
    __mod__, __rmod__ = _binary("remainder"), _binary("remainder", True)
    __pow__, __rpow__ = _binary("power"), _binary("power", True)
    __ipow__ = _binary("power", inplace=True)
    __matmul__, __rmatmul__ = _binary("matmul"), _binary("matmul", True)
    __and__, __rand__, __iand__ = (_binary("bitwise_and"), _binary("bitwise_and", True),
                                   _binary("bitwise_and", inplace=True))
    __or__, __ror__, __ior__ = (_binary("bitwise_or"), _binary("bitwise_or", True),
                                _binary("bitwise_or", inplace=True))
    __eq__, __ne__ = _binary("equal"), _binary("not_equal")
    __lt__, __le__ = _binary("less"), _binary("less_equal")
    __gt__, __ge__ = _binary("greater"), _binary("greater_equal")
    del _binary

    def __neg__(self):
        return _module().negative(self)

    def __abs__(self):
        return _module().absolute(self)

    def __invert__(self):
        return _module().invert(self)

    def __pos__(self):
        return self.copy()


def _keywords(obj) -> list:
    """The keyword names a stand-in callable takes (its declared list, or its signature)."""
    import inspect
    if isinstance(obj, type):
        return []
    if hasattr(obj, "keywords"):
        return list(obj.keywords)
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def offered() -> dict:
    """Every public name the stand-in offers, dotted from `cupy`/`cupyx`, with the keywords it accepts: what
    tests/test_cupy_standin.py checks against the real CuPy."""
    import types

    import cupy
    import cupy.cuda.runtime
    import cupy.lib.stride_tricks
    import cupy.random
    import cupyx
    import cupyx.scipy.special
    names = {}
    classes = {cupy.ndarray: "cupy.ndarray", cupy.ufunc: "cupy.ufunc", cupy.random.Generator: "cupy.random.Generator",
               cupy.cuda.Device: "cupy.cuda.Device"}
    for module in (cupy, cupy.cuda, cupy.cuda.runtime, cupy.lib, cupy.lib.stride_tricks, cupy.random, cupyx,
                   cupyx.scipy, cupyx.scipy.special):
        for name, value in vars(module).items():
            if name.startswith("_") or isinstance(value, types.ModuleType) and name not in (
                    "cuda", "runtime", "lib", "stride_tricks", "random", "scipy", "special"):
                continue
            names[f"{module.__name__}.{name}"] = _keywords(value) if callable(value) else []
    for cls, dotted in classes.items():
        for name, value in vars(cls).items():
            if not name.startswith("_"):
                names[f"{dotted}.{name}"] = _keywords(value) if callable(value) else []
    return names
