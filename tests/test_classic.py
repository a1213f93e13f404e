"""By-hand gradients agree with autograd (and finite differences); the by-hand trainers learn."""
import numpy as np
import pytest
import torch

import tinygrad_ift as tg
from tinygrad_ift.classic import (AutogradMLP, LinearModel, ManualMLP, accuracy, add_bias_column, cross_entropy, fit,
                                  one_hot, softmax, split_train_valid)

RNG = np.random.default_rng(0)


def test_softmax_is_stable_and_normalised():
    p = softmax(np.array([[1000.0, 10000.0, 100000.0], [1.0, 2.0, 3.0]]))
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[1], torch.softmax(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), 0).numpy())


def test_cross_entropy_accuracy_and_bias_trick():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    y = np.array([0, 1])
    assert cross_entropy(probs, one_hot(y, 3)) == pytest.approx(-(np.log(0.7) + np.log(0.1)) / 2)
    assert accuracy(probs, y) == 0.5
    x = add_bias_column(np.zeros((4, 2)))
    assert x.shape == (4, 3) and (x[:, -1] == 1).all()


def test_linear_model_gradient_matches_autograd():
    x, y = add_bias_column(RNG.standard_normal((8, 5))), RNG.integers(0, 3, 8)
    model = LinearModel(5, 3)
    model.W = RNG.standard_normal(model.W.shape)
    grad = model.backward(one_hot(y, 3), model.forward(x))
    w = tg.Tensor(model.W.copy(), requires_grad=True)
    loss = -(tg.Tensor(x) @ w).log_softmax(axis=1)[np.arange(8), y].mean()
    loss.backward()
    np.testing.assert_allclose(grad, w.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert cross_entropy(model.forward(x), one_hot(y, 3)) == pytest.approx(loss.item(), rel=1e-10)


def test_adam_update_matches_torch_adam():
    model = LinearModel(3, 2)
    w = torch.tensor(model.W.copy(), requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.05)
    for step in range(5):
        grad = np.sin(np.arange(8.0).reshape(4, 2) + step)
        model.adam_update(grad, 0.05)
        w.grad = torch.tensor(grad)
        opt.step()
    np.testing.assert_allclose(model.W, w.detach().numpy(), rtol=1e-10)
    assert model.adam.t == 5


@pytest.mark.parametrize("depth", [1, 3, 5])
def test_manual_mlp_matches_autograd_float64(depth):
    tg.manual_seed(depth)
    manual = ManualMLP(n_features=7, n_hidden=6, n_hidden_layers=depth, n_classes=4)  # random He-normal weights
    manual.biases = [RNG.standard_normal(b.shape) * 0.5 for b in manual.biases]
    x, y = RNG.standard_normal((10, 7)), RNG.integers(0, 4, 10)
    probs = manual.forward(x)
    grads_w, grads_b = manual.backward(one_hot(y, 4), probs)
    loss, auto_w, auto_b = AutogradMLP(manual).loss_and_gradients(x, y)
    assert cross_entropy(probs, one_hot(y, 4)) == pytest.approx(loss, rel=1e-12)
    assert len(grads_w) == len(auto_w) == depth + 1
    for layer, (gm, ga, bm, ba) in enumerate(zip(grads_w, auto_w, grads_b, auto_b)):
        np.testing.assert_allclose(gm, ga, rtol=1e-10, atol=1e-13, err_msg=f"weights of layer {layer}")
        np.testing.assert_allclose(bm, ba, rtol=1e-10, atol=1e-13, err_msg=f"biases of layer {layer}")


def test_manual_mlp_gradient_matches_finite_differences():
    manual = ManualMLP(4, 5, 2, 3)
    x, y = RNG.standard_normal((6, 4)), RNG.integers(0, 3, 6)
    grads_w, _ = manual.backward(one_hot(y, 3), manual.forward(x))
    w, eps = manual.weights[1], 1e-6
    for idx in [(0, 0), (2, 3), (4, 1)]:
        original = w[idx]
        w[idx] = original + eps
        plus = cross_entropy(manual.forward(x), one_hot(y, 3))
        w[idx] = original - eps
        minus = cross_entropy(manual.forward(x), one_hot(y, 3))
        w[idx] = original
        assert grads_w[1][idx] == pytest.approx((plus - minus) / (2 * eps), rel=1e-5, abs=1e-9)


def test_manual_seed_fixes_the_init_and_float32_stays_float32():
    tg.manual_seed(3)
    first = ManualMLP(4, 5, 2, 3, dtype=np.float32)
    tg.manual_seed(3)
    second = ManualMLP(4, 5, 2, 3, dtype=np.float32)
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(a, b)
    x, y = RNG.standard_normal((6, 4)).astype(np.float32), RNG.integers(0, 3, 6)
    probs = first.forward(x)
    first.adam_update(*first.backward(one_hot(y, 3, np.float32), probs), 1e-3)
    assert probs.dtype == np.float32 and all(w.dtype == np.float32 for w in first.weights + first.biases)
    assert np.std(ManualMLP(400, 300, 1, 3).weights[0]) == pytest.approx(np.sqrt(2 / 400), rel=0.02)  # He init


def blobs(n=600, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.standard_normal((n, 2)) * 0.5 + np.array([[2, 0], [-2, 0], [0, 2.5]])[y]
    return x, y


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.5), ("adam", 0.05)])
@pytest.mark.parametrize("kind", ["linear", "mlp"])
def test_fit_learns_logs_epoch_zero_and_keeps_the_best(kind, optimizer, lr):
    x, y = blobs()
    train, valid = split_train_valid(x, y, 0.1, seed=0)
    assert len(train[0]) == 540 and len(valid[0]) == 60
    if kind == "linear":
        train, valid = (add_bias_column(train[0]), train[1]), (add_bias_column(valid[0]), valid[1])
        model = LinearModel(2, 3)
    else:
        model = ManualMLP(2, 16, 2, 3)
    tg.manual_seed(0)
    best, logs = fit(model, train, valid, 3, optimizer=optimizer, lr=lr, batch_size=20, epochs=4)
    assert all(len(v) == 5 for v in logs.values())
    assert logs["valid_acc"][0] < 0.7 and max(logs["valid_acc"]) > 0.9
    assert logs["train_loss"][-1] < logs["train_loss"][0]
    assert accuracy(best.forward(valid[0]), valid[1]) == max(logs["valid_acc"])


def test_fit_rejects_an_unknown_optimizer():
    with pytest.raises(ValueError, match="optimizer must be 'sgd' or 'adam', got 'rmsprop'"):
        fit(LinearModel(2, 3), blobs(), blobs(), 3, optimizer="rmsprop")


@pytest.mark.skipif(not tg.cuda_available(), reason="needs CuPy and a CUDA GPU")
def test_manual_mlp_on_cupy_matches_numpy():
    from tinygrad_ift.backend import to_device, to_numpy
    cuda = tg.Device("cuda")
    manual = ManualMLP(7, 6, 2, 4, device="cuda")
    assert all(tg.backend.device_of(w) == cuda for w in manual.weights)
    x, y = RNG.standard_normal((10, 7)), RNG.integers(0, 4, 10)
    probs = manual.forward(to_device(x, cuda))
    grads_w, grads_b = manual.backward(one_hot(to_device(y, cuda), 4), probs)
    on_cpu = ManualMLP(7, 6, 2, 4)
    on_cpu.weights, on_cpu.biases = [to_numpy(w) for w in manual.weights], [to_numpy(b) for b in manual.biases]
    cpu_w, cpu_b = on_cpu.backward(one_hot(y, 4), on_cpu.forward(x))
    for gpu, cpu in zip(grads_w + grads_b, cpu_w + cpu_b):
        np.testing.assert_allclose(to_numpy(gpu), cpu, rtol=1e-9, atol=1e-12)
    _, auto_w, _ = AutogradMLP(manual).loss_and_gradients(to_device(x, cuda), to_device(y, cuda))
    np.testing.assert_allclose(to_numpy(auto_w[0]), cpu_w[0], rtol=1e-9, atol=1e-12)
    train = (to_device(x, cuda), to_device(y, cuda))
    _, logs = fit(manual, train, train, 4, optimizer="adam", lr=1e-2, batch_size=5, epochs=2)
    assert len(logs["valid_acc"]) == 3 and np.isfinite(logs["train_loss"]).all()
