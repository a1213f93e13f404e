"""The course models (models/): shapes, attributes, parameter counts, configs, and PyTorch parity.

Parity: the same architecture is written in PyTorch (benchmarks/torch_models.py), with the state_dict names a
course PyTorch implementation has (`layer1.0.conv1.weight`, `layer2.0.shortcut.1.running_mean`, `blocks.0.mlp_tokens.fc1.weight`,
...). Its weights are copied into ours by name; then logits, every parameter's gradient of a cross-entropy loss
and the BatchNorm buffers are compared for one batch in train mode, and again in eval mode, in float32.
"""
from __future__ import annotations

import json
from importlib.metadata import EntryPoint

import numpy as np
import pytest
import torch

import models
import tinygrad_ift as tg
import tinygrad_ift.nn.functional as F
from models import MLP, BasicBlock, Linear, MixerBlock, Mlp, MLPMixer, PatchEmbed, ResNet18
from benchmarks.torch_models import TorchMLP, TorchMLPMixer, TorchResNet18
from tinygrad_ift import nn, registry


# ----- helpers ---------------------------------------------------------------------------------------
def randn(*shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def n_parameters(model: nn.Module) -> int:
    return sum(p.size for p in model.parameters())


def assert_close(ours: np.ndarray, theirs: np.ndarray, rtol: float, name: str, floor: float = 1e-6) -> None:
    """Equal up to rtol, relative to the reference's largest magnitude (float32 sums reorder), or to `floor`
    where that is larger (a gradient that is zero in exact arithmetic is float32 rounding noise)."""
    scale = max(float(np.abs(theirs).max()), floor)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, err_msg=name)


def assert_parity(ours: nn.Module, theirs: torch.nn.Module, x: np.ndarray, rtol: float = 1e-4,
                  check_grads: bool = True) -> None:
    """Same weights: same logits, same gradient of every parameter, same buffers; train, then eval mode."""
    assert [k for k in ours.state_dict()] == [k for k in theirs.state_dict()]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    labels = np.arange(len(x)) % 3
    for training in (True, False):
        ours.train(training)
        theirs.train(training)
        ours.zero_grad()
        theirs.zero_grad()
        logits, expected = ours(tg.Tensor(x)), theirs(torch.tensor(x))
        assert_close(logits.numpy(), expected.detach().numpy(), rtol, f"logits (train={training})")
        F.cross_entropy(logits, labels).backward()
        torch.nn.functional.cross_entropy(expected, torch.tensor(labels)).backward()
        if not check_grads:
            continue
        torch_params = dict(theirs.named_parameters())
        assert [k for k, _ in ours.named_parameters()] == list(torch_params)
        largest = max(float(p.grad.abs().max()) for p in torch_params.values())
        for name, p in ours.named_parameters():
            assert_close(p.grad.numpy(), torch_params[name].grad.numpy(), rtol * 10, f"{name}.grad (train={training})",
                         floor=1e-3 * largest)
        torch_state = theirs.state_dict()
        for name, value in ours.state_dict().items():
            assert_close(value.numpy(), torch_state[name].numpy(), rtol, name)


# ----- configurations and the registry ---------------------------------------------------------------------
@pytest.mark.parametrize("name, count", [("mlp", 3_709_194), ("resnet18", 11_173_962), ("mlpmixer", 2_188_298)])
def test_packaged_configs_give_the_course_parameter_counts(name, count):
    model = models.build_model(name)
    assert isinstance(model, models.MODELS[name])
    assert n_parameters(model) == count


def test_configs_hold_the_constructor_keywords():
    assert models.load_config("mlp") == {"input_size": 3072, "hidden_sizes": [1024, 512, 64, 64],
                                         "num_classes": 10, "activation": "relu"}
    assert models.load_config("resnet18") == {"num_classes": 10}
    assert models.load_config("mlpmixer") == {"num_classes": 10, "img_size": 32, "patch_size": 4, "embed_dim": 256,
                                              "num_blocks": 4, "drop_rate": 0.0, "activation": "gelu"}


def test_build_model_from_a_dict_and_from_a_file(tmp_path):
    config = {"input_size": 12, "hidden_sizes": [8], "num_classes": 3, "activation": "tanh"}
    path = tmp_path / "small.json"
    path.write_text(json.dumps(config))
    for source in (config, path, str(path)):
        model = models.build_model("mlp", source)
        assert (model.input_size, model.hidden_sizes, model.num_classes, model.activation) == (12, [8], 3, "tanh")


def test_build_model_rejects_unknown_names_keys_and_files(tmp_path):
    with pytest.raises(ValueError, match="available models are"):
        models.build_model("vgg")
    with pytest.raises(TypeError, match=r"unknown keys \['depth'\]"):
        models.build_model("resnet18", {"num_classes": 10, "depth": 18})
    with pytest.raises(FileNotFoundError, match="no file"):
        models.build_model("mlp", tmp_path / "missing.json")


# ----- MLP -------------------------------------------------------------------------------------------------
def test_linear_computes_x_wt_plus_b_with_overwritable_parameters():
    layer = Linear(4, 3)
    assert not isinstance(layer, nn.Linear)
    assert isinstance(layer.weight, nn.Parameter) and isinstance(layer.bias, nn.Parameter)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    weight, bias = randn(3, 4, seed=1), randn(3, seed=2)
    layer.weight.data[:] = weight
    layer.bias.data[:] = bias
    x = randn(5, 4)
    np.testing.assert_allclose(layer(tg.Tensor(x)).numpy(), x @ weight.T + bias, rtol=1e-5, atol=1e-6)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    with pytest.raises(ValueError, match="expected 4 features"):
        layer(tg.Tensor(randn(5, 3)))


def test_mlp_layers_initialisation_and_input_shapes():
    tg.manual_seed(0)
    model = MLP(3 * 16 * 16, [256, 128], 10, activation="tanh")
    assert isinstance(model.hidden_layers, nn.ModuleList) and len(model.hidden_layers) == 2
    assert all(isinstance(layer, Linear) for layer in model.hidden_layers + [model.output_layer])
    every = model.hidden_layers + [model.output_layer]
    assert isinstance(every, nn.ModuleList) and len(every) == 3
    assert [(l.in_features, l.out_features) for l in every] == [(768, 256), (256, 128), (128, 10)]
    for layer in every:  # Xavier normal: std sqrt(2 / (fan_in + fan_out)); zero bias
        expected = np.sqrt(2.0 / (layer.in_features + layer.out_features))
        assert abs(layer.weight.numpy().std() / expected - 1) < 0.1
        assert not layer.bias.numpy().any()
    images = randn(2, 3, 16, 16)
    logits = model(tg.Tensor(images))
    assert logits.shape == (2, 10)
    np.testing.assert_array_equal(model(tg.Tensor(images.reshape(2, -1))).numpy(), logits.numpy())
    with pytest.raises(ValueError, match="768 features"):
        model(tg.Tensor(randn(2, 3, 8, 8)))


def test_mlp_activations_by_name_and_unknown_names():
    model = MLP(4, [3], 2)
    x = tg.Tensor(randn(2, 4))
    np.testing.assert_allclose(model.activation_fn("relu", x).numpy(), np.maximum(x.numpy(), 0))
    np.testing.assert_allclose(model.activation_fn("tanh", x).numpy(), np.tanh(x.numpy()), rtol=1e-6)
    np.testing.assert_allclose(model.activation_fn("sigmoid", x).numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)
    with pytest.raises(ValueError, match=r"'swish'.*valid names are \[.*'relu', 'sigmoid', 'tanh'\]"):
        MLP(4, [3], 2, activation="swish")
    with pytest.raises(ValueError, match="valid names are"):
        model.activation_fn("elu", x)


def test_mlp_without_hidden_layers_is_a_linear_classifier():
    model = MLP(6, [], 3)
    assert len(model.hidden_layers) == 0
    assert model(tg.Tensor(randn(4, 6))).shape == (4, 3)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_matches_pytorch(activation):
    torch.manual_seed(0)
    assert_parity(MLP(3 * 8 * 8, [64, 32, 16], 10, activation),
                  TorchMLP(3 * 8 * 8, [64, 32, 16], 10, activation), randn(6, 3, 8, 8))


# ----- ResNet18 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("in_planes, planes, stride, projected", [(8, 8, 1, False), (8, 16, 2, True),
                                                                  (8, 16, 1, True), (8, 8, 2, True)])
def test_basic_block_shapes_and_shortcut(in_planes, planes, stride, projected):
    block = BasicBlock(in_planes, planes, stride)
    out = block(tg.Tensor(randn(2, in_planes, 8, 8)))
    assert out.shape == (2, planes, 8 // stride, 8 // stride)
    assert (out.numpy() >= 0).all()
    assert (len(block.shortcut) == 2) == projected
    if projected:
        conv, bn = block.shortcut
        assert (conv.kernel_size, conv.stride, conv.bias) == ((1, 1), (stride, stride), None)
        assert isinstance(bn, nn.BatchNorm2d) and bn.num_features == planes
    for conv in (block.conv1, block.conv2):
        assert conv.kernel_size == (3, 3) and conv.padding == (1, 1) and conv.bias is None
    assert block.conv1.stride == (stride, stride) and block.conv2.stride == (1, 1)


def test_resnet18_structure():
    model = ResNet18(num_classes=7)
    assert (model.conv1.in_channels, model.conv1.out_channels, model.conv1.kernel_size) == (3, 64, (3, 3))
    assert model.conv1.stride == (1, 1) and model.conv1.padding == (1, 1) and model.conv1.bias is None
    stages = [model.layer1, model.layer2, model.layer3, model.layer4]
    assert [len(stage) for stage in stages] == [2, 2, 2, 2]
    assert [stage[0].conv2.out_channels for stage in stages] == [64, 128, 256, 512]
    assert [stage[0].conv1.stride[0] for stage in stages] == [1, 2, 2, 2]
    assert (model.linear.in_features, model.linear.out_features) == (512, 7)
    names = set(model.state_dict())
    assert {"layer1.0.conv1.weight", "layer1.0.bn1.running_mean", "layer2.0.shortcut.0.weight",
            "layer2.0.shortcut.1.running_var", "linear.bias"} <= names
    assert not any(name.startswith("layer1.0.shortcut") for name in names)


def test_resnet18_matches_pytorch():
    """Every gradient is compared in float64: in float32 a pre-activation within ~1e-6 of zero can round to the
    other side of a ReLU in one library and not the other, which legitimately changes conv1's gradient by ~1%.
    In float32 the logits and buffers are compared, and the gradients as a whole (relative norm)."""
    torch.manual_seed(0)
    ours, theirs = ResNet18(10), TorchResNet18(10)
    assert_parity(ours.double(), theirs.double(), randn(2, 3, 32, 32).astype(np.float64), rtol=1e-7)
    torch.manual_seed(0)
    ours, theirs = ResNet18(10), TorchResNet18(10)
    assert_parity(ours, theirs, randn(2, 3, 32, 32), rtol=2e-4, check_grads=False)
    mine = np.concatenate([p.grad.numpy().ravel() for p in ours.parameters()])
    ref = np.concatenate([p.grad.numpy().ravel() for p in theirs.parameters()])
    assert np.linalg.norm(mine - ref) / np.linalg.norm(ref) < 1e-3


def test_resnet18_visualize_saves_the_kernel_grid(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image
    path = ResNet18().visualize(tmp_path / "logs")
    assert path.endswith(".png")
    with Image.open(path) as image:
        assert image.size[0] > 100 and image.size[1] > 100
    assert [p.name for p in (tmp_path / "logs").iterdir()] == ["resnet18_first_layer_kernels.png"]


# ----- MLP-Mixer -------------------------------------------------------------------------------------------
def test_patch_embed_shapes_and_errors():
    embed = PatchEmbed(img_size=16, patch_size=4, in_chans=3, embed_dim=24)
    assert embed.num_patches == 16 and embed.grid_size == 4
    assert embed.proj.kernel_size == (4, 4) and embed.proj.stride == (4, 4)
    assert embed(tg.Tensor(randn(2, 3, 16, 16))).shape == (2, 16, 24)
    with pytest.raises(ValueError, match=r"expected images of shape \(B, C, 16, 16\), got \(2, 3, 20, 20\)"):
        embed(tg.Tensor(randn(2, 3, 20, 20)))
    with pytest.raises(ValueError, match="patch_size 5 must divide img_size 16"):
        PatchEmbed(img_size=16, patch_size=5)


def test_mlp_and_mixer_block_widths():
    mlp = Mlp(10, 40, activation="relu", drop=0.25)
    assert (mlp.fc1.in_features, mlp.fc1.out_features, mlp.fc2.out_features) == (10, 40, 10)
    assert isinstance(mlp.act, nn.ReLU) and mlp.drop1.p == mlp.drop2.p == 0.25
    block = MixerBlock(dim=32, seq_len=16)
    assert block.norm1.eps == block.norm2.eps == 1e-6
    assert (block.mlp_tokens.fc1.in_features, block.mlp_tokens.fc1.out_features) == (16, 16)
    assert (block.mlp_channels.fc1.in_features, block.mlp_channels.fc1.out_features) == (32, 128)
    assert isinstance(block.mlp_tokens.act, nn.GELU)
    assert block(tg.Tensor(randn(2, 16, 32))).shape == (2, 16, 32)
    with pytest.raises(ValueError, match="valid names are"):
        MixerBlock(dim=32, seq_len=16, activation="softplus")


def test_mlpmixer_structure_and_initialisation():
    tg.manual_seed(0)
    model = MLPMixer(num_classes=10, img_size=32, patch_size=4, embed_dim=64, num_blocks=3)
    assert len(model.blocks) == 3 and model.patchemb.num_patches == 64
    assert (model.head.in_features, model.head.out_features) == (64, 10)
    assert model(tg.Tensor(randn(2, 3, 32, 32))).shape == (2, 10)
    fc = model.blocks[0].mlp_channels.fc1  # Xavier uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out))
    bound = np.sqrt(6.0 / (fc.in_features + fc.out_features))
    w = fc.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound and abs(w.std() * np.sqrt(3) / bound - 1) < 0.05
    conv = model.patchemb.proj.weight.numpy()  # Kaiming normal: std sqrt(2 / fan_in)
    assert abs(conv.std() / np.sqrt(2.0 / (3 * 4 * 4)) - 1) < 0.1
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            assert not p.numpy().any(), name
        elif "norm" in name:
            assert (p.numpy() == 1).all(), name


@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_mlpmixer_matches_pytorch(activation):
    torch.manual_seed(0)
    config = dict(num_classes=10, img_size=16, patch_size=4, embed_dim=32, num_blocks=2, activation=activation)
    assert_parity(MLPMixer(**config), TorchMLPMixer(**config), randn(4, 3, 16, 16))


def test_mlpmixer_dropout_only_in_training():
    tg.manual_seed(0)
    model = MLPMixer(num_classes=5, img_size=8, patch_size=4, embed_dim=16, num_blocks=1, drop_rate=0.5)
    x = tg.Tensor(randn(3, 3, 8, 8))
    model.eval()
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.train()
    assert not np.allclose(model(x).numpy(), model(x).numpy())


def test_mlpmixer_visualize_saves_the_token_mixing_weights(tmp_path):
    pytest.importorskip("matplotlib")
    model = MLPMixer(num_classes=10, img_size=32, patch_size=4, embed_dim=32, num_blocks=1)
    path = model.visualize(tmp_path)
    assert path == str(tmp_path / "mlpmixer_token_mixing_weights.png")
    assert (tmp_path / "mlpmixer_token_mixing_weights.png").stat().st_size > 1000
    assert [p.name for p in tmp_path.iterdir()] == ["mlpmixer_token_mixing_weights.png"]


def test_visualisation_helpers_tile_and_scale():
    from models.plotting import scale_symmetric, scale_to_unit, tile
    images = randn(5, 3, 3, 3)
    unit = scale_to_unit(images)
    assert unit.min(axis=(1, 2, 3)).tolist() == [0.0] * 5 and np.allclose(unit.max(axis=(1, 2, 3)), 1.0)
    signed = scale_symmetric(images)
    assert np.allclose(np.abs(signed).max(axis=(1, 2, 3)), 1.0)
    mosaic = tile(unit, ncols=3, pad=1, fill=1.0)
    assert mosaic.shape == (2 * 3 + 1, 3 * 3 + 2, 3)
    np.testing.assert_array_equal(mosaic[4:7, 4:7], unit[4])
    assert (mosaic[3] == 1.0).all()


def test_registry_loads_model_packages_from_entry_points(monkeypatch, tmp_path):
    """A package declared under the entry-point group is imported on the first look-up and registers itself."""
    (tmp_path / "extra_models.py").write_text(
        "from tinygrad_ift import nn\nfrom tinygrad_ift.registry import register_model\n"
        "register_model('tiny', nn.Identity, __file__)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_registry", {})
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    point = EntryPoint(name="extra", value="extra_models", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [point] if group == registry.ENTRY_POINT_GROUP else [])
    assert registry.model_names() == ("tiny",)
    assert registry.model_entry("tiny").cls is nn.Identity
