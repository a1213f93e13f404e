"""The reverse-mode engine: `Function`, one node of the graph, and `backward`, which walks the graph.

A Function's `forward` maps arrays to an array and saves what its `backward` needs; `backward` maps the
output's gradient to one gradient per input. A recorded node's `needs_input_grad`, as in PyTorch, says which inputs want
one; `backward` may return None for the others. The engine knows tensors only by the few attributes it reads
(`data`, `grad`, `requires_grad`, `_ctx`, `_device`, `_retain_grad`, `_hooks`), so it imports neither the Tensor
class nor the ops: tensor.py builds on this module, and ops.py on this one alone.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from . import backend
from .fast import implementation
from .grad_mode import is_grad_enabled


def check_same_device(name: str | type, tensors) -> "backend.Device":
    """The device of the first tensor, after checking that every other one is on it (the one device error).
    `name`: the operation, or the Function class whose name is the operation's."""
    device = tensors[0]._device
    for t in tensors:
        if t._device is not device and t._device != device:
            op = name if isinstance(name, str) else name.__name__.lower()
            raise RuntimeError(f"{op}: tensors are on different devices, {device} and {t._device}; "
                               "move them to one device with .to(device)")
    return device


class _EveryInput:
    """The needs_input_grad of a node run outside the graph (its forward and backward called directly): every
    input wants a gradient."""

    def __getitem__(self, index: int) -> bool:
        return True


class Function:
    """One node of the graph: `forward` on arrays, `backward` from output grad to input grads.

    A recorded node keeps, as `parents`, where the gradient flows on to, one per input: the node (Function)
    that made the input, or the input itself if it is a leaf. It keeps its output only by a weak reference, and
    the arrays of intermediate tensors not at all: one that no backward needs (BatchNorm's output, read by the
    ReLU after it) is freed as soon as the code drops it.
    """

    __slots__ = ("parents", "output", "output_shape", "output_dtype", "__dict__")
    requires_grad = True  # a node exists only where a gradient is wanted
    needs_input_grad = _EveryInput()  # apply records which inputs want one

    def forward(self, *arrays: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Any) -> Any:
        raise NotImplementedError

    def release(self) -> None:
        """Drop what forward saved for backward, once backward has run (without retain_graph)."""
        self.__dict__.clear()

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Any:
        """Run forward on the inputs' arrays and, if any input needs a gradient, record the node."""
        device = check_same_device(cls, inputs)
        ctx = implementation(cls, device)()  # a fast path registered for this device, or cls itself
        try:
            if device.is_cuda:
                with backend.on_device(device):
                    out = ctx.forward(*[t.data for t in inputs], **kwargs)
            else:
                out = ctx.forward(*[t.data for t in inputs], **kwargs)
        except ValueError as err:
            shapes = ", ".join(str(t.shape) for t in inputs)
            raise ValueError(f"{cls.__name__.lower()}: invalid input shapes {shapes}: {err}") from None
        if isinstance(out, np.generic):  # NumPy turns 0-d results into scalars; keep arrays
            out = np.asarray(out)
        needs_input_grad = tuple([t.requires_grad for t in inputs])
        requires_grad = True in needs_input_grad and is_grad_enabled()
        result = type(inputs[0])._wrap(out, device, requires_grad)
        if requires_grad:
            ctx.parents = tuple([t if t._ctx is None else t._ctx for t in inputs])
            ctx.needs_input_grad = needs_input_grad  # backward may skip the others
            ctx.output, ctx.output_shape, ctx.output_dtype = weakref.ref(result), out.shape, out.dtype
            result._ctx = ctx
        return result


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum a gradient over the dimensions that broadcasting added or stretched, back to `shape`."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def backward(root: Any, grad: Any, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into every leaf's `.grad`, given d(root) = grad, in reverse topological order.

    Without retain_graph each node's saved arrays are released once its gradient has gone through it.
    """
    start = root if root._ctx is None else root._ctx
    grads = {id(start): grad}
    with backend.on_device(root._device):
        for node in topological_order(start):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if not isinstance(node, Function):  # a leaf tensor
                if node._hooks:
                    g = node._run_hooks(g)
                _accumulate_grad(node, g)
                continue
            tensor = node.output()  # None once the code has dropped it
            if tensor is not None and (tensor._hooks or tensor._retain_grad):
                if tensor._hooks:
                    g = tensor._run_hooks(g)
                if tensor._retain_grad:
                    _accumulate_grad(tensor, g)
            if "released" in node.__dict__:
                raise RuntimeError(
                    "backward: trying to backward through the graph a second time; its saved arrays were "
                    "released by the first backward(). Pass retain_graph=True to the first call to keep them.")
            parent_grads = node.backward(g)
            if not isinstance(parent_grads, tuple):
                parent_grads = (parent_grads,)
            for parent, pg in zip(node.parents, parent_grads):
                if pg is None or not parent.requires_grad:
                    continue
                if isinstance(parent, Function):
                    shape, dtype = parent.output_shape, parent.output_dtype
                else:
                    shape, dtype = parent.shape, parent.dtype
                if pg.shape != shape:
                    pg = unbroadcast(pg, shape)
                if pg.dtype != dtype:
                    pg = pg.astype(dtype)
                key = id(parent)
                grads[key] = pg if key not in grads else grads[key] + pg
            if not retain_graph:
                node.release()
                node.released = True


def _accumulate_grad(tensor: Any, g: Any) -> None:
    """tensor.grad += g, or tensor.grad = g, kept contiguous: a transposed view would slow every optimiser step."""
    if tensor.grad is None:
        g = g if tensor._ctx is None and g.flags.c_contiguous else g.copy()
        tensor.grad = type(tensor)._wrap(g, tensor._device)
    else:
        tensor.grad.data = tensor.grad.data + g


def topological_order(start: Any) -> list:
    """Nodes (Functions and leaf tensors) from `start` back to the leaves, each after every node that uses it
    (no recursion)."""
    order, visited = [], set()
    stack = [(start, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node.parents if isinstance(node, Function) else ():
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order
