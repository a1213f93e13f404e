"""Draw the computational graph behind a tensor, as DeZero and micrograd do: Graphviz DOT text always, and an
SVG or PNG file when Graphviz's `dot` program is installed.

Tensors are ellipses labelled with shape and dtype (leaves that require grad are filled); the operations that
made them are boxes labelled with the Function's name. Draw before backward(): backward releases the graph
unless called with retain_graph=True.
"""
from __future__ import annotations

import os
import shutil
import subprocess

from .files import atomic_open
from .autograd import Function
from .fast import reference_of
from .tensor import Tensor


def _value_label(shape: tuple, dtype, name: str | None) -> str:
    return (f"{name}\\n" if name else "") + f"{'x'.join(map(str, shape)) or 'scalar'} {dtype}"


def to_dot(output: Tensor, names: dict | None = None) -> str:
    """The graph that produced `output` as Graphviz DOT text; `names` maps tensors to labels (e.g. 'w1').

    The graph is made of leaf tensors and Function nodes (autograd.py); an intermediate tensor is drawn from its
    node's output shape and dtype, under its name if the tensor is still alive.
    """
    names = {id(t): n for t, n in (names or {}).items()}
    lines = ["digraph computational_graph {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']

    def key(node) -> int:
        """The id that names a value in the DOT text: the tensor's while it lives, else its node's."""
        tensor = node.output() if isinstance(node, Function) else node
        return id(node) if tensor is None else id(tensor)

    start = output._ctx if output._ctx is not None else output
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Function):
            shape, dtype, style = node.output_shape, node.output_dtype, ""
        else:
            shape, dtype = node.shape, node.dtype
            style = ', style=filled, fillcolor="#cfe2f3"' if node.requires_grad else ""
        lines.append(f'  t{key(node)} [label="{_value_label(shape, dtype, names.get(key(node)))}", '
                     f"shape=ellipse{style}];")
        if not isinstance(node, Function):
            continue
        op = reference_of(type(node)).__name__  # the op's name, not its fast path's
        lines.append(f'  f{id(node)} [label="{op}", shape=box];')
        lines.append(f"  f{id(node)} -> t{key(node)};")
        for parent in node.parents:
            lines.append(f"  t{key(parent)} -> f{id(node)};")
            stack.append(parent)
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_graph(output: Tensor, path: str | os.PathLike | None = None, names: dict | None = None) -> str:
    """Return the DOT text of `output`'s graph; with `path`, also write it there: `.dot` as text, `.svg` or
    `.png` rendered by Graphviz's `dot` program (a clear error when it is not installed)."""
    if not isinstance(output, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(output).__name__}")
    dot = to_dot(output, names)
    if path is None:
        return dot
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt in ("dot", "gv"):
        with atomic_open(path) as f:
            f.write(dot)
    elif fmt in ("svg", "png", "pdf"):
        program = shutil.which("dot")
        if program is None:
            raise RuntimeError(f"draw_graph: writing {path} needs Graphviz's `dot` program, which is not installed "
                               "(apt install graphviz); a .dot path, or the returned text, works without it")
        rendered = subprocess.run([program, f"-T{fmt}"], input=dot.encode(), capture_output=True, check=True).stdout
        with atomic_open(path, "wb") as f:
            f.write(rendered)
    else:
        raise ValueError(f"draw_graph: unknown file type {fmt!r} for {path}; use .dot, .svg, .png or .pdf")
    return dot
