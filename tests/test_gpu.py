"""The CuPy path: the same ops on "cuda" give the CPU's values and gradients. Skipped without a GPU."""
import numpy as np
import pytest

import tinygrad_ift as tg

pytestmark = pytest.mark.skipif(not tg.cuda_available(), reason="needs CuPy and a CUDA GPU")


def _loss(x, w, labels):
    h = (x @ w).gelu().reshape(4, 2, 3)
    h = tg.cat([h, h.softmax(axis=2)], axis=1).max(axis=1).values
    return -h.log_softmax(axis=1)[np.arange(4), labels].mean() + (x.abs() ** 1.5).mean()


def test_cpu_and_gpu_agree_on_values_and_gradients():
    rng = np.random.default_rng(0)
    x_np, w_np = rng.standard_normal((4, 5)), rng.standard_normal((5, 6))
    labels = np.array([0, 2, 1, 1])
    results = {}
    for device in ("cpu", "cuda"):
        x = tg.Tensor(x_np, requires_grad=True, device=device)
        w = tg.Tensor(w_np, requires_grad=True, device=device)
        loss = _loss(x, w, tg.Tensor(labels, device=device))
        loss.backward()
        assert x.grad.device == device
        results[device] = (loss.item(), x.grad.cpu().numpy(), w.grad.cpu().numpy())
    for a, b in zip(results["cpu"], results["cuda"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_to_device_round_trip_is_differentiable():
    x = tg.Tensor(np.arange(3.0), requires_grad=True)
    y = (x.cuda() * 2).cpu().sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
    assert isinstance(x.cuda().detach().numpy(), np.ndarray)


def test_seeded_random_on_gpu():
    tg.manual_seed(5)
    a = tg.randn(3, device="cuda").cpu().numpy()
    tg.manual_seed(5)
    np.testing.assert_array_equal(a, tg.randn(3, device="cuda").cpu().numpy())


def test_gradcheck_on_gpu():
    x = tg.Tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True, device="cuda")
    assert tg.gradcheck(lambda t: (t.tanh() @ t.T).logsumexp(axis=1), [x])
