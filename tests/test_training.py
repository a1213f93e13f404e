"""The training command line: a real MNIST run learns, resume is bit-identical, results.json's schema, NaN stops,
bad flags get argparse's error, plots are written; no run is lost (an earlier run is kept, Ctrl-C writes the
finished epochs, the logdir is checked first) and every mistake is a one-line error, in a real subprocess."""
import json
import os
import runpy
import signal
import subprocess
import sys
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
    return tg.load(logdir / "checkpoint.npz")["model"]


def checkpoint_epoch(logdir: Path) -> int:
    return tg.load(logdir / "checkpoint.npz")["progress"]["epoch"]


def run_cli(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """`python -m tinygrad_ift <args>` in a fresh interpreter, as a user types it."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **env}
    return subprocess.run([sys.executable, "-m", "tinygrad_ift", *args], capture_output=True, text=True,
                          timeout=timeout, env=environment)


def cli_error(argv: list[str], capsys) -> str:
    """The error line of `main(argv)`, which must exit with status 2 (argparse's) and print no traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return next(line for line in err.splitlines() if "error:" in line)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str, status: int = 2) -> str:
    """Exit status `status`, no traceback, and an error line holding every fragment."""
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    error = next(line for line in result.stderr.splitlines() if "error:" in line)
    for fragment in fragments:
        assert fragment in error, (fragment, error)
    return error


@pytest.mark.skipif(SHARED is None or not (SHARED / "mnist.npz").exists(), reason="needs ../shared/data/mnist.npz")
def test_mlp_learns_mnist_in_one_epoch(tmp_path):
    results = main(["--dataset", "mnist", "--data_dir", str(SHARED), "--subset", "3000", "--epochs", "1",
                    "--model_config", write_config(tmp_path, SMALL_DIGIT_MLP), "--logdir", str(tmp_path / "run")])
    assert results["test_acc"] > 0.8  # 3000 digits, one epoch of AdamW: about 0.88 on the 10k test images
    assert results["valid_accs"][0] > 0.8


def test_results_json_schema_and_plots(tiny_cifar, tmp_path, device):
    main(tiny_run(tiny_cifar, tmp_path / "run", "--optimizer", "momentum", "--lr", "0.01", "--device", device))
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    for key in ("train_losses", "valid_losses", "train_accs", "valid_accs", "epoch_times"):
        assert len(results[key]) == 2 and all(np.isfinite(results[key]))
    assert 0 <= results["test_acc"] <= 1 and np.isfinite(results["test_loss"])
    assert results["n_parameters"] == 3072 * 32 + 32 + 32 * 10 + 10
    config = results["config"]
    assert config["optimizer"] == "momentum" and config["lr"] == 0.01 and config["weight_decay"] == 5e-4
    assert config["model_settings"]["hidden_sizes"] == [32] and config["seed"] == 42
    assert results["versions"]["numpy"] == np.__version__ and results["versions"]["tinygrad_ift"] == tg.__version__
    assert results["device"] == str(tg.Device(device)) and results["device_name"] and results["finished"] is True
    assert {"loss.png", "accuracy.png", "checkpoint.npz"} <= {p.name for p in (tmp_path / "run").iterdir()}
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]


def test_a_runs_trained_weights_load_in_one_call(tiny_cifar, tmp_path):
    import models
    from tinygrad_ift.files import read_json
    main(tiny_run(tiny_cifar, tmp_path / "run", "--epochs", "1"))
    config = read_json(tmp_path / "run" / "results.json")["config"]  # the README's lines
    model = models.build_model(config["model"], config["model_settings"])
    model.load_state_dict(tg.load(tmp_path / "run" / "checkpoint.npz")["model"])
    trained = tg.load(tmp_path / "run" / "checkpoint.npz")["model"]
    for name, tensor in model.state_dict().items():
        np.testing.assert_array_equal(tensor.numpy(), trained[name], err_msg=name)


def test_adam_gets_no_weight_decay_by_default(tiny_cifar, tmp_path):
    results = main(tiny_run(tiny_cifar, tmp_path / "run", "--optimizer", "adam", "--epochs", "1"))
    assert results["config"]["weight_decay"] == 0.0


def test_resume_after_a_kill_equals_an_uninterrupted_run(tiny_cifar, tmp_path, monkeypatch, device):
    whole = main(tiny_run(tiny_cifar, tmp_path / "whole", "--device", device))

    real_save = trainer_module.save_checkpoint

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        raise KeyboardInterrupt  # the process is killed right after epoch 1's checkpoint

    monkeypatch.setattr(trainer_module, "save_checkpoint", save_then_die)
    with pytest.raises(SystemExit) as exit_info:
        main(tiny_run(tiny_cifar, tmp_path / "resumed", "--device", device))
    monkeypatch.undo()
    assert exit_info.value.code == 130
    assert checkpoint_epoch(tmp_path / "resumed") == 1
    partial = json.loads((tmp_path / "resumed" / "results.json").read_text())
    assert partial["train_losses"] == whole["train_losses"][:1] and not partial["finished"]
    tg.manual_seed(1234)  # whatever the generator's state, resume restores it
    resumed = main(tiny_run(tiny_cifar, tmp_path / "resumed", "--resume", "--device", device))

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


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tiny_cifar, tmp_path, monkeypatch, device):
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
        main(tiny_run(tiny_cifar, logdir, "--device", device))
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


# ----- nothing lost: earlier runs, Ctrl-C, the logdir, resume -------------------------------------------------
def test_ctrl_c_writes_the_finished_epochs_says_how_to_resume_and_exits_130(tiny_cifar, tmp_path):
    logdir = tmp_path / "run"
    flags = tiny_run(tiny_cifar, logdir, "--batch_size", "16")
    flags[flags.index("--epochs") + 1] = "1000"
    flags[flags.index("--data_dir") + 1] = str(tiny_cifar / "cifar10.npz")  # the file itself, not its folder
    process = subprocess.Popen([sys.executable, "-m", "tinygrad_ift", "train", *flags], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in process.stdout:
        if line.startswith("epoch 1/1000:"):  # the first epoch is done: press Ctrl-C in the second
            break
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "--resume" in stderr and str(logdir) in stderr
    results = json.loads((logdir / "results.json").read_text())
    assert results["finished"] is False and results["test_acc"] is None
    assert len(results["train_losses"]) == checkpoint_epoch(logdir) >= 1
    assert (logdir / "loss.png").stat().st_size > 0


@pytest.fixture
def ctrl_c_enabled():
    """Ctrl-C raises KeyboardInterrupt during the test, even when the suite was started with SIGINT ignored
    (a background job inherits that)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_an_epoch_is_recorded_waits_for_its_checkpoint(tiny_cifar, tmp_path, monkeypatch,
                                                                   ctrl_c_enabled):
    real_save = trainer_module.save_checkpoint

    def ctrl_c_then_save(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # pressed after the history took epoch 1, before its checkpoint
        real_save(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "save_checkpoint", ctrl_c_then_save)
    with pytest.raises(SystemExit) as exit_info:
        main(tiny_run(tiny_cifar, tmp_path / "run"))
    assert exit_info.value.code == 130
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert len(results["train_losses"]) == checkpoint_epoch(tmp_path / "run") == 1


def test_an_earlier_run_is_kept_unless_resume_or_overwrite_says_otherwise(tiny_cifar, tmp_path, monkeypatch,
                                                                         capsys):
    logdir = tmp_path / "run"
    main(tiny_run(tiny_cifar, logdir, "--epochs", "2"))
    before = (logdir / "results.json").read_bytes()
    refused = run_cli("train", *tiny_run(tiny_cifar, logdir, "--epochs", "1"))
    assert_one_line_error(refused, "already holds a run", "--resume", "--overwrite", str(logdir))
    assert (logdir / "results.json").read_bytes() == before and checkpoint_epoch(logdir) == 2
    both = cli_error(tiny_run(tiny_cifar, logdir, "--resume", "--overwrite"), capsys)
    assert "--overwrite" in both and "not allowed with" in both

    def interrupted(self, epoch):
        raise KeyboardInterrupt
    monkeypatch.setattr(trainer_module.Trainer, "train_epoch", interrupted)
    with pytest.raises(SystemExit) as exit_info:  # --overwrite deletes the earlier run before training
        main(tiny_run(tiny_cifar, logdir, "--overwrite", "--epochs", "1"))
    assert exit_info.value.code == 130
    assert not list(logdir.iterdir())
    monkeypatch.undo()
    assert len(main(tiny_run(tiny_cifar, logdir, "--epochs", "1"))["train_losses"]) == 1
    (logdir / "checkpoint.npz").unlink()
    no_checkpoint = cli_error(tiny_run(tiny_cifar, logdir, "--resume"), capsys)
    assert "no checkpoint.npz to resume from" in no_checkpoint and "--overwrite" in no_checkpoint


@pytest.mark.parametrize("case", ["empty string", "existing file", "under a file", "read-only folder"])
def test_an_unwritable_logdir_is_refused_before_any_data_is_read(case, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    logdir = {"empty string": "", "existing file": str(tmp_path / "file"),
              "under a file": str(tmp_path / "file" / "run"), "read-only folder": str(tmp_path / "locked" / "run")
              }[case]
    if case == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders (see the os.access test below)")
        (tmp_path / "locked").mkdir(mode=0o555)
    empty = tmp_path / "no_data"
    empty.mkdir()  # were the data read first, the error would be about --data_dir
    assert "--logdir" in cli_error(["--data_dir", str(empty), "--logdir", logdir], capsys)


def test_a_logdir_without_write_permission_is_refused(tmp_path, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    with pytest.raises(SystemExit):
        main(["--data_dir", str(tmp_path), "--logdir", str(locked / "run")])
    assert f"--logdir: {locked} is not writable" in capsys.readouterr().err


def test_resume_never_contradicts_its_checkpoint(tiny_cifar, tmp_path, capsys):
    logdir = tmp_path / "run"
    main(tiny_run(tiny_cifar, logdir, "--epochs", "2"))
    before = (logdir / "results.json").read_bytes()
    fewer = cli_error(tiny_run(tiny_cifar, logdir, "--resume", "--epochs", "1"), capsys)
    assert "holds 2 finished epochs" in fewer and "--epochs 2 or more" in fewer
    assert (logdir / "results.json").read_bytes() == before
    extended = main(tiny_run(tiny_cifar, logdir, "--resume", "--epochs", "3"))
    assert len(extended["train_losses"]) == extended["config"]["epochs"] == 3


@pytest.mark.parametrize("content, fragment", [
    ("{\"hidden_sizes\": [32],}", "is not valid JSON"),
    ("[32]", "expected a JSON object"),
    ("{\"hidden_sizes\": \"32\"}", "'hidden_sizes' should be a list of positive integers"),
    ("{\"hidden_sizes\": [0]}", "'hidden_sizes' should be a list of positive integers"),
    ("{\"activation\": 3}", "'activation' should be a string"),
    ("{\"hiden_sizes\": [32]}", "unknown key 'hiden_sizes'"),
    ("{\"activation\": \"relu\"}", "missing key 'hidden_sizes'"),
    ("{\"hidden_sizes\": [8], \"activation\": \"swish\"}", "swish"),  # a value the constructor rejects
])
def test_a_bad_model_config_is_a_one_line_error_naming_the_file_and_key(content, fragment, tiny_cifar, tmp_path,
                                                                       capsys):
    config = tmp_path / "mlp.json"
    config.write_text(content)
    error = cli_error(["--data_dir", str(tiny_cifar), "--logdir", str(tmp_path / "run"), "--model_config",
                       str(config), "--epochs", "1"], capsys)
    assert "--model_config" in error and str(config) in error and fragment in error
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("damage", ["truncated", "corrupted", "not a checkpoint"])
def test_a_damaged_checkpoint_is_a_one_line_error_saying_what_to_do(damage, tiny_cifar, tmp_path, capsys):
    logdir = tmp_path / "run"
    main(tiny_run(tiny_cifar, logdir, "--epochs", "1"))
    checkpoint = logdir / "checkpoint.npz"
    raw = checkpoint.read_bytes()
    if damage == "truncated":
        checkpoint.write_bytes(raw[:len(raw) // 2])
    elif damage == "corrupted":
        middle = len(raw) // 2
        checkpoint.write_bytes(raw[:middle] + bytes(64) + raw[middle + 64:])
    else:
        tg.save({"weight": np.zeros(3)}, checkpoint)
    capsys.readouterr()
    error = cli_error(tiny_run(tiny_cifar, logdir, "--resume", "--epochs", "2"), capsys)
    assert "--resume" in error and str(checkpoint) in error and "--overwrite" in error


def test_mistakes_typed_in_a_shell_are_one_line_errors(tiny_cifar, tmp_path):
    """The same checks through `python -m tinygrad_ift train` in a fresh interpreter: no traceback escapes."""
    (tmp_path / "bad.json").write_text("{\"hidden_sizes\": 32}")
    bad_config = run_cli("train", "--data_dir", str(tiny_cifar), "--logdir", str(tmp_path / "run"),
                         "--model_config", str(tmp_path / "bad.json"))
    assert_one_line_error(bad_config, "--model_config", "bad.json", "'hidden_sizes'")
    under_a_file = run_cli("train", "--data_dir", str(tiny_cifar), "--logdir", str(tmp_path / "bad.json" / "run"))
    assert_one_line_error(under_a_file, "--logdir", "is a file, not a folder")
    main(tiny_run(tiny_cifar, tmp_path / "run", "--epochs", "1"))
    cut = (tmp_path / "run" / "checkpoint.npz")
    cut.write_bytes(cut.read_bytes()[:1000])
    damaged = run_cli("train", *tiny_run(tiny_cifar, tmp_path / "run", "--resume"))
    assert_one_line_error(damaged, "--resume", "checkpoint.npz is damaged", "--overwrite")


def test_missing_matplotlib_is_found_at_start_up_with_an_install_hint(tmp_path):
    code = "import sys; sys.modules['matplotlib'] = None; from tinygrad_ift.__main__ import main; main()"
    result = subprocess.run([sys.executable, "-c", code, "train", "--data_dir", str(tmp_path), "--logdir",
                             str(tmp_path / "run")], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert_one_line_error(result, "matplotlib", "pip install")


def test_a_test_only_file_is_refused_with_what_training_needs(tmp_path, capsys):
    np.savez(tmp_path / "test-only.npz", x_test=np.zeros((2, 32, 32, 3), np.uint8), y_test=np.arange(2))
    with pytest.raises(SystemExit):
        main(["--data_dir", str(tmp_path / "test-only.npz"), "--logdir", str(tmp_path / "run")])
    assert "has no x_train/y_train" in capsys.readouterr().err


def test_help_exits_0_and_demo_help_does_not_run_the_demo():
    top = run_cli("--help")
    assert top.returncode == 0 and "demo" in top.stdout and "train" in top.stdout
    demo_help = run_cli("demo", "--help")
    assert demo_help.returncode == 0 and "--steps" in demo_help.stdout and "step    0" not in demo_help.stdout
    unknown = run_cli("trian")
    assert unknown.returncode == 2 and "unknown command 'trian'" in unknown.stderr


def test_resume_refuses_to_switch_devices(tiny_cifar, tmp_path, capsys):
    """The GPU's random streams (augmentation, dropout) differ from the CPU's: a resumed run stays where it was."""
    if not tg.cuda_available():
        pytest.skip("needs CuPy and a GPU, or the stand-in (pytest --cupy-standin)")
    main(tiny_run(tiny_cifar, tmp_path / "run", "--epochs", "1"))
    with pytest.raises(SystemExit) as exit_info:
        main(tiny_run(tiny_cifar, tmp_path / "run", "--resume", "--device", "cuda"))
    assert exit_info.value.code == 2
    assert "device" in capsys.readouterr().err


def test_ctrl_c_held_leaves_an_ignored_ctrl_c_ignored():
    """A process started to ignore Ctrl-C (`nohup ... &`) keeps ignoring it while an epoch is recorded."""
    from tinygrad_ift.training.trainer import ctrl_c_held
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with ctrl_c_held():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_held_raises_a_held_ctrl_c_after_the_block(ctrl_c_enabled):
    from tinygrad_ift.training.trainer import ctrl_c_held
    done = []
    with pytest.raises(KeyboardInterrupt):
        with ctrl_c_held():
            os.kill(os.getpid(), signal.SIGINT)
            done.append(True)
    assert done == [True]


def test_a_ctrl_c_while_a_progress_bar_is_built_waits_for_it(ctrl_c_enabled, monkeypatch):
    """Ctrl-C in the middle of tqdm's constructor: the bar is finished first (a half-built one prints a traceback
    when it is cleaned up), then the Ctrl-C is raised."""
    from tinygrad_ift.training import trainer
    built = []

    class InterruptedBar(trainer.tqdm):
        def __init__(self, *args, **kwargs):
            os.kill(os.getpid(), signal.SIGINT)
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(trainer, "tqdm", InterruptedBar)
    with pytest.raises(KeyboardInterrupt):
        trainer._progress_bar(range(3), "epoch", leave=False)
    assert len(built) == 1 and hasattr(built[0], "pos")
    built[0].close()
