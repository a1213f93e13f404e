"""tinygrad_ift.save / load: .npz state dicts, atomic writes, and loading PyTorch weights by name."""
import os

import numpy as np
import pytest
import torch

import tinygrad_ift as tg
from tinygrad_ift import nn


def make_net() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.LayerNorm(4), nn.Linear(4, 2))


def make_torch_net() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                               torch.nn.LayerNorm(4), torch.nn.Linear(4, 2))


def assert_same_state(a: nn.Module, b: nn.Module) -> None:
    assert list(a.state_dict()) == list(b.state_dict())
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=name)


@pytest.mark.parametrize("filename", ["model.npz", "model.pt", "model"])
def test_round_trip_keeps_names_values_dtypes_and_the_exact_path(tmp_path, filename):
    tg.manual_seed(0)
    net = make_net()
    net(tg.randn(5, 3))  # non-trivial running statistics and num_batches_tracked
    tg.save(net.state_dict(), tmp_path / filename)
    assert os.listdir(tmp_path) == [filename]  # np.savez would have appended ".npz"
    tg.manual_seed(1)
    other = make_net()
    other.load_state_dict(tg.load(tmp_path / filename))
    assert_same_state(net, other)
    assert other[1].num_batches_tracked.item() == 1
    x = tg.randn(2, 3)
    np.testing.assert_array_equal(net.eval()(x).numpy(), other.eval()(x).numpy())


def test_save_overwrites_atomically_and_leaves_nothing_behind_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.arange(3.0)}, path)
    tg.save({"w": np.arange(4.0)}, path)
    np.testing.assert_array_equal(tg.load(path)["w"], np.arange(4.0))

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        tg.save({"w": np.zeros(5)}, path)
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left, the old file intact
    np.testing.assert_array_equal(tg.load(path)["w"], np.arange(4.0))


def test_save_creates_the_folder(tmp_path):
    path = tmp_path / "runs" / "1" / "w.npz"
    tg.save({"a": tg.ones(2)}, path)
    assert list(tg.load(path)) == ["a"]


def test_torch_state_dict_as_numpy_loads_by_name(tmp_path):
    torch.manual_seed(0)
    reference = make_torch_net()
    reference(torch.randn(6, 3))  # running statistics away from their initial values
    exported = {name: value.numpy() for name, value in reference.state_dict().items()}
    np.savez(tmp_path / "from_torch.npz", **exported)
    net = make_net()
    net.load_state_dict(tg.load(tmp_path / "from_torch.npz"))
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    reference.eval()
    np.testing.assert_allclose(net.eval()(tg.Tensor(x)).numpy(), reference(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_load_state_dict_accepts_tensors_arrays_and_lists_and_keeps_dtype():
    net = nn.Linear(2, 2)
    net.load_state_dict({"weight": [[1, 2], [3, 4]], "bias": torch.tensor([0.5, -0.5], dtype=torch.float64)})
    assert net.weight.dtype == np.float32 and net.bias.dtype == np.float32
    np.testing.assert_array_equal(net.weight.detach().numpy(), [[1, 2], [3, 4]])
    other = nn.Linear(2, 2)
    other.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(other.bias.detach().numpy(), [0.5, -0.5])


def test_bad_arguments_and_files(tmp_path):
    with pytest.raises(TypeError, match="mapping"):
        tg.save([np.zeros(2)], tmp_path / "a.npz")
    with pytest.raises(TypeError, match="'opt/lr' is a set"):
        tg.save({"opt": {"lr": {0.1}}}, tmp_path / "a.npz")
    with pytest.raises(ValueError, match="'a/b'"):
        tg.save({"a/b": np.zeros(2), "a": {"b": np.ones(2)}, "c": 1}, tmp_path / "a.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        tg.load(tmp_path / "missing.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        tg.load(tmp_path / "single.npy")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="text.npz is not a .npz file") as error:
        tg.load(tmp_path / "text.npz")
    assert "pickle" not in str(error.value)
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="empty.npz is not a .npz file .it is empty"):
        tg.load(tmp_path / "empty.npz")
    torch.save({"w": torch.zeros(2)}, tmp_path / "torch.pt")
    with pytest.raises(ValueError, match="PyTorch"):
        tg.load(tmp_path / "torch.pt")


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_a_damaged_file_is_a_one_line_error_naming_it(damage, tmp_path):
    path = tmp_path / "weights.npz"
    tg.save({"w": np.random.default_rng(0).standard_normal(5000)}, path)
    raw = path.read_bytes()
    middle = len(raw) // 2
    path.write_bytes(raw[:middle] if damage == "truncated" else raw[:middle] + bytes(64) + raw[middle + 64:])
    with pytest.raises(ValueError, match=r"weights.npz is damaged .*save or fetch it again") as error:
        tg.load(path)
    assert "\n" not in str(error.value)


def test_nested_state_round_trips_with_its_types(tmp_path):
    state = {"state": {0: {"step": 3, "exp_avg": np.arange(3.0)}, 1: {}},
             "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False, "name": None, "params": [0, 1]}],
             "weights": {"fc.weight": tg.ones(2, 2)}}
    tg.save(state, tmp_path / "nested.npz")
    loaded = tg.load(tmp_path / "nested.npz")
    assert list(loaded["state"]) == [0, 1] and loaded["state"][0]["step"] == 3 and loaded["state"][1] == {}
    np.testing.assert_array_equal(loaded["state"][0]["exp_avg"], np.arange(3.0))
    assert loaded["param_groups"] == state["param_groups"]  # the tuple stays a tuple, None stays None
    assert loaded["weights"]["fc.weight"].dtype == np.float32
    assert "state/0/exp_avg" in np.load(tmp_path / "nested.npz").files  # arrays stay readable by name


@pytest.mark.parametrize("make", [lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9), lambda p: tg.optim.AdamW(p)])
def test_optimizer_state_saves_and_loads_in_one_call_each(make, tmp_path):
    tg.manual_seed(0)
    net, x = make_net(), tg.randn(8, 3)

    def step(model, optimizer):
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()

    opt = make(net.parameters())
    step(net, opt)
    tg.save(net.state_dict(), tmp_path / "model.npz")
    tg.save(opt.state_dict(), tmp_path / "optimizer.npz")
    copy = make_net()
    copy.load_state_dict(tg.load(tmp_path / "model.npz"))
    copy_opt = make(copy.parameters())
    copy_opt.load_state_dict(tg.load(tmp_path / "optimizer.npz"))
    step(net, opt)
    step(copy, copy_opt)
    assert_same_state(net, copy)  # the restored momentum / moments made the same second step
