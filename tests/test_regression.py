"""The regression Trainer (models/regression.py): networks, losses against NumPy, logs, a short training run,
the equivariance maps, and input checks. Synthetic data: the target is a linear function of the image."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_ift as tg
from models.regression import (N_TRAIN_LOGGED, NetworkConfiguration, Trainer, as_regression_split, rotate_image,
                               shift_image)
from tinygrad_ift import nn
from tinygrad_ift.data.dataset import ArrayDataset

SMALL = NetworkConfiguration(n_channels=(4, 6, 8), dense_hiddens=(16,))


def regression_data(n: int, size: int = 28, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images in [-1, 1] and a target that depends on their left-right brightness difference."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (n, 1, size, size)).astype(np.float32)
    targets = 8 * (images[..., : size // 2].mean(axis=(1, 2, 3)) - images[..., size // 2:].mean(axis=(1, 2, 3)))
    return images, targets.reshape(-1, 1).astype(np.float32)


def make_trainer(network_type: str = "mlp", n_train: int = 64, n_test: int = 32, **kwargs) -> Trainer:
    kwargs.setdefault("net_config", SMALL)
    return Trainer(network_type, train=regression_data(n_train), test=regression_data(n_test, seed=1), seed=0,
                   **kwargs)


def test_network_configuration_defaults():
    config = NetworkConfiguration()
    assert isinstance(config, tuple) and config._fields == ("n_channels", "kernel_sizes", "strides", "dense_hiddens")
    assert config == ((16, 32, 48), (3, 3, 3), (1, 1, 1), (256, 256))


def test_activation_functions_are_modules():
    for name, cls in [("relu", nn.ReLU), ("tanh", nn.Tanh), ("sigmoid", nn.Sigmoid)]:
        assert isinstance(Trainer.create_activation_function(name), cls)
    with pytest.raises(ValueError, match="valid names are"):
        Trainer.create_activation_function("leaky")


def test_create_mlp_layout_and_output():
    model = Trainer.create_mlp(28 * 28, NetworkConfiguration(), nn.Tanh())
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Flatten", "Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, nn.Linear)] == [(784, 256), (256, 256),
                                                                                             (256, 1)]
    assert model(tg.Tensor(regression_data(3)[0])).shape == (3, 1)


def test_create_cnn_layout_and_parity_with_pytorch():
    config = NetworkConfiguration()
    model = Trainer.create_cnn(1, config, nn.ReLU())
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU",
                     "AdaptiveMaxPool2d", "Flatten", "Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert all(m.padding == (0, 0) for m in model if isinstance(m, nn.Conv2d))
    assert model[10].in_features == 4 * 4 * 48
    t = torch.nn
    reference = t.Sequential(t.Conv2d(1, 16, 3), t.ReLU(), t.MaxPool2d(2), t.Conv2d(16, 32, 3), t.ReLU(),
                             t.MaxPool2d(2), t.Conv2d(32, 48, 3), t.ReLU(), t.AdaptiveMaxPool2d((4, 4)), t.Flatten(),
                             t.Linear(768, 256), t.ReLU(), t.Linear(256, 256), t.ReLU(), t.Linear(256, 1))
    assert list(model.state_dict()) == list(reference.state_dict())
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    images = regression_data(4)[0]  # 28 -> 26 -> 13 -> 11 -> 5 -> 3, then adaptively up to 4x4
    out, expected = model(tg.Tensor(images)), reference(torch.tensor(images))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="one entry per conv"):
        Trainer.create_cnn(1, NetworkConfiguration(kernel_sizes=(3, 3)), nn.ReLU())


@pytest.mark.parametrize("network_type", ["mlp", "cnn"])
def test_loss_and_mae_match_numpy(network_type):
    trainer = make_trainer(network_type)
    X, y = trainer.test
    mse, mae = trainer.compute_loss_and_mae(X, y)
    assert mse.requires_grad and mae.requires_grad  # still in the graph
    predictions = trainer.network(tg.Tensor(X)).numpy()
    assert predictions.shape == (32, 1)
    np.testing.assert_allclose(mse.item(), np.mean((predictions - y) ** 2), rtol=1e-5)
    np.testing.assert_allclose(mae.item(), np.mean(np.abs(predictions - y)), rtol=1e-5)
    flat_mse, flat_mae = trainer.compute_loss_and_mae(X, y[:, 0])  # (N,) is reshaped, not broadcast to (N, N)
    assert (flat_mse.item(), flat_mae.item()) == (mse.item(), mae.item())
    with pytest.raises(ValueError, match="broadcast"):
        trainer.compute_loss_and_mae(X, np.repeat(y, 2, axis=1))
    evaluated = trainer.evaluate(X, y)
    assert not evaluated[0].requires_grad
    np.testing.assert_allclose([v.item() for v in evaluated], [mse.item(), mae.item()], rtol=1e-5)


def test_evaluate_in_chunks_equals_one_pass():
    trainer = make_trainer("mlp", n_train=2100)
    X, y = trainer.train
    predictions = trainer.network(tg.Tensor(X)).numpy()
    mse, mae = trainer.evaluate(X, y)
    np.testing.assert_allclose(mse.item(), np.mean((predictions - y) ** 2), rtol=1e-5)
    np.testing.assert_allclose(mae.item(), np.mean(np.abs(predictions - y)), rtol=1e-5)


def test_train_loop_logs_and_the_loss_falls():
    trainer = make_trainer("mlp", n_train=2100, n_test=200, lr=3e-3, batch_size=64)
    X, y = trainer.train
    before = trainer.evaluate(X[:N_TRAIN_LOGGED], y[:N_TRAIN_LOGGED])
    logs = trainer.train_loop(n_epochs=2)
    assert set(logs) == {"train_loss", "test_loss", "train_mae", "test_mae"}
    assert all(len(values) == 3 for values in logs.values())
    assert logs["train_loss"][0] == pytest.approx(before[0].item(), rel=1e-6)  # on the first 2000 samples
    assert logs["train_mae"][0] == pytest.approx(before[1].item(), rel=1e-6)
    assert logs["train_loss"][-1] < 0.5 * logs["train_loss"][0]
    assert logs["test_loss"][-1] < logs["test_loss"][0]
    assert trainer.network.training


def test_cnn_training_step_lowers_the_loss():
    trainer = make_trainer("cnn", lr=1e-2)
    X, y = trainer.train
    losses = [trainer.training_step(X, y) for _ in range(8)]
    assert losses[-1] < losses[0]


def test_seed_fixes_the_initial_weights():
    first, second = make_trainer("cnn"), make_trainer("cnn")
    for (name, a), (_, b) in zip(first.network.state_dict().items(), second.network.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_data_as_tensors_or_datasets_and_flat_targets():
    images, targets = regression_data(6)
    from_tensors = as_regression_split("t", (tg.Tensor(images), tg.Tensor(targets[:, 0])))
    from_dataset = as_regression_split("t", ArrayDataset(images, targets[:, 0]))
    for split in (from_tensors, from_dataset):
        np.testing.assert_array_equal(split[0], images)
        np.testing.assert_array_equal(split[1], targets)
        assert split[1].shape == (6, 1)


def test_bad_inputs_are_rejected():
    images, targets = regression_data(6)
    with pytest.raises(ValueError, match=r"images \(N, C, H, W\)"):
        as_regression_split("Trainer (train split)", (images[:, 0], targets))
    with pytest.raises(ValueError, match="targets"):
        as_regression_split("Trainer (train split)", (images, targets[:4]))
    with pytest.raises(TypeError, match="expected"):
        as_regression_split("Trainer (train split)", 3.0)
    with pytest.raises(ValueError, match="network_type must be 'mlp' or 'cnn'"):
        Trainer("rnn", train=(images, targets), test=(images, targets))
    with pytest.raises(ValueError, match="both the train and the test split"):
        Trainer("mlp", train=(images, targets))
    with pytest.raises(ValueError, match="batch_size"):
        Trainer("mlp", batch_size=0, train=(images, targets), test=(images, targets))


def test_shift_and_rotation_helpers():
    image = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    shifted = shift_image(image, 1)
    assert (shifted[..., 0, :] == 0).all() and (shifted[..., :, 0] == 0).all()
    np.testing.assert_array_equal(shifted[..., 1:, 1:], image[..., :3, :3])
    np.testing.assert_array_equal(rotate_image(rotate_image(rotate_image(rotate_image(image)))), image)
    assert rotate_image(image)[0, 0, 0, 0] == image[0, 0, 0, 3]  # counter-clockwise: the top-right corner moves left


def test_equivariance_maps_and_figure(tmp_path):
    trainer = make_trainer("mlp")
    maps = trainer.test_equivariance()
    assert maps["image"].shape == (28, 28) and maps["shift"].shape == maps["rotation"].shape == (24, 24)
    assert not maps["shift"][5 + 4:, 5 + 4:].any()  # away from the zero-filled border a shift commutes exactly
    assert maps["rotation"].max() > 1e-3  # a generic 3x3 kernel is not rotation-invariant
    pytest.importorskip("matplotlib")
    trainer.test_equivariance(path=tmp_path / "equivariance.png")
    assert (tmp_path / "equivariance.png").stat().st_size > 1000


@pytest.mark.skipif(not tg.cuda_available(), reason="needs CuPy and a GPU")
def test_trainer_on_gpu():
    trainer = make_trainer("cnn", device="cuda")
    X, y = trainer.train
    assert np.isfinite(trainer.training_step(X, y))
    assert all(p.device.is_cuda for p in trainer.network.parameters())
    assert len(trainer.train_loop(1)["test_mae"]) == 2
