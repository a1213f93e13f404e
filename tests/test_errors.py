"""Bad input raises a clear error that names the operation, the shapes, dtypes or devices involved."""
import numpy as np
import pytest

import tinygrad_ift as tg
from tinygrad_ift.backend import Device
from tinygrad_ift.tensor import Tensor


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        tg.randn(2, 3) @ tg.randn(4, 5)


def test_backward_on_non_scalar_without_gradient():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar.*\(2, 2\)"):
        (x * 2).backward()


def test_backward_with_wrongly_shaped_gradient():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 2\)"):
        (x * 2).backward(np.ones(3))


def test_broadcasting_failure_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add.*\(3, 4\).*\(5,\)"):
        tg.randn(3, 4) + tg.randn(5)
    with pytest.raises(ValueError, match=r"mul.*\(2, 3\).*\(3, 2\)"):
        tg.randn(2, 3) * tg.randn(3, 2)


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="int64"):
        Tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        tg.arange(3).requires_grad_()


def test_mixed_devices_name_both_devices():
    a = Tensor([1.0])
    b = Tensor([2.0])
    b._device = Device("cuda:1")  # only the label: the check must fire before any array is touched
    with pytest.raises(RuntimeError, match=r"cpu.*cuda:1"):
        a + b


def test_backward_without_graph():
    with pytest.raises(RuntimeError, match="requires_grad"):
        Tensor([1.0]).sum().backward()


def test_bad_reduction_axis_and_permutation():
    with pytest.raises(IndexError, match="sum: dim 2 is out of range"):  # IndexError, as PyTorch
        tg.randn(2, 3).sum(axis=2)
    with pytest.raises(ValueError, match="permutation"):
        tg.randn(2, 3).permute(0, 0)


def test_in_place_ops_on_graph_tensors_are_refused():
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x += 1
    with pytest.raises(RuntimeError, match="setitem"):
        x[0] = 2.0


def test_gradcheck_reports_the_worst_element():
    class WrongSquare(tg.Function):
        def forward(self, a):
            self.a = a
            return a * a

        def backward(self, grad):
            return grad * 3 * self.a  # should be 2a

    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    with pytest.raises(tg.GradcheckError, match=r"index \(\d,\).*analytic.*numeric"):
        tg.gradcheck(lambda t: WrongSquare.apply(t), [x])
    with pytest.raises(TypeError, match="float64"):
        tg.gradcheck(lambda t: t * 2, [Tensor([1.0], requires_grad=True)])
