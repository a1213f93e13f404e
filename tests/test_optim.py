"""Optimisers and schedules against PyTorch: 20-step trajectories, lr sequences, state-dict resumes, bad input.

Tolerances: float64 trajectories agree to rtol 1e-10 (only the order of floating-point operations differs);
float32 ones to rtol 1e-4 / atol 1e-5 (20 steps of accumulated float32 rounding); lr sequences to rtol 1e-10.
"""
import pickle

import numpy as np
import pytest
import torch

import tinygrad_ift as tg
from tinygrad_ift import optim
from tinygrad_ift.optim import lr_scheduler

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((16, 5)), RNG.standard_normal((16, 3))
W0, B0 = RNG.standard_normal((5, 3)), RNG.standard_normal(3)


def loss_of(w, b, lib):
    """A small regression loss with a nonlinearity and an L2 term, written the same in both libraries."""
    if lib is tg:
        x, y = (tg.Tensor(a.astype(w.dtype), device=w.device) for a in (X, Y))
    else:
        x, y = (torch.tensor(a, dtype=w.dtype) for a in (X, Y))
    pred = (x @ w + b).tanh()
    return ((pred - y) ** 2).mean() + (w ** 2).sum() * 0.01


def make_params(lib, dtype=np.float64, device="cpu"):
    if lib is tg:
        return [tg.Tensor(a.astype(dtype), requires_grad=True, device=device) for a in (W0, B0)]
    return [torch.tensor(a.astype(dtype), requires_grad=True) for a in (W0, B0)]


def grouped(params, groups):
    """Two groups (weights at the default lr, biases at lr 0.05) or one list."""
    return [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}] if groups else params


def train(opt, params, lib, steps, scheduler=None):
    for _ in range(steps):
        opt.zero_grad()
        loss_of(*params, lib).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


SETTINGS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
    "sgd_dampening": ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    "sgd_nesterov": ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True)),
    "sgd_weight_decay": ("SGD", dict(lr=0.1, weight_decay=0.05)),
    "sgd_nesterov_weight_decay": ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01)),
    "adam": ("Adam", dict(lr=0.01)),
    "adam_weight_decay_betas_eps": ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, eps=1e-6)),
    "adam_amsgrad": ("Adam", dict(lr=0.01, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.01)),
    "adamw_amsgrad": ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
}


def both(name, dtype=np.float64, groups=False, device="cpu"):
    """(our optimiser, our params on `device`), (torch's optimiser, torch's params) for a setting."""
    cls, kwargs = SETTINGS[name]
    ours, theirs = make_params(tg, dtype, device), make_params(torch, dtype)
    return ((getattr(optim, cls)(grouped(ours, groups), **kwargs), ours),
            (getattr(torch.optim, cls)(grouped(theirs, groups), **kwargs), theirs))


def assert_close(ours, theirs, rtol=1e-10, atol=1e-12):
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("groups", [False, True], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("name", list(SETTINGS))
def test_trajectory_matches_torch_float64(name, groups, device):
    (opt, params), (topt, tparams) = both(name, groups=groups, device=device)
    train(opt, params, tg, 20)
    train(topt, tparams, torch, 20)
    assert_close(params, tparams)


@pytest.mark.parametrize("name", ["sgd_nesterov_weight_decay", "adam_amsgrad", "adamw"])
def test_trajectory_matches_torch_float32(name, device):
    (opt, params), (topt, tparams) = both(name, dtype=np.float32, device=device)
    train(opt, params, tg, 20)
    train(topt, tparams, torch, 20)
    assert all(p.dtype == np.float32 for p in params)
    assert all(s.dtype == np.float32 for state in opt.state.values() for s in state.values() if hasattr(s, "dtype"))
    assert_close(params, tparams, rtol=1e-4, atol=1e-5)


def test_add_param_group_matches_torch():
    params, tparams = make_params(tg), make_params(torch)
    opt, topt = optim.Adam([params[0]], lr=0.02), torch.optim.Adam([tparams[0]], lr=0.02)
    train(opt, params, tg, 3)
    train(topt, tparams, torch, 3)
    opt.add_param_group({"params": params[1], "lr": 0.1, "amsgrad": True})
    topt.add_param_group({"params": tparams[1], "lr": 0.1, "amsgrad": True})
    assert [g["lr"] for g in opt.param_groups] == [0.02, 0.1]
    train(opt, params, tg, 10)
    train(topt, tparams, torch, 10)
    assert_close(params, tparams)


def test_parameters_without_gradient_are_skipped_and_gradients_are_not_written():
    w, b = make_params(tg)
    opt = optim.AdamW([w, b], lr=0.1, weight_decay=0.1)
    (w * 3.0).sum().backward()
    grad_array, b_before = w.grad.data, b.data.copy()
    opt.step()
    assert b.grad is None and b not in opt.state and np.array_equal(b.data, b_before)
    assert w.grad.data is grad_array and np.all(grad_array == 3.0)
    assert opt.state[w]["step"] == 1 and not np.allclose(w.numpy(), W0)


def test_zero_grad_and_closure():
    w, b = make_params(tg)
    opt = optim.SGD([w, b], lr=0.1)
    loss = opt.step(lambda: loss_of(w, b, tg))
    assert isinstance(loss, tg.Tensor) and w.grad is None  # the closure only computes the loss here
    loss_of(w, b, tg).backward()
    shared = w.grad.data
    opt.zero_grad(set_to_none=False)
    assert np.all(w.grad.numpy() == 0) and w.grad.shape == w.shape and w.grad.data is not shared
    assert not np.all(shared == 0)  # replaced, not zeroed in place
    opt.zero_grad()
    assert w.grad is None and b.grad is None


@pytest.mark.parametrize("name", ["sgd_momentum", "adam_amsgrad", "adamw"])
def test_state_dict_round_trip_continues_identically(name):
    (opt, params), _ = both(name, groups=True)
    train(opt, params, tg, 5)
    state = pickle.loads(pickle.dumps(opt.state_dict()))  # plain values and host arrays only
    assert sorted(state["state"]) == [0, 1] and state["param_groups"][1]["params"] == [1]
    clone_params = [tg.Tensor(p.numpy().copy(), requires_grad=True) for p in params]
    clone = type(opt)(grouped(clone_params, True), lr=0.5)  # other options: loading replaces them
    clone.load_state_dict(state)
    assert [g["lr"] for g in clone.param_groups] == [g["lr"] for g in opt.param_groups]
    train(opt, params, tg, 4)
    train(clone, clone_params, tg, 4)
    for p, q in zip(params, clone_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_state_dict_is_a_snapshot_and_load_checks_shapes():
    (opt, params), _ = both("adam")
    train(opt, params, tg, 2)
    state = opt.state_dict()
    saved = state["state"][0]["exp_avg"].copy()
    train(opt, params, tg, 2)
    np.testing.assert_array_equal(state["state"][0]["exp_avg"], saved)
    with pytest.raises(ValueError, match=r"sizes \[2\].*\[1\]"):
        optim.Adam([tg.Tensor(W0, requires_grad=True)]).load_state_dict(state)
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(5, 3\).*\(3,\)"):
        optim.Adam([tg.Tensor(B0, requires_grad=True), tg.Tensor(W0, requires_grad=True)]).load_state_dict(state)


def test_repr_lists_groups():
    text = repr(optim.SGD([tg.Tensor([1.0], requires_grad=True)], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


@pytest.mark.parametrize("make,error,message", [
    (lambda p: optim.SGD(p, lr=-0.1), ValueError, r"SGD: lr must be >= 0, got -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), ValueError, r"SGD: momentum must be >= 0, got -1"),
    (lambda p: optim.SGD(p, weight_decay=-1e-4), ValueError, r"SGD: weight_decay must be >= 0, got -0.0001"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), ValueError, r"nesterov=True needs momentum > 0.*momentum=0"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), ValueError, r"dampening=0.1"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), ValueError, r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), ValueError, r"betas\[1\] must be in \[0, 1\), got -0.1"),
    (lambda p: optim.AdamW(p, lr=-1.0), ValueError, r"AdamW: lr must be >= 0"),
    (lambda p: optim.Adam(p, eps=-1.0), ValueError, r"Adam: eps must be >= 0, got -1.0"),
    (lambda p: optim.AdamW(p, weight_decay=-0.5), ValueError, r"AdamW: weight_decay must be >= 0, got -0.5"),
    (lambda p: optim.Adam([{"params": p, "lr": -2.0}]), ValueError, r"lr must be >= 0, got -2.0"),
    (lambda p: optim.Adam([]), ValueError, r"Adam: got an empty parameter list"),
    (lambda p: optim.SGD([tg.Tensor([1.0])]), ValueError, r"parameter 0 of group 0 .*requires_grad=False"),
    (lambda p: optim.SGD(p + [np.ones(2)]), ValueError, r"parameter 1 of group 0 .*got ndarray"),
    (lambda p: optim.SGD(p[0]), TypeError, r"got a single Tensor of shape \(1,\); wrap it in a list"),
    (lambda p: optim.SGD([{"params": p}, {"params": p}]), ValueError, r"appear twice"),
    (lambda p: optim.SGD([{"lr": 0.1}]), TypeError, r"'params' entry"),
])
def test_bad_construction(make, error, message):
    with pytest.raises(error, match=message):
        make([tg.Tensor([1.0], requires_grad=True)])


# ----- learning-rate schedules -------------------------------------------------------------------------

SCHEDULES = {
    "step": ("StepLR", (7,), dict(gamma=0.5), 40),
    "multistep": ("MultiStepLR", ([12, 5, 30, 30],), dict(gamma=0.3), 40),
    "cosine": ("CosineAnnealingLR", (15,), dict(eta_min=0.01), 50),
    "linear_warmup": ("LinearLR", (), dict(start_factor=0.1, total_iters=8), 20),
    "linear_defaults": ("LinearLR", (), {}, 10),
    "onecycle": ("OneCycleLR", (0.5,), dict(total_steps=50), 50),
    "onecycle_3phase_linear": ("OneCycleLR", ([0.5, 0.1],), dict(epochs=5, steps_per_epoch=9, three_phase=True,
                                                                 anneal_strategy="linear"), 45),
}


def both_optimisers(opt_name):
    """Two parameter groups with different lrs, so per-group lrs are checked too."""
    p, q, tp, tq = (tg.Tensor(np.ones(2), requires_grad=True), tg.Tensor(np.ones(3), requires_grad=True),
                    torch.ones(2, requires_grad=True), torch.ones(3, requires_grad=True))
    cls, kwargs = ("SGD", dict(momentum=0.9)) if opt_name == "sgd" else ("Adam", {})
    return (getattr(optim, cls)([{"params": [p]}, {"params": [q], "lr": 0.05}], lr=0.2, **kwargs),
            getattr(torch.optim, cls)([{"params": [tp]}, {"params": [tq], "lr": 0.05}], lr=0.2, **kwargs))


def lr_sequence(sched, opt, steps):
    """The lrs and momenta at each of `steps` steps (the optimiser steps first, as PyTorch expects)."""
    key = "momentum" if "momentum" in opt.param_groups[0] else "betas"
    out = []
    for _ in range(steps):
        out.append(sched.get_last_lr() + [np.ravel(g[key]).tolist() for g in opt.param_groups])
        opt.step()
        sched.step()
    return out


def make_schedule(lib, name, opt):
    cls, args, kwargs, _ = SCHEDULES[name]
    return getattr(lib.optim.lr_scheduler if lib is torch else lr_scheduler, cls)(opt, *args, **kwargs)


def assert_same_sequence(mine, expected):
    assert len(mine) == len(expected)
    for got, want in zip(mine, expected):
        np.testing.assert_allclose(np.hstack(got), np.hstack(want), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name, opt_name):
    opt, topt = both_optimisers(opt_name)
    steps = SCHEDULES[name][3]
    mine = lr_sequence(make_schedule(tg, name, opt), opt, steps)
    expected = lr_sequence(make_schedule(torch, name, topt), topt, steps)
    assert_same_sequence(mine, expected)


def test_sequential_warmup_then_cosine_matches_torch():
    def sequence(lib, opt):
        mod = torch.optim.lr_scheduler if lib is torch else lr_scheduler
        warmup = mod.LinearLR(opt, start_factor=0.2, end_factor=0.5, total_iters=4)
        cosine = mod.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
        decay = mod.StepLR(opt, step_size=3, gamma=0.5)
        return lr_sequence(mod.SequentialLR(opt, [warmup, cosine, decay], milestones=[4, 14]), opt, 25)

    opt, topt = both_optimisers("sgd")
    assert_same_sequence(sequence(tg, opt), sequence(torch, topt))


@pytest.mark.parametrize("name", ["cosine", "onecycle", "sequential"])
def test_scheduler_state_dict_round_trip_continues_identically(name):
    def build():
        opt, _ = both_optimisers("adam")
        if name != "sequential":
            return opt, make_schedule(tg, name, opt)
        warmup, cosine = lr_scheduler.LinearLR(opt, total_iters=3), lr_scheduler.CosineAnnealingLR(opt, 10)
        return opt, lr_scheduler.SequentialLR(opt, [warmup, cosine], milestones=[3])

    opt, sched = build()
    lr_sequence(sched, opt, 7)
    saved_opt, saved_sched = pickle.loads(pickle.dumps((opt.state_dict(), sched.state_dict())))
    clone_opt, clone_sched = build()
    clone_opt.load_state_dict(saved_opt)
    clone_sched.load_state_dict(saved_sched)
    assert clone_sched.last_epoch == sched.last_epoch and clone_sched.get_last_lr() == sched.get_last_lr()
    assert lr_sequence(clone_sched, clone_opt, 12) == lr_sequence(sched, opt, 12)


def test_training_with_onecycle_matches_torch():
    """The scheduler's lrs and cycled momenta feed the updates: a full run agrees with PyTorch's."""
    (opt, params), (topt, tparams) = both("sgd_nesterov")
    train(opt, params, tg, 20, lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=20))
    train(topt, tparams, torch, 20, torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.3, total_steps=20))
    assert_close(params, tparams)


def test_onecycle_refuses_to_run_past_total_steps():
    opt, _ = both_optimisers("sgd")
    sched = lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="tried to step 4 times, but total_steps is 3"):
        sched.step()


@pytest.mark.parametrize("make,error,message", [
    (lambda o: lr_scheduler.StepLR(o, 0), ValueError, r"StepLR: step_size must be a positive integer, got 0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, r"T_max must be > 0, got 0"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, r"start_factor must be in \(0, 1\], got 0"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), ValueError, r"end_factor must be in \[0, 1\], got 1.5"),
    (lambda o: lr_scheduler.LinearLR(o, total_iters=0), ValueError, r"total_iters must be a positive integer"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1), ValueError, r"give total_steps, or both epochs and steps_per"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=0), ValueError, r"steps_per_epoch must"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 10, pct_start=1.5), ValueError, r"pct_start must be in \[0, 1\]"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), ValueError, r"'cos' or 'linear'"),
    (lambda o: lr_scheduler.OneCycleLR(o, [0.1, 0.2, 0.3], 10), ValueError, r"3 values of max_lr for 2 param"),
    (lambda o: lr_scheduler.StepLR(o, 2, last_epoch=4), KeyError, r"needs 'initial_lr' in param_groups\[0\]"),
    (lambda o: lr_scheduler.StepLR("sgd", 2), TypeError, r"StepLR: expected an Optimizer, got str"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], [3]), ValueError, r"expected 0 milestones"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(both_optimisers("sgd")[0], 2)], []), ValueError,
     r"every scheduler must drive the optimiser"),
])
def test_bad_scheduler_arguments(make, error, message):
    opt, _ = both_optimisers("sgd")
    with pytest.raises(error, match=message):
        make(opt)


@pytest.mark.skipif(not tg.cuda_available(), reason="needs CuPy and a CUDA GPU")
@pytest.mark.parametrize("name", ["sgd_nesterov_weight_decay", "adam_amsgrad", "adamw"])
def test_gpu_updates_match_cpu(name):
    cls, kwargs = SETTINGS[name]
    results = {}
    for device in ("cpu", "cuda"):
        params = make_params(tg, device=device)
        opt = getattr(optim, cls)(params, **kwargs)
        train(opt, params, tg, 10)
        assert all(p.device == device for p in params)
        state = opt.state_dict()  # host arrays, loadable back onto the device
        getattr(optim, cls)(params, **kwargs).load_state_dict(state)
        results[device] = [p.cpu().numpy() for p in params]
    for a, b in zip(results["cpu"], results["cuda"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
