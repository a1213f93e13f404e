"""tg.draw_graph: the DOT text names every op with its inputs' and outputs' shapes and dtypes; files."""
import shutil

import numpy as np
import pytest

import tinygrad_ift as tg


def _graph(device="cpu"):
    x = tg.tensor(np.ones((4, 3), dtype=np.float32), device=device)
    w = tg.randn(3, 2, requires_grad=True, device=device)
    loss = (x @ w).tanh().sum()
    return x, w, loss


def test_dot_text_has_each_op_tensor_shape_and_dtype_and_the_edges(device):
    x, w, loss = _graph(device)
    dot = tg.draw_graph(loss, names={w: "w"})
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for op in ("MatMul", "TanhFunction", "Sum"):
        assert f'label="{op}", shape=box' in dot
    assert '"w\\n3x2 float32", shape=ellipse, style=filled' in dot  # the named leaf that requires grad
    assert '"4x3 float32", shape=ellipse]' in dot and '"scalar float32"' in dot
    assert f"t{id(w)} -> f" in dot and f"t{id(x)} -> f" in dot and f"-> t{id(loss)};" in dot
    assert dot.count("shape=box") == 3 and dot.count("shape=ellipse") == 5


def test_a_shared_input_is_drawn_once():
    a = tg.randn(2, requires_grad=True)
    dot = tg.draw_graph(a * a + a)
    assert dot.count(f"t{id(a)} [") == 1 and dot.count(f"t{id(a)} -> ") == 3


def test_writes_dot_files_and_svg_only_with_graphviz(tmp_path):
    _, _, loss = _graph()
    text = tg.draw_graph(loss, tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == text
    with pytest.raises(ValueError, match="draw_graph: unknown file type 'jpg'"):
        tg.draw_graph(loss, tmp_path / "g.jpg")
    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="draw_graph: writing .*g.svg needs Graphviz's `dot` program"):
            tg.draw_graph(loss, tmp_path / "g.svg")
        assert not (tmp_path / "g.svg").exists()
    else:
        tg.draw_graph(loss, tmp_path / "g.svg")
        assert "<svg" in (tmp_path / "g.svg").read_text()


def test_fast_paths_are_drawn_as_the_ops_they_replace():
    """A student sees ReLUFunction and MatMul, not the CPU fast paths that ran them."""
    x = tg.Tensor(np.ones((4, 3), np.float32), requires_grad=True)
    dot = tg.draw_graph((x @ x.T).relu())
    assert 'label="ReLUFunction"' in dot and 'label="MatMul"' in dot and "CPU" not in dot
