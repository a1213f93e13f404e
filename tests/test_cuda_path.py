"""What must work on "cuda": construction and transfer, mixed operands, host indices and labels, and the sync and
copy budgets of a training step (held by the CuPy stand-in's counters: pytest --cupy-standin)."""
import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_ift as tg
import tinygrad_ift.nn.functional as F
from tinygrad_ift import backend, data, nn

ROOT = Path(__file__).resolve().parents[1]


def test_cuda_without_cupy_says_cupy_is_not_installed():
    code = ("import sys\nsys.modules['cupy'] = None\nimport tinygrad_ift as tg\n"
            "for make in (lambda: tg.Tensor([1.0], device='cuda'), lambda: tg.tensor([1.0], device='cuda')):\n"
            "    try:\n        make()\n    except RuntimeError as err:\n        print(err)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("CuPy is not installed") == 2


@pytest.fixture
def cuda(device):
    if device != "cuda":
        pytest.skip("the CUDA side of the device fixture")
    return tg.Device("cuda")


def test_device_arrays_never_go_through_np_asarray(cuda, tmp_path):
    on_gpu = backend.to_device(np.arange(6.0).reshape(2, 3), cuda)
    assert tg.Tensor(on_gpu, device="cpu").numpy().tolist() == [[0, 1, 2], [3, 4, 5]]
    assert tg.tensor(on_gpu).device == cuda
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True, device="cuda")
    (x * 2).backward(grad=backend.to_device(np.full((2, 3), 0.5), cuda))
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
    labels = backend.to_device(np.array([2, 0]), cuda)
    np.testing.assert_array_equal(F.one_hot(labels, 3).numpy(), [[0, 0, 1], [1, 0, 0]])
    assert F.one_hot(tg.Tensor(labels)).device == cuda
    tg.save({"w": on_gpu}, tmp_path / "w.npz")
    np.testing.assert_array_equal(tg.load(tmp_path / "w.npz")["w"], backend.to_numpy(on_gpu))
    layer = nn.Linear(3, 2).to("cuda")
    layer.load_state_dict({"weight": backend.to_device(np.zeros((2, 3), np.float32), cuda), "bias": np.ones(2)})
    assert layer.weight.numpy().sum() == 0 and layer.bias.numpy().tolist() == [1, 1]
    loader = data.DataLoader(data.ArrayDataset(on_gpu, labels), batch_size=2, device="cuda")
    xb, yb = next(iter(loader))
    assert xb.device == cuda and yb.numpy().tolist() == [2, 0]


def test_setitem_takes_host_values_on_the_gpu(cuda):
    t = tg.zeros(2, 3, device="cuda")
    t[0] = np.array([1.0, 2.0, 3.0])
    t[1, 1:] = [5.0, 6.0]
    assert t.numpy().tolist() == [[1, 2, 3], [0, 5, 6]]


def test_mixed_operands_lift_host_values_and_name_the_devices(cuda):
    x = tg.Tensor([1.0, 2.0, 3.0], device="cuda")
    on_cpu = tg.Tensor([1.0, 5.0, 0.0])
    assert (x == np.array([1.0, 0.0, 3.0])).numpy().tolist() == [True, False, True]
    assert (x < [2.0, 2.0, 2.0]).device == cuda
    for compare in (lambda: x == on_cpu, lambda: x < on_cpu, lambda: x >= on_cpu):
        with pytest.raises(RuntimeError, match="different devices, cuda:0 and cpu"):
            compare()
    with pytest.raises(RuntimeError, match="indexing: tensors are on different devices"):
        x[tg.Tensor(np.array([0, 1]))]
    with pytest.raises(RuntimeError, match="cross_entropy: tensors are on different devices"):
        F.cross_entropy(tg.randn(2, 3, device="cuda"), tg.Tensor(np.array([0, 1])))
    with pytest.raises(RuntimeError, match="masked_fill: tensors are on different devices"):
        x.masked_fill(tg.Tensor(np.array([True, False, True])), 0.0)
    with pytest.raises(RuntimeError, match="batch_norm: tensors are on different devices"):
        F.batch_norm(tg.randn(4, 3, device="cuda"), tg.zeros(3), tg.ones(3))


def test_host_indices_and_labels_are_checked_before_they_move(device):
    """CuPy wraps an out-of-range index around silently; host ones are checked on the host first."""
    x = tg.Tensor(np.arange(6.0).reshape(3, 2), device=device)
    with pytest.raises(IndexError):
        x[np.array([0, 3])]
    with pytest.raises(IndexError):
        x[[1, -4]]
    np.testing.assert_array_equal(x[np.array([2, -1])].numpy(), [[4, 5], [4, 5]])
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        F.cross_entropy(x, np.array([0, 2, 1]))
    loader = data.DataLoader(data.ArrayDataset(np.zeros((4, 2), np.float32), np.array([0, 1, 7, 1])),
                             batch_size=2, device=device, num_classes=3)
    with pytest.raises(ValueError, match=r"DataLoader: labels must be in \[0, 3\), got values in \[1, 7\] in batch 1"):
        list(loader)


def test_python_numbers_and_constants_cross_to_the_gpu_once(standin):
    x = tg.randn(4, 3, 8, 8, device="cuda")
    normalize = data.Normalize((0.5, 0.4, 0.3), (0.2, 0.2, 0.2))
    for _ in range(2):  # the first call may copy each constant over, later calls none
        standin.reset()
        y = ((x * 0.5 + 1.0) / 3.0 - 2.0) ** 2
        y = nn.functional.adaptive_avg_pool2d(y, 3) + nn.functional.adaptive_max_pool2d(y, 3)
        normalize(x.data)
    assert standin.snapshot() == (0, 0)


def test_max_pooling_reads_nothing_back(standin):
    x = tg.randn(2, 3, 6, 6, device="cuda", requires_grad=True)
    nn.functional.max_pool2d(x, 3, stride=2, padding=1).sum().backward()
    assert standin.syncs == 0


def _step_counts(model: nn.Module, shape: tuple, standin, tmp_path, steps: int = 3) -> tuple[float, float]:
    """Syncs and host-to-device copies per training step of the Trainer, on the stand-in."""
    from tinygrad_ift.training import trainer as trainer_module
    from tinygrad_ift.training.datasets import DataSplits, eval_transform, train_transform, SPECS
    rng = np.random.default_rng(0)
    n = steps * 4
    images = rng.integers(0, 255, (n, *shape[1:], shape[0])).astype(np.uint8)
    labels = rng.integers(0, 10, n)

    def loader(transform, shuffle):
        return data.DataLoader(data.ArrayDataset(images, labels), batch_size=4, shuffle=shuffle, transform=transform,
                               device="cuda", seed=0, num_classes=10)
    spec = SPECS["cifar10"]
    splits = DataSplits(loader(train_transform(spec, shape[1]), True), loader(eval_transform(spec), False),
                        loader(eval_transform(spec), False), image_shape=shape)
    config = dict(model="mlp", model_config=None, dataset="cifar10", epochs=1, batch_size=4, optimizer="adamw",
                  lr=1e-3, momentum=0.9, weight_decay=5e-4, device="cuda", seed=0, logdir=str(tmp_path),
                  data_dir=str(tmp_path), visualize=False, print_every=0, resume=False, subset=None)
    trainer = trainer_module.Trainer.__new__(trainer_module.Trainer)
    trainer.config, trainer.data, trainer.device = config, splits, tg.Device("cuda")
    trainer.model = model.to("cuda")
    trainer.optimizer = tg.optim.AdamW(list(trainer.model.parameters()), lr=1e-3, weight_decay=5e-4)
    trainer.train_epoch(1)  # the first epoch moves the constants over once
    standin.reset()
    trainer.train_epoch(2)
    return standin.syncs / steps, standin.host_to_device / steps


def test_a_training_step_syncs_at_most_once_and_copies_only_its_batch(standin, tmp_path):
    """Measured before the fix: 4 syncs (loss.item, the accuracy count, the labels' min and max) and 4 copies
    (images, labels, Normalize's mean and std) per step; now the images and labels only, and one read per
    epoch (at its last step)."""
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 10))
    convnet = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(4, 4, 3, padding=1), nn.LayerNorm([4, 4, 4]), nn.GELU(),
                            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))
    for model in (mlp, convnet):
        syncs, copies = _step_counts(model, (3, 8, 8), standin, tmp_path)
        assert syncs <= 1 / 3 and copies == 2, type(model[1]).__name__


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ignore_index_of_labels_already_on_the_gpu(cuda, standin, reduction):
    """Labels on the GPU: ignore_index is masked on the device, not searched for (no sync), same as on the CPU."""
    logits = np.random.default_rng(0).standard_normal((5, 4))
    labels = np.array([1, -100, 3, 0, -100])
    results = []
    for where in ("cpu", "cuda"):
        x = tg.Tensor(logits, requires_grad=True, device=where)
        y = tg.Tensor(labels, device=where)
        standin.reset()
        loss = F.cross_entropy(x, y, reduction=reduction, label_smoothing=0.1)
        loss.sum().backward()
        results.append((loss.numpy(), x.grad.numpy()))
    assert standin.syncs == 2  # the two .numpy() reads of the cuda run
    for cpu, gpu in zip(*results):
        np.testing.assert_allclose(gpu, cpu, rtol=1e-12, atol=1e-12)


def _one_step(model: nn.Module, x: np.ndarray, labels: np.ndarray, device: str) -> tuple:
    """One SGD step of cross-entropy on `device`: the loss and every parameter's gradient, on the host."""
    model.to(device)
    opt = tg.optim.SGD(list(model.parameters()), lr=0.1, momentum=0.9, weight_decay=5e-4)
    loss = F.cross_entropy(model(tg.Tensor(x, device=device)), tg.Tensor(labels, device=device))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item(), {name: p.grad.numpy() for name, p in model.named_parameters()}


@pytest.mark.parametrize("name,settings,shape", [
    ("mlp", {"input_size": 3 * 8 * 8, "hidden_sizes": [16, 16], "num_classes": 10, "activation": "gelu"}, (4, 3, 8, 8)),
    ("resnet18", {"num_classes": 10}, (4, 3, 16, 16)),
    ("mlpmixer", {"num_classes": 10, "img_size": 8, "patch_size": 4, "embed_dim": 8, "num_blocks": 2,
                  "drop_rate": 0.0, "activation": "gelu"}, (4, 3, 8, 8)),
], ids=["mlp", "resnet18", "mlpmixer"])
def test_course_models_train_a_step_on_the_gpu_as_on_the_cpu(cuda, name, settings, shape):
    import models
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal(shape).astype(np.float32), np.arange(shape[0]) % 10
    tg.manual_seed(0)
    cpu_model = models.build_model(name, settings)
    gpu_model = models.build_model(name, settings)
    gpu_model.load_state_dict(cpu_model.state_dict())
    cpu_loss, cpu_grads = _one_step(cpu_model, x, labels, "cpu")
    gpu_loss, gpu_grads = _one_step(gpu_model, x, labels, "cuda")
    assert gpu_loss == pytest.approx(cpu_loss, rel=1e-4)
    largest = max(float(np.abs(g).max()) for g in cpu_grads.values())
    for key in cpu_grads:  # float32 sums in another order: within 1e-3 of each gradient's largest element, or
        # 1e-6 of the model's largest where a gradient is rounding noise itself (MLP-Mixer's token-mixing fc2.bias)
        scale = max(float(np.abs(cpu_grads[key]).max()), 1e-3 * largest)
        np.testing.assert_allclose(gpu_grads[key], cpu_grads[key], rtol=1e-3, atol=1e-3 * scale, err_msg=key)
    for p in gpu_model.parameters():  # the optimiser's step ran on the device
        assert p.device == "cuda" and np.isfinite(p.numpy()).all()


def test_regression_cnn_trains_on_the_gpu_as_on_the_cpu(cuda):
    from models.regression import NetworkConfiguration, Trainer
    rng = np.random.default_rng(1)
    split = (rng.standard_normal((8, 1, 16, 16)).astype(np.float32), rng.standard_normal(8).astype(np.float32))
    config = NetworkConfiguration(n_channels=(4, 4), kernel_sizes=(3, 3), strides=(1, 1), dense_hiddens=(8,))
    trainers = [Trainer("cnn", config, lr=1e-3, batch_size=4, train=split, test=split, device=device, seed=0)
                for device in ("cpu", "cuda")]
    trainers[1].network.load_state_dict(trainers[0].network.state_dict())  # the GPU draws other initial weights
    cpu_losses, gpu_losses = ([trainer.training_step(*split) for _ in range(2)] for trainer in trainers)
    assert gpu_losses == pytest.approx(cpu_losses, rel=1e-4)


def test_host_and_device_index_arrays_mix(cuda):
    x = tg.Tensor(np.arange(12.0).reshape(3, 4), device="cuda")
    rows = tg.Tensor(np.array([0, 2]), device="cuda")
    assert x[rows, np.array([1, 3])].numpy().tolist() == [1.0, 11.0]
    with pytest.raises(IndexError):
        x[rows, np.array([1, 4])]


def test_parameter_data_takes_host_values_on_the_gpu(cuda, standin):
    """The course pattern `layer.weight.data[:] = numpy_array` works on a GPU model: one copy to the device."""
    layer = nn.Linear(3, 2).to("cuda")
    standin.reset()
    layer.weight.data[:] = np.arange(6.0).reshape(2, 3)  # float64 host values into a float32 parameter
    layer.bias.data[0] = np.float32(7.0)
    assert standin.snapshot() == (0, 1)
    assert layer.weight.numpy().tolist() == [[0, 1, 2], [3, 4, 5]] and layer.weight.dtype == np.float32
    assert layer.bias.numpy()[0] == 7.0
    optimizer = tg.optim.SGD(layer.parameters(), lr=0.1)  # a step keeps the pattern working
    layer(tg.ones(1, 3, device="cuda")).sum().backward()
    optimizer.step()
    layer.weight.data[:] = np.zeros((2, 3))
    assert layer.weight.numpy().sum() == 0
    state = layer.state_dict()  # the detached tensors of a state dict share the parameters' arrays
    state["bias"].data[:] = [1.0, 2.0]
    assert layer.bias.numpy().tolist() == [1, 2]
    bn = nn.BatchNorm2d(3).to("cuda")  # buffers too
    standin.reset()
    bn.running_mean.data[:] = np.arange(3.0)
    assert standin.snapshot() == (0, 1) and bn.running_mean.numpy().tolist() == [0, 1, 2]
    bn(tg.ones(2, 3, 4, 4, device="cuda"))  # a training step updates them in place, and the pattern still works
    bn.running_var.data[1] = 5.0
    assert bn.running_var.numpy()[1] == 5.0


def test_parameter_data_rebinding_keeps_the_device(device):
    """`p.data = array` takes an array on the parameter's own device (PyTorch refuses a NumPy array there too);
    anything else is a clear error, not a parameter that silently left the model's device."""
    layer = nn.Linear(3, 2).to(device)
    layer.weight.data = layer.weight.data * 2  # an array on the same device: rebinds
    assert layer.weight.device == device
    if device == "cuda":
        with pytest.raises(RuntimeError, match=r"Parameter.data: the array is on cpu, the parameter on cuda:0"):
            layer.weight.data = np.zeros((2, 3), np.float32)
    with pytest.raises(TypeError, match="Parameter.data: expected a NumPy or CuPy array, got list"):
        layer.bias.data = [0.0, 0.0]
    copied = copy.deepcopy(layer)  # a deep copy rebuilds the parameters slot by slot
    assert copied.weight.device == device
    np.testing.assert_array_equal(copied.weight.numpy(), layer.weight.numpy())
