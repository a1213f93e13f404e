"""The training command line: a real MNIST run learns, resume is bit-identical, results.json's schema, NaN stops,
bad flags get argparse's error, plots are written."""
import json
import runpy
from pathlib import Path

import numpy as np
import pytest

import tinygrad_ift as tg
from tinygrad_ift import __main__ as cli_entry
from tinygrad_ift.data import default_data_dir
from tinygrad_ift.training import generate_plots, main
from tinygrad_ift.training import trainer as trainer_module

ROOT = Path(__file__).resolve().parents[1]
SHARED = default_data_dir()
SMALL_IMAGE_MLP = {"input_size": 3072, "hidden_sizes": [32], "num_classes": 10, "activation": "relu"}
SMALL_DIGIT_MLP = {"input_size": 784, "hidden_sizes": [128], "num_classes": 10, "activation": "relu"}


@pytest.fixture(scope="module")
def tiny_cifar(tmp_path_factory) -> Path:
    """A CIFAR-format .npz of 300 training and 60 test images whose class sets the mean brightness."""
    folder = tmp_path_factory.mktemp("tiny_cifar")
    rng = np.random.default_rng(0)

    def images(n):
        labels = rng.integers(0, 10, n)
        pixels = rng.integers(0, 40, (n, 32, 32, 3)) + (labels * 20)[:, None, None, None]
        return pixels.astype(np.uint8), labels.astype(np.int64)

    x_train, y_train = images(300)
    x_test, y_test = images(60)
    np.savez(folder / "cifar10.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return folder


def write_config(folder: Path, settings: dict) -> str:
    path = folder / "model.json"
    path.write_text(json.dumps(settings))
    return str(path)


def tiny_run(data_dir: Path, logdir: Path, *extra: str) -> list[str]:
    return ["--data_dir", str(data_dir), "--logdir", str(logdir), "--batch_size", "64", "--epochs", "2",
            "--model_config", write_config(data_dir, SMALL_IMAGE_MLP), *extra]


def model_arrays(logdir: Path) -> dict:
    return {name: a for name, a in tg.load(logdir / "checkpoint.npz").items() if name.startswith("model/")}


def checkpoint_epoch(logdir: Path) -> int:
    return json.loads(str(tg.load(logdir / "checkpoint.npz")["meta"]))["epoch"]


@pytest.mark.skipif(SHARED is None or not (SHARED / "mnist.npz").exists(), reason="needs ../shared/data/mnist.npz")
def test_mlp_learns_mnist_in_one_epoch(tmp_path):
    results = main(["--dataset", "mnist", "--data_dir", str(SHARED), "--subset", "3000", "--epochs", "1",
                    "--model_config", write_config(tmp_path, SMALL_DIGIT_MLP), "--logdir", str(tmp_path / "run")])
    assert results["test_acc"] > 0.8  # 3000 digits, one epoch of AdamW: about 0.88 on the 10k test images
    assert results["valid_accs"][0] > 0.8


def test_results_json_schema_and_plots(tiny_cifar, tmp_path):
    main(tiny_run(tiny_cifar, tmp_path / "run", "--optimizer", "momentum", "--lr", "0.01"))
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    for key in ("train_losses", "valid_losses", "train_accs", "valid_accs", "epoch_times"):
        assert len(results[key]) == 2 and all(np.isfinite(results[key]))
    assert 0 <= results["test_acc"] <= 1 and np.isfinite(results["test_loss"])
    assert results["n_parameters"] == 3072 * 32 + 32 + 32 * 10 + 10
    config = results["config"]
    assert config["optimizer"] == "momentum" and config["lr"] == 0.01 and config["weight_decay"] == 5e-4
    assert config["model_settings"]["hidden_sizes"] == [32] and config["seed"] == 42
    assert results["versions"]["numpy"] == np.__version__ and results["versions"]["tinygrad_ift"] == tg.__version__
    assert results["device"] == "cpu" and results["device_name"]
    assert {"loss.png", "accuracy.png", "checkpoint.npz"} <= {p.name for p in (tmp_path / "run").iterdir()}
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]


def test_adam_gets_no_weight_decay_by_default(tiny_cifar, tmp_path):
    results = main(tiny_run(tiny_cifar, tmp_path / "run", "--optimizer", "adam", "--epochs", "1"))
    assert results["config"]["weight_decay"] == 0.0


def test_resume_after_a_kill_equals_an_uninterrupted_run(tiny_cifar, tmp_path, monkeypatch):
    whole = main(tiny_run(tiny_cifar, tmp_path / "whole"))

    real_save = trainer_module.save_checkpoint

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        raise KeyboardInterrupt  # the process is killed right after epoch 1's checkpoint

    monkeypatch.setattr(trainer_module, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        main(tiny_run(tiny_cifar, tmp_path / "resumed"))
    monkeypatch.undo()
    assert checkpoint_epoch(tmp_path / "resumed") == 1
    tg.manual_seed(1234)  # whatever the generator's state, resume restores it
    resumed = main(tiny_run(tiny_cifar, tmp_path / "resumed", "--resume"))

    expected, got = model_arrays(tmp_path / "whole"), model_arrays(tmp_path / "resumed")
    assert expected.keys() == got.keys()
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
    for key in ("train_losses", "valid_losses", "train_accs", "valid_accs", "test_loss", "test_acc"):
        assert resumed[key] == whole[key], key


def test_resume_with_other_settings_is_refused(tiny_cifar, tmp_path, capsys):
    main(tiny_run(tiny_cifar, tmp_path / "run", "--epochs", "1"))
    with pytest.raises(SystemExit) as exit_info:
        main(tiny_run(tiny_cifar, tmp_path / "run", "--resume", "--lr", "0.1"))
    assert exit_info.value.code == 2
    assert "--resume" in capsys.readouterr().err


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tiny_cifar, tmp_path, monkeypatch):
    real_cross_entropy, calls = trainer_module.F.cross_entropy, []

    def poisoned_at_epoch_2_step_3(logits, labels, **kwargs):
        loss = real_cross_entropy(logits, labels, **kwargs)
        if tg.is_grad_enabled():  # training steps only; 5 per epoch (270 images, batches of 64)
            calls.append(1)
            if len(calls) == 5 + 3:
                return loss * float("nan")
        return loss

    monkeypatch.setattr(trainer_module.F, "cross_entropy", poisoned_at_epoch_2_step_3)
    logdir = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(tiny_run(tiny_cifar, logdir))
    message = str(exit_info.value.code)
    assert "epoch 2, step 3" in message and "nan" in message and "checkpoint" in message
    assert checkpoint_epoch(logdir) == 1
    assert not (logdir / "results.json").exists()


@pytest.mark.parametrize("flags", [
    ["--epochs", "0"], ["--batch_size", "-3"], ["--lr", "nan"], ["--lr", "fast"], ["--momentum", "1.5"],
    ["--weight_decay", "-1"], ["--optimizer", "lbfgs"], ["--model", "vgg"], ["--device", "tpu"],
    ["--data_dir", "/no/such/folder"], ["--model_config", "/no/such.json"], ["--subset", "0"],
    ["--model", "resnet18", "--dataset", "mnist"], ["--visualize"],
])
def test_bad_flags_get_argparse_errors(flags, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--data_dir", str(tmp_path), "--logdir", str(tmp_path / "run"), *flags])
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_a_folder_without_cifar_lists_what_was_looked_for(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--data_dir", str(tmp_path), "--logdir", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    assert "cifar-10-batches-py" in capsys.readouterr().err


def test_python_dash_m_has_a_train_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_entry.main(["train", "--epochs", "0"])
    assert exit_info.value.code == 2


def test_generate_plots_overlays_runs(tiny_cifar, tmp_path):
    runs = [tmp_path / "sgd", tmp_path / "adamw"]
    main(tiny_run(tiny_cifar, runs[0], "--optimizer", "sgd", "--lr", "0.05", "--epochs", "1"))
    main(tiny_run(tiny_cifar, runs[1], "--epochs", "1"))
    written = generate_plots(runs, ["SGD", "AdamW"], tmp_path / "plots")
    assert sorted(p.name for p in written) == ["train_accs.png", "train_losses.png", "valid_accs.png",
                                                "valid_losses.png"]
    assert all(p.stat().st_size > 0 for p in written)
    with pytest.raises(ValueError, match="legend"):
        generate_plots(runs, ["only one"], tmp_path / "plots")


def test_cifar_suite_runs_an_experiment_and_skips_finished_runs(tiny_cifar, tmp_path, capsys):
    suite_main = runpy.run_path(str(ROOT / "experiments" / "cifar_suite.py"))["main"]
    flags = ["--data_dir", str(tiny_cifar), "--model_config", write_config(tiny_cifar, SMALL_IMAGE_MLP)]
    suite_main(["--experiments", "learning_rates", "--epochs", "1", "--results_dir", str(tmp_path), *flags])
    assert len(list((tmp_path / "plots" / "learning_rates").glob("*.png"))) == 4
    suite_main(["--experiments", "learning_rates", "--epochs", "1", "--results_dir", str(tmp_path), *flags])
    assert capsys.readouterr().out.count("finished earlier, skipped") == 3
