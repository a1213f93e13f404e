"""The autodiff engine: accumulation, retain_graph, no_grad, detach, deep chains, diamonds, dtypes, devices."""
import numpy as np
import pytest
import torch

import tinygrad_ift as tg
from tinygrad_ift.tensor import Tensor


def test_gradient_accumulates_over_reuse_in_one_graph():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x + x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1, 2, 3]) + 3)


def test_gradient_accumulates_across_backward_calls():
    x = Tensor([1.0, -2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 7.0])
    x.zero_grad()
    assert x.grad is None


def test_diamond_graph_matches_torch():
    """b feeds two branches that meet again: its gradient is the sum over both paths."""
    a_np = np.array([0.5, -1.5, 2.0])
    a, ta = Tensor(a_np, requires_grad=True), torch.tensor(a_np, requires_grad=True)
    for t in (a, ta):
        b = t.exp()
        ((b * 2) + (b * b)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)


def test_ten_thousand_op_chain_does_not_recurse():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-9)


def test_graph_is_released_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_saved_arrays_are_freed_after_backward():
    x = Tensor(np.ones(3), requires_grad=True)
    h = x.exp()
    y = h.sum()
    y.backward()
    assert h._ctx is not None and not hasattr(h._ctx, "out")


def test_no_grad_context_and_decorator():
    x = Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf

    @tg.no_grad()
    def double(t):
        return t * 2
    assert not double(x).requires_grad
    assert tg.is_grad_enabled()
    assert (x * 2).requires_grad


def test_detach_cuts_the_graph_and_shares_data():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 3).detach()
    assert not d.requires_grad and d.is_leaf
    (d * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 6.0])


def test_requires_grad_and_retain_grad():
    x = Tensor([1.0, 2.0]).requires_grad_()
    h = (x * 2).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [4.0, 8.0])
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])


def test_non_scalar_backward_with_explicit_gradient():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x * x).backward(Tensor([[1.0, 0.0], [0.5, 2.0]]))
    np.testing.assert_allclose(x.grad.numpy(), [[2.0, 0.0], [3.0, 16.0]])


def test_broadcast_gradients_are_summed_back_to_each_shape():
    a = Tensor(np.ones((4, 1, 3)), requires_grad=True)
    b = Tensor(np.ones((5, 1)), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (4, 1, 3) and b.grad.shape == (5, 1)
    np.testing.assert_allclose(a.grad.numpy(), 5.0)
    np.testing.assert_allclose(b.grad.numpy(), 12.0)


def test_float64_end_to_end_and_float32_default():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = ((x @ x) * 0.5 + x.exp().sum()).log()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64
    assert Tensor([1.0, 2.0]).dtype == np.float32 and tg.randn(2).dtype == np.float32
    assert (Tensor([1.0]) * 2.5).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.int64


def test_mixed_precision_gradient_keeps_each_input_dtype():
    a = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones(2, dtype=np.float64), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_manual_seed_fixes_random_tensors():
    tg.manual_seed(123)
    first = (tg.randn(3, 4).numpy(), tg.rand(5).numpy())
    tg.manual_seed(123)
    second = (tg.randn(3, 4).numpy(), tg.rand(5).numpy())
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    tg.manual_seed(124)
    assert not np.array_equal(tg.randn(3, 4).numpy(), first[0])


def test_creation_functions():
    assert tg.zeros(2, 3).shape == (2, 3) and tg.ones((2,)).numpy().tolist() == [1.0, 1.0]
    assert tg.full((2, 2), 7.0).numpy().sum() == 28.0
    assert tg.arange(4).tolist() == [0, 1, 2, 3] and tg.arange(0, 1, 0.5).dtype == np.float32
    np.testing.assert_array_equal(tg.eye(3).numpy(), np.eye(3))
    x = tg.randn(2, 3, dtype=tg.float64)
    assert tg.zeros_like(x).dtype == np.float64 and tg.ones_like(x).shape == (2, 3)
    assert tg.full_like(x, 2.0).numpy().max() == 2.0 and tg.randn_like(x).shape == (2, 3)
    assert 0 <= tg.rand(100).numpy().min() and tg.rand(100).numpy().max() < 1
    assert tg.tensor([1.0, 2.0], requires_grad=True).requires_grad


def test_device_conversions_on_cpu():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.device == "cpu" and x.to("cpu") is x and x.cpu() is x
    assert isinstance(x.detach().numpy(), np.ndarray)
    assert Tensor(3.5).item() == 3.5
    assert x.double().dtype == np.float64
    x.double().sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.skipif(tg.cuda_available(), reason="checks the error raised when no GPU is usable")
def test_cuda_without_gpu_says_what_is_missing():
    with pytest.raises(RuntimeError, match="CuPy|GPU"):
        Tensor([1.0]).to("cuda")
    with pytest.raises(RuntimeError, match="CuPy|GPU"):
        tg.zeros(2, device="cuda")


def test_device_parsing():
    assert tg.Device("cuda") == "cuda:0" and str(tg.Device("cuda:1")) == "cuda:1"
    with pytest.raises(ValueError, match="device"):
        tg.Device("tpu")


def test_matmul_makes_the_gradient_of_a_transposed_weight_in_the_weights_layout():
    """x @ W.T: dW.T comes out F-ordered, so W.grad (its transpose) is C-contiguous without a copy."""
    rng = np.random.default_rng(0)
    x, w, g = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal((5, 3))
    node = tg.ops.MatMul()
    node.forward(x, w.T)
    grad_x, grad_wt = node.backward(g)
    assert grad_wt.T.flags.c_contiguous
    np.testing.assert_allclose(grad_wt, x.T @ g)
    np.testing.assert_allclose(grad_x, g @ w)


@pytest.mark.parametrize("reference", [False, True], ids=["fast_paths", "reference_ops"])
def test_arrays_no_gradient_needs_are_freed_before_backward(reference):
    """BatchNorm's output is read by the ReLU after it, whose backward needs only its own output: once the code
    drops it, the graph must not keep it alive until backward."""
    import contextlib
    import gc
    import weakref

    with tg.reference_ops("cpu") if reference else contextlib.nullcontext():
        x = Tensor(np.random.default_rng(0).standard_normal((8, 3, 4, 4)), requires_grad=True)
        bn = tg.nn.BatchNorm2d(3).double()
        normalised = bn(x)
        alive = weakref.ref(normalised.data)
        loss = normalised.relu().sum()
        del normalised
        gc.collect()
        assert alive() is None
        loss.backward()
        assert x.grad.shape == x.shape and bn.weight.grad is not None


@pytest.mark.parametrize("op", [lambda a, b: a @ b.T, tg.nn.functional.linear,
                                lambda a, b: a.reshape(2, 3, 4) @ b.T])  # a weight matrix; batched
@pytest.mark.parametrize("wanted", [(False, True), (True, False)])
def test_matrix_products_skip_the_gradient_an_operand_does_not_want(op, wanted):
    """needs_input_grad: a network's images get no gradient computed; the other operand's is unchanged."""
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal((6, 4)), rng.standard_normal((5, 4))

    def grads(needs):
        a, b = Tensor(a_np, requires_grad=needs[0]), Tensor(b_np, requires_grad=needs[1])
        out = op(a, b)
        node = out._ctx
        assert node.needs_input_grad == needs
        return node.backward(np.ones(out.shape))[:2]  # linear also returns its (absent) bias's

    skipped = grads(wanted)
    assert [g is None for g in skipped] == [not w for w in wanted]
    for g, full in zip(skipped, grads((True, True))):
        if g is not None:
            np.testing.assert_array_equal(g, full)
