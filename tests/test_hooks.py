"""Tensor.register_hook against torch: what the hook sees, replacing the gradient, removal, errors."""
import numpy as np
import pytest
import torch

import tinygrad_ift as tg


def _run(lib, x_np, hook_on):
    """y = (x * 3).tanh(), loss = (y * y + y).sum(); hooks on x (leaf) and y (used twice); returns seen grads."""
    x = lib.tensor(x_np, requires_grad=True)
    y = (x * 3).tanh()
    seen = {}
    if "y" in hook_on:
        y.register_hook(lambda g: seen.__setitem__("y", np.array(g.detach().numpy())))
    if "x" in hook_on:
        x.register_hook(lambda g: seen.__setitem__("x", np.array(g.detach().numpy())))
    if lib is not torch:
        x.register_hook(lambda g: seen.__setitem__("device", g.device))
    (y * y + y).sum().backward()
    return seen, x.grad.numpy()


def test_hook_sees_the_gradient_summed_over_every_use_as_torch(tg_on):
    x_np = np.array([0.3, -0.7, 1.2])
    ours, ours_grad = _run(tg_on, x_np, "xy")
    theirs, theirs_grad = _run(torch, x_np, "xy")
    assert ours.pop("device") == tg_on.device  # the hook sees a gradient on the tensor's device
    for key in "xy":
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12)
    np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-12)


def test_hook_return_value_replaces_the_gradient_upstream(tg_on, device):
    results = []
    for lib in (tg_on, torch):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * x
        y.register_hook(lambda g: g * 10)  # on our side a tensor on `device`, and so the replacement
        x.register_hook(lambda g: g + 1)
        y.sum().backward()
        results.append(x.grad.numpy())
    np.testing.assert_allclose(results[0], results[1])
    np.testing.assert_allclose(results[0], [21.0, -39.0, 61.0])


def test_removed_hook_is_not_called_and_hooks_run_in_order():
    calls = []
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    first = x.register_hook(lambda g: calls.append("first"))
    x.register_hook(lambda g: calls.append("second") or g * 2)
    (x * 1.0).sum().backward()
    assert calls == ["first", "second"]
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    first.remove()
    x.zero_grad()
    (x * 1.0).sum().backward()
    assert calls == ["first", "second", "second"]


def test_hook_errors():
    with pytest.raises(RuntimeError, match="register_hook.*does not require grad"):
        tg.tensor([1.0]).register_hook(lambda g: g)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(ValueError, match=r"register_hook.*shape \(\).*\(2,\)"):
        (x * 2).sum().backward()


def test_hook_on_an_intermediate_runs_after_the_code_drops_the_tensor_as_torch(tg_on):
    """`h = layer(h); h.register_hook(...); h = next_layer(h)`: the rebound tensor's hook still runs."""
    seen = {}
    for name, lib in (("ours", tg_on), ("torch", torch)):
        x = lib.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
        h = x * 2
        h.register_hook(lambda g, name=name: seen.__setitem__(name, np.array(g.detach().numpy())))
        h = (h * h).sum()
        h.backward()
    np.testing.assert_allclose(seen["ours"], seen["torch"], rtol=1e-12)
