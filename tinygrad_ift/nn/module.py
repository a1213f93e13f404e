"""`Module`, the container of parameters, buffers and sub-modules, with PyTorch's names and behaviour."""
from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from .. import backend
from ..autograd import Function
from ..backend import Device
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


_DATA_SLOT = Tensor.data  # where a Tensor keeps its array; Parameter.data reads and writes it


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (requires_grad=True)."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True):
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    @property
    def data(self):
        """The parameter's array. On a GPU, `p.data[...] = host_array` copies the host values in, as on the CPU."""
        return _DATA_SLOT.__get__(self)

    @data.setter
    def data(self, array) -> None:
        device, where = getattr(self, "_device", None), backend.device_of(array)  # None: deepcopy rebuilding it
        if not (isinstance(array, np.ndarray) or where.is_cuda):
            raise TypeError(f"Parameter.data: expected a NumPy or CuPy array, got {type(array).__name__}")
        if device is not None and where != device:
            raise RuntimeError(f"Parameter.data: the array is on {where}, the parameter on {device}; copy values "
                               f"in with `p.data[...] = array`, or move the module with .to(device)")
        _DATA_SLOT.__set__(self, backend.host_writable(array))

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class _HookHandle:
    """Returned by register_*_hook; `remove()` unregisters the hook."""

    _next_key = itertools.count()

    def __init__(self, hooks: dict, hook: Callable):
        self._hooks, self._key = hooks, next(self._next_key)
        hooks[self._key] = hook

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


class _BackwardHookCall:
    """One call of a module that has backward hooks: gathers the gradients of its output and of its inputs.

    The output's gradient arrives first (the engine runs in reverse topological order); once every input that
    needs a gradient has reported its own, the hooks run with (module, grad_input, grad_output).
    """

    def __init__(self, module: "Module", inputs: tuple):
        self.module = module
        self.tracked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
        self.grad_input: list = [None] * len(inputs)
        self.grad_output: tuple | None = None
        self.pending = 0

    def output_gradient(self, grad) -> None:
        self.grad_output = (Tensor._wrap(grad, backend.device_of(grad)),)
        self.grad_input = [None] * len(self.grad_input)
        self.pending = len(self.tracked)
        self._report_when_complete()

    def input_gradient(self, position: int, grad) -> None:
        self.grad_input[position] = Tensor._wrap(grad, backend.device_of(grad))
        self.pending -= 1
        self._report_when_complete()

    def _report_when_complete(self) -> None:
        if self.pending == 0 and self.grad_output is not None:
            for hook in list(self.module._backward_hooks.values()):
                hook(self.module, tuple(self.grad_input), self.grad_output)


class _ReportOutputGradient(Function):
    """Identity on a module's output; its backward hands the output's gradient to the hook call."""

    def forward(self, out, call):
        self.call = call
        return out

    def backward(self, grad):
        self.call.output_gradient(grad)
        return grad


class _ReportInputGradient(Function):
    """Identity on one of a module's inputs; its backward hands that input's gradient to the hook call."""

    def forward(self, x, call, position):
        self.call, self.position = call, position
        return x

    def backward(self, grad):
        self.call.input_gradient(self.position, grad)
        return grad


class Module:
    """Base class of every layer and model: subclasses set attributes in __init__ and define forward()."""

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration ----------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if name in self._buffers and (value is None or isinstance(value, Tensor)):
            self._buffers[name] = value
            return
        for store in (self._parameters, self._buffers, self._modules):
            store.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        for store in ("_parameters", "_buffers", "_modules"):
            values = self.__dict__.get(store)
            if values is not None and name in values:
                return values[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """A tensor that is state but not a parameter (BatchNorm's running statistics): saved, moved, not trained."""
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self.__dict__.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name: str, module: "Module") -> None:
        setattr(self, name, module)

    # ----- calling ---------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = None
        if self._backward_hooks and is_grad_enabled():
            call = _BackwardHookCall(self, args)
            args = tuple(_ReportInputGradient.apply(args[i], call=call, position=i) if i in call.tracked else x
                         for i, x in enumerate(args))
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        if call is not None and isinstance(out, Tensor) and out.requires_grad:
            out = _ReportOutputGradient.apply(out, call=call)
        return out

    def register_forward_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, inputs, output) runs after forward; a non-None return replaces the output."""
        return _HookHandle(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, grad_input, grad_output) runs once the gradients of the module's inputs are known.

        Both are tuples of Tensors (None for an input that needs no gradient), e.g. to record every layer's
        gradient norm. The hook only observes: its return value is ignored.
        """
        return _HookHandle(self._backward_hooks, hook)

    # ----- traversal -------------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        return (m for _, m in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self) -> Iterator["Module"]:
        return (m for _, m in self.named_children())

    def _named_members(self, store: str) -> Iterator[tuple[str, Tensor]]:
        seen = set()
        for prefix, module in self.named_modules():
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters")

    def parameters(self) -> Iterator[Parameter]:
        return (p for _, p in self.named_parameters())

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers")

    def buffers(self) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers())

    # ----- modes, gradients, devices ---------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the parameters' gradients (or replace them by zeros with set_to_none=False)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:  # a new array: the engine may share one gradient array between several tensors
                p.grad = Tensor._wrap(backend.get_array_module(p.data).zeros_like(p.data), p.device)

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call fn on every sub-module (children first, depth first) and then on self, as PyTorch does."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, device: "str | Device") -> "Module":
        """Move every parameter and buffer to `device`, in place; returns self. On a GPU their arrays take host
        values by item assignment (`bn.running_mean.data[:] = numpy_array`), as on the CPU."""
        device = Device(device)
        for tensor in list(self.parameters()) + list(self.buffers()):
            tensor._device = device
            tensor.data = backend.host_writable(backend.to_device(tensor.data, device))
            if tensor.grad is not None:
                tensor.grad = tensor.grad.to(device)
        return self

    def cpu(self) -> "Module":
        return self.to("cpu")

    def cuda(self, index: int = 0) -> "Module":
        return self.to(f"cuda:{index}")

    def double(self) -> "Module":
        """Cast floating parameters and buffers to float64 (for gradient checks)."""
        for tensor in list(self.parameters()) + list(self.buffers()):
            if tensor.dtype.kind == "f":
                tensor.data = tensor.data.astype(np.float64)
        return self

    # ----- state ----------------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """Every parameter and buffer by dotted name (detached tensors sharing the data)."""
        state = OrderedDict()
        for prefix, module in self.named_modules():
            for store in (module._parameters, module._buffers):
                for name, value in store.items():
                    if value is not None:
                        state[f"{prefix}.{name}" if prefix else name] = value.detach()
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the parameters and buffers by name, in place.

        Values may be Tensors, NumPy arrays, or anything np.asarray accepts (e.g. a PyTorch state dict); each
        is copied to its parameter's device and dtype. Nothing is copied unless every shape matches (and, with
        strict=True, no key is missing or unexpected); the error names the offending keys and shapes.
        Returns (missing_keys, unexpected_keys).
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and missing:
            errors.append(f"missing keys: {missing}")
        if strict and unexpected:
            errors.append(f"unexpected keys: {unexpected}")
        arrays = {}
        for name, target in own.items():
            if name in state_dict:
                value = state_dict[name]
                value = value.data if isinstance(value, Tensor) else value
                arrays[name] = value if backend.device_of(value).is_cuda else np.asarray(value)
                if tuple(arrays[name].shape) != target.shape:
                    errors.append(f"{name}: shape {tuple(arrays[name].shape)} in the state dict, "
                                  f"{target.shape} in the model")
        if errors:
            raise RuntimeError(f"load_state_dict for {type(self).__name__}: " + "; ".join(errors))
        for name, array in arrays.items():
            own[name].data[...] = backend.to_device(array, own[name].device)
        return IncompatibleKeys(missing, unexpected)

    # ----- printing -------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        """Like PyTorch's: `Name(extra)` for a leaf, otherwise one indented line per setting and sub-module."""
        extra = self.extra_repr().split("\n") if self.extra_repr() else []
        children = [f"({name}): " + repr(module).replace("\n", "\n  ") for name, module in self.named_children()]
        if len(extra) <= 1 and not children:
            return f"{type(self).__name__}({''.join(extra)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(extra + children) + "\n)"


class Sequential(Module):
    """Modules applied one after another; named 0, 1, ... or by an OrderedDict of names to modules."""

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class ModuleList(Module):
    """A list of modules whose parameters are registered; `+ [module]` gives a new ModuleList."""

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> "ModuleList":
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        for module in modules:
            self.append(module)
        return self

    def __add__(self, other: Iterable[Module]) -> "ModuleList":
        return ModuleList(list(self) + list(other))

    def __getitem__(self, index: int | slice):
        items = list(self._modules.values())
        return ModuleList(items[index]) if isinstance(index, slice) else items[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class Identity(Module):
    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Flatten dims start_dim..end_dim (by default all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
