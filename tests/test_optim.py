"""Optimisers and schedules: 20-step trajectories equal PyTorch's; lr sequences equal; state dicts resume."""
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
    """A small regression loss with a nonlinearity, identical in both libraries."""
    dtype = w.numpy().dtype if lib is tg else w.detach().numpy().dtype
    x, y = X.astype(dtype), Y.astype(dtype)
    x, y = (tg.Tensor(x), tg.Tensor(y)) if lib is tg else (torch.tensor(x), torch.tensor(y))
    pred = (x @ w + b).tanh()
    return ((pred - y) ** 2).mean() + (w ** 2).sum() * 0.01


def run(make_ours, make_theirs, steps=20, groups=False, dtype=np.float64, ours_params=None):
    w, b = tg.Tensor(W0.astype(dtype), requires_grad=True), tg.Tensor(B0.astype(dtype), requires_grad=True)
    tw, tb = torch.tensor(W0.astype(dtype), requires_grad=True), torch.tensor(B0.astype(dtype), requires_grad=True)
    if groups:
        ours = make_ours([{"params": [w]}, {"params": [b], "lr": 0.05}])
        theirs = make_theirs([{"params": [tw]}, {"params": [tb], "lr": 0.05}])
    else:
        ours, theirs = make_ours([w, b]), make_theirs([tw, tb])
    for _ in range(steps):
        for opt, params, lib in ((ours, (w, b), tg), (theirs, (tw, tb), torch)):
            opt.zero_grad()
            loss_of(*params, lib).backward()
            opt.step()
    return (w, b), (tw, tb), ours


SETTINGS = [
    ("sgd", lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    ("sgd_momentum", lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ("sgd_dampening", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.3),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.3)),
    ("sgd_nesterov_wd", lambda p: optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("sgd_wd", lambda p: optim.SGD(p, lr=0.1, weight_decay=5e-4), lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=5e-4)),
    ("adam", lambda p: optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    ("adam_wd_betas", lambda p: optim.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, eps=1e-6),
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, eps=1e-6)),
    ("adam_amsgrad", lambda p: optim.Adam(p, lr=0.01, amsgrad=True), lambda p: torch.optim.Adam(p, lr=0.01, amsgrad=True)),
    ("adamw", lambda p: optim.AdamW(p, lr=0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
    ("adamw_amsgrad_wd", lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.5, amsgrad=True),
     lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.5, amsgrad=True)),
]


@pytest.mark.parametrize("groups", [False, True], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("name,ours,theirs", SETTINGS, ids=[s[0] for s in SETTINGS])
def test_trajectory_matches_torch_float64(name, ours, theirs, groups):
    mine, ref, _ = run(ours, theirs, groups=groups)
    for m, r in zip(mine, ref):
        np.testing.assert_allclose(m.numpy(), r.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,ours,theirs", SETTINGS[::3], ids=[s[0] for s in SETTINGS[::3]])
def test_trajectory_matches_torch_float32(name, ours, theirs):
    mine, ref, _ = run(ours, theirs, dtype=np.float32)
    for m, r in zip(mine, ref):
        assert m.dtype == np.float32
        np.testing.assert_allclose(m.numpy(), r.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                                  lambda p: optim.Adam(p, lr=0.01, amsgrad=True)])
def test_state_dict_round_trip_continues_identically(make):
    (w, b), _, opt = run(make, lambda p: torch.optim.SGD(p, lr=0.1), steps=5)
    state = opt.state_dict()
    clone_w, clone_b = tg.Tensor(w.numpy().copy(), requires_grad=True), tg.Tensor(b.numpy().copy(), requires_grad=True)
    clone = make([clone_w, clone_b])
    clone.load_state_dict(state)
    for o, params in ((opt, (w, b)), (clone, (clone_w, clone_b))):
        for _ in range(3):
            o.zero_grad()
            loss_of(*params, tg).backward()
            o.step()
    np.testing.assert_array_equal(w.numpy(), clone_w.numpy())
    np.testing.assert_array_equal(b.numpy(), clone_b.numpy())


def _lrs(make_sched, opt, steps, per_step=None):
    sched = make_sched(opt)
    out = []
    for _ in range(steps):
        out.append(sched.get_last_lr()[0])
        if per_step:
            per_step(opt)
        sched.step()
    return out


SCHEDULES = [
    ("step", lambda o: lr_scheduler.StepLR(o, 7, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 7, gamma=0.5), 40),
    ("multistep", lambda o: lr_scheduler.MultiStepLR(o, [5, 12, 30], 0.3),
     lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [5, 12, 30], 0.3), 40),
    ("cosine", lambda o: lr_scheduler.CosineAnnealingLR(o, 15, eta_min=0.01),
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 15, eta_min=0.01), 50),
    ("linear_warmup", lambda o: lr_scheduler.LinearLR(o, 0.1, 1.0, 8),
     lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.1, 1.0, 8), 20),
    ("onecycle", lambda o: lr_scheduler.OneCycleLR(o, 0.5, total_steps=50),
     lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.5, total_steps=50), 50),
    ("onecycle_3phase_linear", lambda o: lr_scheduler.OneCycleLR(o, 0.5, epochs=5, steps_per_epoch=9, three_phase=True,
                                                                 anneal_strategy="linear"),
     lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.5, epochs=5, steps_per_epoch=9, three_phase=True,
                                                   anneal_strategy="linear"), 45),
]


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
@pytest.mark.parametrize("name,ours,theirs,steps", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedule_matches_torch(name, ours, theirs, steps, opt_name):
    p, tp = tg.Tensor(np.ones(2), requires_grad=True), torch.ones(2, requires_grad=True)
    if opt_name == "sgd":
        opt, topt = optim.SGD([p], lr=0.2, momentum=0.9), torch.optim.SGD([tp], lr=0.2, momentum=0.9)
    else:
        opt, topt = optim.Adam([p], lr=0.2), torch.optim.Adam([tp], lr=0.2)
    mine = _lrs(ours, opt, steps)
    expected = _lrs(theirs, topt, steps, per_step=lambda o: o.step())
    np.testing.assert_allclose(mine, expected, rtol=1e-10, atol=1e-14)
    key = "momentum" if opt_name == "sgd" else "betas"
    assert opt.param_groups[0][key] == pytest.approx(topt.param_groups[0][key])


@pytest.mark.parametrize("make,message", [
    (lambda p: optim.SGD(p, lr=-0.1), "lr must be >= 0, got -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "momentum"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"betas\[0\] must be in \[0, 1\), got 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"betas\[1\]"),
    (lambda p: optim.AdamW(p, lr=-1.0), "lr must be >= 0"),
    (lambda p: optim.Adam(p, eps=-1.0), "eps"),
    (lambda p: optim.Adam([]), "empty"),
    (lambda p: optim.SGD([tg.Tensor([1.0])]), "requires_grad"),
])
def test_bad_construction(make, message):
    with pytest.raises(ValueError, match=message):
        make([tg.Tensor([1.0], requires_grad=True)])
