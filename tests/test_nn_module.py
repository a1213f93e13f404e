"""The Module system: registration, traversal, containers, modes, devices, state dicts, hooks, repr and init."""
import math
from collections import OrderedDict

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

    def forward(self, x):
        h = torch.relu(self.bn(self.conv(x))).flatten(1)
        for block in self.blocks:
            h = block(h)
        return h * 2.0


def test_registration_and_traversal_match_torch():
    net, ref = Net(), TorchNet()
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert [n for n, _ in net.named_buffers()] == ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_modules()] == [n for n, _ in ref.named_modules()]
    assert [n for n, _ in net.named_children()] == ["conv", "bn", "blocks"]
    assert [type(m).__name__ for m in net.children()] == ["Conv2d", "BatchNorm2d", "ModuleList"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert net.scale == 2.0 and "scale" not in net.state_dict()


def test_shared_parameters_are_listed_once():
    shared = nn.Linear(3, 3)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2 and len(list(seq.modules())) == 3


def test_reassigning_and_deleting_attributes_updates_registration():
    layer = nn.Linear(2, 2)
    layer.extra = nn.Parameter(np.zeros(3, dtype=np.float32))
    assert "extra" in dict(layer.named_parameters())
    layer.extra = 5  # no longer a parameter
    assert "extra" not in dict(layer.named_parameters()) and layer.extra == 5
    del layer.bias
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'missing'"):
        layer.missing


def test_forgetting_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)
    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Broken()


def test_containers():
    first, second, third = nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)
    seq = nn.Sequential(first, second, third)
    assert len(seq) == 3 and seq[0] is first and seq[-1] is third and list(seq) == [first, second, third]
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == [second, third]
    assert seq(tg.randn(2, 3)).shape == (2, 2)
    named = nn.Sequential(OrderedDict([("fc", first), ("act", second)]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"] and named.act is second

    blocks = nn.ModuleList([first])
    more = blocks + [third]
    assert isinstance(more, nn.ModuleList) and len(blocks) == 1 and list(more) == [first, third]
    blocks.append(second).extend([third])
    assert len(blocks) == 3 and blocks[2] is third and list(blocks[:2]) == [first, second]
    assert [n for n, _ in blocks.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]

    x = tg.randn(2, 3, 4, 5)
    assert nn.Identity()(x) is x
    assert nn.Flatten()(x).shape == (2, 60) and nn.Flatten(0, 2)(x).shape == (24, 5)


def test_repr_matches_torch():
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=None),
                         nn.Sequential(nn.ReLU(), nn.LayerNorm(4, bias=False)), nn.GELU("tanh"), nn.Flatten(),
                         nn.Identity(), nn.Tanh(), nn.Sigmoid(), nn.ModuleList([nn.Linear(1, 1, bias=False)]))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4, momentum=None),
                                 torch.nn.Sequential(torch.nn.ReLU(), torch.nn.LayerNorm(4, bias=False)),
                                 torch.nn.GELU("tanh"), torch.nn.Flatten(), torch.nn.Identity(), torch.nn.Tanh(),
                                 torch.nn.Sigmoid(), torch.nn.ModuleList([torch.nn.Linear(1, 1, bias=False)]))
    assert repr(ours) == repr(theirs)
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2)"


def test_train_eval_zero_grad_apply():
    net = Net()
    assert net.eval() is net and not net.bn.training and not net.blocks[0].training
    assert net.train() is net and all(m.training for m in net.modules())
    net(tg.randn(2, 1, 4, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    ours, theirs = [], []
    assert net.apply(lambda m: ours.append(type(m).__name__)) is net
    TorchNet().apply(lambda m: theirs.append(type(m).__name__))
    assert ours == [name.replace("TorchNet", "Net") for name in theirs]  # children first, depth first


def test_to_cpu_and_double():
    net = Net()
    assert net.to("cpu") is net and all(p.device == "cpu" for p in net.parameters())
    net.double()
    assert all(p.dtype == np.float64 for p in net.parameters()) and net.bn.num_batches_tracked.dtype == np.int64


@pytest.mark.skipif(not tg.cuda_available(), reason="needs CuPy and a CUDA GPU")
def test_to_cuda_moves_parameters_and_buffers():
    net = Net().to("cuda")
    assert all(t.device == "cuda:0" for t in list(net.parameters()) + list(net.buffers()))
    net(tg.randn(2, 1, 4, 4, device="cuda")).sum().backward()
    assert net.conv.weight.grad.device == "cuda:0"
    assert net.to("cpu").bn.running_mean.device == "cpu"


# ----- state dicts ---------------------------------------------------------------------------------------
def test_state_dict_keys_match_torch_and_load_by_name():
    net, ref = Net(), TorchNet()
    assert list(net.state_dict()) == list(ref.state_dict())
    result = net.load_state_dict(ref.state_dict())  # torch tensors themselves are accepted too
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(net.conv.weight.detach().numpy(), ref.conv.weight.detach().numpy())
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(net(tg.Tensor(x)).numpy(), ref(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_state_dict_shares_data_and_load_copies_in_place():
    net = nn.BatchNorm1d(3)
    state = net.state_dict()
    net(tg.randn(4, 3))
    np.testing.assert_array_equal(state["running_mean"].numpy(), net.running_mean.numpy())
    weight = net.weight
    net.load_state_dict({k: np.full(v.shape, 7, dtype=v.dtype) for k, v in state.items()})
    assert net.weight is weight and net.weight.dtype == np.float32 and net.num_batches_tracked.item() == 7


def test_load_state_dict_reports_keys_and_shapes_and_copies_nothing_on_error():
    net = Net()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    state = {k: np.zeros_like(v) for k, v in before.items()}
    state.pop("bn.bias")
    state["extra.weight"] = np.zeros(1)
    with pytest.raises(RuntimeError, match=r"missing keys: \['bn.bias'\]; unexpected keys: \['extra.weight'\]"):
        net.load_state_dict(state)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[name], err_msg=name)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == ["bn.bias"] and unexpected == ["extra.weight"]
    assert not net.conv.weight.detach().numpy().any()
    state = {k: v for k, v in before.items()}
    state["conv.weight"] = np.zeros((3, 1, 3, 3))
    with pytest.raises(RuntimeError, match=r"conv.weight: shape \(3, 1, 3, 3\) in the state dict, \(2, 1, 3, 3\)"):
        net.load_state_dict(state, strict=False)


def test_batchnorm_counts_batches_in_training_only():
    net = Net()
    for _ in range(3):
        net(tg.randn(2, 1, 4, 4))
    net.eval()(tg.randn(2, 1, 4, 4))
    assert net.bn.num_batches_tracked.item() == 3


# ----- hooks ---------------------------------------------------------------------------------------------
def _norms(grads):
    return tuple(None if g is None else float(np.linalg.norm(np.asarray(g.detach() if hasattr(g, "detach") else g)))
                 for g in grads)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_hooks_record_every_layers_gradient_norms_like_torch():
    net, ref = Net(), TorchNet()
    net.load_state_dict(ref.state_dict())
    records = {"ours": {}, "torch": {}}
    handles = []
    for model, key in ((net, "ours"), (ref, "torch")):
        for name, module in model.named_modules():
            if name and not isinstance(module, (nn.ModuleList, torch.nn.ModuleList)):
                handles.append(module.register_full_backward_hook(
                    lambda m, gi, go, name=name, key=key: records[key].__setitem__(name, (_norms(gi), _norms(go)))))
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    net(tg.Tensor(x)).sum().backward()
    ref(torch.tensor(x)).sum().backward()
    assert set(records["ours"]) == {"conv", "bn", "blocks.0", "blocks.1"} == set(records["torch"])
    assert records["ours"]["conv"][0] == (None,)  # the network's input needs no gradient
    for name, (grad_in, grad_out) in records["torch"].items():
        ours_in, ours_out = records["ours"][name]
        assert (ours_in[0] is None) == (grad_in[0] is None)
        np.testing.assert_allclose([g for g in ours_in + ours_out if g is not None],
                                   [g for g in grad_in + grad_out if g is not None], rtol=1e-4, err_msg=name)
    for h in handles:
        h.remove()
    records["ours"].clear()
    net(tg.Tensor(x)).sum().backward()
    assert records["ours"] == {}


def test_backward_hook_fires_once_per_backward_and_respects_no_grad():
    layer = nn.Linear(3, 2)
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append((gi[0].shape, go[0].shape)))
    layer.register_full_backward_hook(lambda m, gi, go: calls.append("second"))
    x = tg.randn(4, 3, requires_grad=True)
    out = layer(x).sum()
    out.backward(retain_graph=True)
    out.backward()
    assert calls == [((4, 3), (4, 2)), "second"] * 2
    with tg.no_grad():
        assert layer(x).requires_grad is False


def test_forward_hook_sees_inputs_and_may_replace_the_output():
    layer = nn.Linear(3, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs[0].shape, out.shape)))
    layer(tg.randn(4, 3))
    assert seen == [(layer, (4, 3), (4, 2))]
    handle.remove()
    layer.register_forward_hook(lambda m, inputs, out: out * 0)
    assert not layer(tg.randn(4, 3)).detach().numpy().any()


# ----- init: the same distributions as PyTorch's ---------------------------------------------------------
def _stats(t):
    data = t.detach().numpy()
    return data.mean(), data.std(), data.min(), data.max()


@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                                ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param))


@pytest.mark.parametrize("shape", [(5, 3), (8, 4, 3, 3), (2, 6, 1, 5)])
def test_fans_match_torch(shape):
    assert nn.init._calculate_fan_in_and_fan_out(tg.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def test_default_inits_match_torch():
    tg.manual_seed(0)
    linear, conv = nn.Linear(400, 300), nn.Conv2d(16, 32, 3)
    for layer, fan_in in ((linear, 400), (conv, 16 * 9)):
        bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives the same bound as the bias
        mean, std, lo, hi = _stats(layer.weight)
        assert -bound <= lo and hi <= bound and min(-lo, hi) > 0.98 * bound
        assert abs(mean) < 0.02 * bound and abs(std - bound / math.sqrt(3)) < 0.03 * bound
        _, _, lo, hi = _stats(layer.bias)
        assert -bound <= lo and hi <= bound and min(-lo, hi) > 0.8 * bound
    for layer in (nn.BatchNorm2d(3), nn.LayerNorm(3)):
        assert (layer.weight.detach().numpy() == 1).all() and (layer.bias.detach().numpy() == 0).all()


@pytest.mark.parametrize("fn,bound,expected_std", [
    (lambda t: nn.init.xavier_normal_(t), None, math.sqrt(2 / (200 + 100))),
    (lambda t: nn.init.xavier_uniform_(t, gain=2.0), 2 * math.sqrt(6 / 300), 2 * math.sqrt(6 / 300) / math.sqrt(3)),
    (lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"), None, math.sqrt(2 / 200)),
    (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(6 / 200), math.sqrt(2 / 200)),
    (lambda t: nn.init.kaiming_uniform_(t, a=0.2, mode="fan_out"), math.sqrt(6 / 1.04 / 100),
     math.sqrt(2 / 1.04 / 100)),
    (lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), None, math.sqrt(2 / 100)),
    (lambda t: nn.init.normal_(t, 0.0, 0.5), None, 0.5),
    (lambda t: nn.init.uniform_(t, -2, 2), 2.0, 4 / math.sqrt(12)),
], ids=["xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform", "kaiming_uniform_a_fan_out",
        "kaiming_normal_fan_out", "normal", "uniform"])
def test_init_distributions(fn, bound, expected_std):
    tg.manual_seed(0)
    t = nn.Parameter(np.zeros((100, 200), dtype=np.float32))
    assert fn(t) is t and t.dtype == np.float32
    mean, std, lo, hi = _stats(t)
    assert abs(mean) < 0.02 * expected_std and abs(std - expected_std) < 0.02 * expected_std
    if bound is not None:
        assert -bound <= lo and hi <= bound and min(-lo, hi) > 0.99 * bound


def test_constant_inits_and_shifted_normal():
    t = nn.Parameter(np.zeros((100, 100), dtype=np.float32))
    nn.init.normal_(t, 3.0, 0.1)
    assert abs(_stats(t)[0] - 3.0) < 0.01
    assert _stats(nn.init.constant_(t, 3.0))[2:] == (3.0, 3.0)
    assert _stats(nn.init.ones_(t))[2:] == (1.0, 1.0)
    assert _stats(nn.init.zeros_(t))[2:] == (0.0, 0.0)


def test_init_is_seeded_and_rejects_bad_arguments():
    tg.manual_seed(3)
    a = nn.Linear(5, 5).weight.detach().numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Linear(5, 5).weight.detach().numpy())
    with pytest.raises(ValueError, match="at least 2 dims.*\\(5,\\)"):
        nn.init.xavier_uniform_(tg.zeros(5))
    with pytest.raises(ValueError, match="fan_in"):
        nn.init.kaiming_normal_(tg.zeros(3, 3), mode="fan")
    with pytest.raises(ValueError, match="swish"):
        nn.init.calculate_gain("swish")


def test_cross_entropy_module_and_functional_agree():
    logits, labels = tg.randn(4, 3), np.array([0, 1, 2, 1])
    assert nn.CrossEntropyLoss()(logits, labels).item() == F.cross_entropy(logits, labels).item()
    assert nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.1)(logits, labels).item() == \
        F.cross_entropy(logits, labels, reduction="sum", label_smoothing=0.1).item()
