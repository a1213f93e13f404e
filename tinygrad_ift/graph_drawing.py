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
from .tensor import Tensor


def _tensor_label(t: Tensor, name: str | None) -> str:
    shape = "x".join(map(str, t.shape)) or "scalar"
    return (f"{name}\\n" if name else "") + f"{shape} {t.dtype}"


def to_dot(output: Tensor, names: dict | None = None) -> str:
    """The graph that produced `output` as Graphviz DOT text; `names` maps tensors to labels (e.g. 'w1')."""
    names = {id(t): n for t, n in (names or {}).items()}
    lines = ["digraph computational_graph {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    seen, stack = set(), [output]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        style = ', style=filled, fillcolor="#cfe2f3"' if t.is_leaf and t.requires_grad else ""
        lines.append(f'  t{id(t)} [label="{_tensor_label(t, names.get(id(t)))}", shape=ellipse{style}];')
        ctx = t._ctx
        if ctx is None or not getattr(ctx, "parents", ()):
            continue
        lines.append(f'  f{id(t)} [label="{type(ctx).__name__}", shape=box];')
        lines.append(f"  f{id(t)} -> t{id(t)};")
        for parent in ctx.parents:
            lines.append(f"  t{id(parent)} -> f{id(t)};")
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
