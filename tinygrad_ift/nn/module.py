"""`Module`, the container of parameters, buffers and sub-modules, with PyTorch's names and behaviour."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .. import backend
from ..backend import Device
from ..tensor import Function, Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (requires_grad=True)."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True):
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class _HookHandle:
    """Returned by register_*_hook; `remove()` unregisters the hook."""

    def __init__(self, hooks: dict, key: int):
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


class _BackwardHook(Function):
    """Identity on a module's output whose backward reports the output gradient to the module's hooks."""

    def forward(self, out, module):
        self.module = module
        return out

    def backward(self, grad):
        grad_output = (Tensor._wrap(grad, backend.device_of(grad)),)
        for hook in list(self.module._backward_hooks.values()):
            hook(self.module, grad_output, grad_output)
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
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        if self._backward_hooks and isinstance(out, Tensor) and out.requires_grad:
            out = _BackwardHook.apply(out, module=self)
        return out

    def register_forward_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, inputs, output) runs after forward; a non-None return replaces the output."""
        key = id(hook)
        self._forward_hooks[key] = hook
        return _HookHandle(self._forward_hooks, key)

    def register_full_backward_hook(self, hook: Callable) -> _HookHandle:
        """hook(module, grad_input, grad_output) runs when the gradient of the module's output is known.

        Here grad_input is reported as the output gradient too (enough to record per-layer gradient norms).
        """
        key = id(hook)
        self._backward_hooks[key] = hook
        return _HookHandle(self._backward_hooks, key)

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
        for p in self.parameters():
            p.grad = None

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call fn on every sub-module (children first) and then on self, as PyTorch does."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    def to(self, device: "str | Device") -> "Module":
        """Move every parameter and buffer to `device`, in place; returns self."""
        device = Device(device)
        for tensor in list(self.parameters()) + list(self.buffers()):
            tensor.data = backend.to_device(tensor.data, device)
            tensor._device = device
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

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> tuple[list, list]:
        """Copy arrays into the parameters and buffers by name.

        Values may be Tensors, NumPy arrays, or anything np.asarray accepts (e.g. a PyTorch state dict).
        Returns (missing_keys, unexpected_keys); with strict=True either is an error that names the keys.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and (missing or unexpected):
            errors.append(f"missing keys: {missing}; unexpected keys: {unexpected}")
        for name, target in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if tuple(array.shape) != target.shape:
                errors.append(f"{name}: shape {tuple(array.shape)} in the state dict, {target.shape} in the model")
                continue
            xp = backend.get_array_module(target.data)
            target.data[...] = xp.asarray(backend.to_device(array, target.device), dtype=target.dtype)
        if errors:
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + "; ".join(errors))
        return missing, unexpected

    # ----- printing -------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(module).replace("\n", "\n  ") for name, module in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied one after another."""

    def __init__(self, *modules: Module):
        super().__init__()
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Module:
        items = list(self._modules.values())
        return Sequential(*items[index]) if isinstance(index, slice) else items[index]

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
