"""The Module system: registration, traversal, modes, devices, state dicts, hooks, init and save/load."""
import math
import os

import numpy as np
import pytest
import torch

import tinygrad_ift as tg
import tinygrad_ift.nn.functional as F
from tinygrad_ift import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.blocks = nn.ModuleList([nn.Linear(8, 4)]) + [nn.Linear(4, 3)]
        self.scale = 2.0

    def forward(self, x):
        h = self.bn(self.conv(x)).relu().flatten(1)
        for block in self.blocks:
            h = block(h)
        return h * self.scale


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 3)
        self.bn = torch.nn.BatchNorm2d(2)
        self.blocks = torch.nn.ModuleList([torch.nn.Linear(8, 4), torch.nn.Linear(4, 3)])


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["conv.weight", "conv.bias", "bn.weight", "bn.bias", "blocks.0.weight", "blocks.0.bias",
                     "blocks.1.weight", "blocks.1.bias"]
    assert [n for n, _ in net.named_buffers()] == ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [type(m).__name__ for m in net.children()] == ["Conv2d", "BatchNorm2d", "ModuleList"]
    assert len(list(net.modules())) == 6 and isinstance(net.blocks[1], nn.Linear) and len(net.blocks) == 2
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert "(blocks): ModuleList" in repr(net) and "Linear(in_features=8" in repr(net)


def test_state_dict_keys_match_torch_and_load_by_name():
    net, ref = Net(), TorchNet()
    assert list(net.state_dict()) == list(ref.state_dict())
    net.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    np.testing.assert_array_equal(net.conv.weight.numpy(), ref.conv.weight.detach().numpy())


def test_load_state_dict_reports_keys_and_shapes():
    net = Net()
    state = {k: v.numpy() for k, v in net.state_dict().items()}
    state.pop("bn.bias")
    state["extra.weight"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"missing keys: \['bn.bias'\].*unexpected keys: \['extra.weight'\]"):
        net.load_state_dict(state)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == ["bn.bias"] and unexpected == ["extra.weight"]
    state = {k: v.numpy() for k, v in net.state_dict().items()}
    state["conv.weight"] = np.zeros((3, 1, 3, 3))
    with pytest.raises(KeyError, match=r"conv.weight: shape \(3, 1, 3, 3\).*\(2, 1, 3, 3\)"):
        net.load_state_dict(state)


def test_train_eval_zero_grad_apply():
    net = Net()
    assert net.eval() is net and not net.bn.training and not net.blocks[0].training
    net.train()
    assert net.bn.training
    net(tg.randn(2, 1, 4, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Net" and "Conv2d" in visited


def test_batchnorm_counts_batches():
    net = Net()
    for _ in range(3):
        net(tg.randn(2, 1, 4, 4))
    assert net.bn.num_batches_tracked.item() == 3


def test_hooks_record_every_layers_gradient_norm():
    net = Net()
    norms, outputs = {}, []
    handles = []
    for name, module in net.named_modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            handles.append(module.register_full_backward_hook(
                lambda m, gi, go, name=name: norms.__setitem__(name, float((go[0] * go[0]).sum().sqrt().item()))))
            handles.append(module.register_forward_hook(lambda m, i, o: outputs.append(o.shape)))
    net(tg.randn(2, 1, 4, 4)).sum().backward()
    assert set(norms) == {"conv", "blocks.0", "blocks.1"} and all(v > 0 for v in norms.values())
    assert outputs[0] == (2, 2, 2, 2)
    for h in handles:
        h.remove()
    norms.clear()
    net(tg.randn(2, 1, 4, 4)).sum().backward()
    assert norms == {}


def test_save_load_round_trip_is_atomic(tmp_path, monkeypatch):
    net = Net()
    path = tmp_path / "model.npz"
    tg.save(net.state_dict(), path)
    other = Net()
    other.load_state_dict(tg.load(path))
    for (name, a), b in zip(net.state_dict().items(), other.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(RuntimeError):
        tg.save(net.state_dict(), tmp_path / "broken.npz")
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    with pytest.raises(FileNotFoundError, match="broken.npz"):
        tg.load(tmp_path / "broken.npz")


def test_sequential_and_identity():
    seq = nn.Sequential(nn.Linear(3, 4), nn.Identity(), nn.Tanh())
    assert len(seq) == 3 and isinstance(seq[0], nn.Linear) and len(seq[1:]) == 2
    assert seq(tg.randn(2, 3)).shape == (2, 4)


# ----- init: the same distributions as PyTorch's ---------------------------------------------------------
def _stats(t):
    data = t.numpy() if not t.requires_grad else t.detach().numpy()
    return data.mean(), data.std(), data.min(), data.max()


def test_default_inits_match_torch_bounds():
    tg.manual_seed(0)
    linear, conv = nn.Linear(400, 300), nn.Conv2d(16, 32, 3)
    for layer, fan_in in ((linear, 400), (conv, 16 * 9)):
        bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives the same bound as the bias
        _, std, lo, hi = _stats(layer.weight)
        assert -bound <= lo and hi <= bound and abs(std - bound / math.sqrt(3)) < 0.05 * bound
        _, _, lo, hi = _stats(layer.bias)
        assert -bound <= lo and hi <= bound


@pytest.mark.parametrize("fn,expected_std", [
    (lambda t: nn.init.xavier_normal_(t), math.sqrt(2 / (200 + 100))),
    (lambda t: nn.init.xavier_uniform_(t), math.sqrt(6 / 300) / math.sqrt(3)),
    (lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 100)),
    (lambda t: nn.init.normal_(t, 1.0, 0.5), 0.5),
    (lambda t: nn.init.uniform_(t, -2, 2), 4 / math.sqrt(12)),
])
def test_init_distributions(fn, expected_std):
    tg.manual_seed(0)
    t = nn.Parameter(np.zeros((100, 200), dtype=np.float32))
    fn(t)
    _, std, _, _ = _stats(t)
    assert abs(std - expected_std) < 0.03 * expected_std
    nn.init.constant_(t, 3.0)
    assert _stats(t)[0] == 3.0
    nn.init.zeros_(t)
    assert _stats(t)[3] == 0.0


def test_init_is_seeded():
    tg.manual_seed(3)
    a = nn.Linear(5, 5).weight.numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Linear(5, 5).weight.detach().numpy())


def test_cross_entropy_module_and_functional_agree():
    logits, labels = tg.randn(4, 3), np.array([0, 1, 2, 1])
    assert nn.CrossEntropyLoss()(logits, labels).item() == F.cross_entropy(logits, labels).item()
