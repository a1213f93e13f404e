"""The course experiments: the scripts' flags, the run store, every experiment end to end under the smoke profile
(synthetic data, seconds each), the report, the parallel and submitit launchers."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments import __main__ as cli
from experiments import bayesnet, launch, logistic_regression, manual_mlp
from experiments.catalog import EXPERIMENTS
from experiments.cifar import cifar_run
from experiments.store import Run, is_finished, load_result, prepare, run_hash

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny_fashion(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 30)
    x = (rng.random((300, 28, 28)) * 80).astype(np.uint8)
    for label in range(10):  # each class lights its own band of rows: linearly separable
        x[y == label, 2 * label:2 * label + 3, :] = 255
    np.savez(tmp_path / "fashion-mnist.npz", x_train=x, y_train=y, x_test=x[::3], y_test=y[::3])
    return tmp_path


# ----- the INF8225 scripts -------------------------------------------------------------------------------------
@pytest.mark.parametrize("script", [logistic_regression, manual_mlp])
def test_quick_runs_write_results(script, tiny_fashion, tmp_path):
    logdir = tmp_path / "out"
    result = script.main(["--quick", "--data_dir", str(tiny_fashion), "--logdir", str(logdir)])
    saved = json.loads((logdir / "results.json").read_text())
    assert saved["best"] == result["best"] and 0.0 <= saved["test_acc"] <= 1.0
    assert (logdir / "best_curves.png").stat().st_size > 0 and "best validation accuracy" in (logdir / "table.md").read_text()
    best = saved["runs"][saved["best"]]
    assert len(best["logs"]["valid_acc"]) == saved["settings"]["epochs"] + 1
    assert saved["test_acc"] > 0.5  # the synthetic classes are easy


@pytest.mark.parametrize("script", [logistic_regression, manual_mlp])
def test_quick_keeps_an_explicit_epochs(script, tiny_fashion, tmp_path):
    result = script.main(["--quick", "--epochs", "2", "--data_dir", str(tiny_fashion), "--logdir", str(tmp_path / "o")])
    assert result["settings"]["epochs"] == 2  # --quick alone would set 1 (manual MLP) or 2 (logistic)
    assert all(len(run["logs"]["valid_acc"]) == 3 for run in result["runs"].values())


@pytest.mark.parametrize("script, flags", [
    (logistic_regression, ["--epochs", "-2"]), (logistic_regression, ["--batch_sizes", "0"]),
    (logistic_regression, ["--batch_sizes", "-20"]), (logistic_regression, ["--subset", "-5"]),
    (logistic_regression, ["--subset", "0"]), (logistic_regression, ["--lrs", "0"]),
    (manual_mlp, ["--widths", "0"]), (manual_mlp, ["--epochs", "0"]), (manual_mlp, ["--depths", "-1"]),
    (manual_mlp, ["--lr_adam", "0"]), (manual_mlp, ["--batch_size", "0"]),
])
def test_bad_script_flags_are_argparse_errors(script, flags, capsys):
    with pytest.raises(SystemExit) as stop:
        script.main(flags)
    assert stop.value.code == 2 and f"argument {flags[0]}" in capsys.readouterr().err


def test_bad_flag_from_the_shell_prints_no_traceback():
    done = subprocess.run([sys.executable, "-m", "experiments.logistic_regression", "--epochs", "-2"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "--epochs" in done.stderr


@pytest.mark.parametrize("script", [logistic_regression, manual_mlp, bayesnet])
def test_default_output_is_not_the_committed_results(script, capsys):
    with pytest.raises(SystemExit):
        script.main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "(default: runs/" in help_text and "experiments/results" not in help_text


def test_bayesnet_script(tmp_path):
    result = bayesnet.main(["--logdir", str(tmp_path)])
    assert len(result) == 16 and result["P(R | do(G=g2))"] == result["P(R)"]
    assert json.loads((tmp_path / "results.json").read_text())["P(G)"] == [0.204, 0.2316, 0.5644]


# ----- the run store -------------------------------------------------------------------------------------------
def test_a_run_is_named_by_its_settings(tmp_path):
    a = Run("x", "relu", cifar_run("smoke", "mlp", activation="relu"))
    same = Run("y", "other label", cifar_run("smoke", "mlp", activation="relu"))
    other = Run("x", "relu", cifar_run("smoke", "mlp", activation="tanh"))
    assert a.folder(tmp_path) == same.folder(tmp_path) != other.folder(tmp_path)
    assert run_hash({"a": 1, "b": 2}) == run_hash({"b": 2, "a": 1})


def test_a_folder_holding_other_settings_is_never_reused(tmp_path):
    run = Run("x", "relu", {"kind": "bayesnet"})
    folder = prepare(run, tmp_path)
    (folder / "settings.json").write_text(json.dumps({"kind": "bayesnet", "changed": 1}))
    with pytest.raises(RuntimeError, match="other settings"):
        prepare(run, tmp_path)
    assert json.loads((folder / "settings.json").read_text())["changed"] == 1


def test_an_interrupted_cifar_run_resumes_from_its_checkpoint(tmp_path, monkeypatch, capsys):
    from tinygrad_ift.training import Trainer
    settings = {**cifar_run("smoke", "mlp"), "epochs": 2}
    run_dir = prepare(Run("t", "mlp", settings), tmp_path)
    real_train_epoch = Trainer.train_epoch

    def stop_in_epoch_2(self, epoch):
        if epoch == 2:
            raise KeyboardInterrupt
        return real_train_epoch(self, epoch)

    monkeypatch.setattr(Trainer, "train_epoch", stop_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        launch.execute(run_dir, "cpu", None)
    assert (run_dir / "checkpoint.npz").is_file() and not is_finished(run_dir)
    monkeypatch.setattr(Trainer, "train_epoch", real_train_epoch)
    result = launch.execute(run_dir, "cpu", None)
    assert "resuming from" in capsys.readouterr().out and len(result["valid_accs"]) == 2
    assert is_finished(run_dir)


HOLD_LOCK = """
import sys
from experiments.store import run_lock
with run_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_run_that_another_process_is_running_is_refused(tmp_path, capsys):
    (run,) = EXPERIMENTS["bayesnet"].run_list("smoke")
    run_dir = prepare(run, tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(run_dir)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SystemExit) as stop:
            cli.main(["run", "bayesnet", "--profile", "smoke", "--results_dir", str(tmp_path)])
        assert "1 run(s) are being run by another process" in str(stop.value.code)
        skipped = [line for line in capsys.readouterr().out.splitlines() if line.startswith("skipped:")]
        assert len(skipped) == 1 and f"being run by process {holder.pid} on" in skipped[0]
        assert not is_finished(run_dir)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    cli.main(["run", "bayesnet", "--profile", "smoke", "--results_dir", str(tmp_path)])  # released: it runs
    assert is_finished(run_dir)


# ----- every experiment under the smoke profile, the report, reuse -------------------------------------------
@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory):
    results = tmp_path_factory.mktemp("smoke")
    cli.main(["run", "all", "--profile", "smoke", "--results_dir", str(results)])
    return results


def test_every_experiment_runs_under_the_smoke_profile(smoke_store):
    for name, experiment in EXPERIMENTS.items():
        for run in experiment.run_list("smoke"):
            assert load_result(run, smoke_store) is not None, f"{name}: {run.label} did not finish"


def test_finished_runs_are_reused(smoke_store, monkeypatch, capsys):
    monkeypatch.setattr(launch, "EXECUTORS", {})  # any run that executed would fail with a KeyError
    cli.main(["run", "all", "--profile", "smoke", "--results_dir", str(smoke_store)])
    assert "0 to run" in capsys.readouterr().out


def test_report_shows_every_experiment_and_the_published_figures(smoke_store):
    cli.main(["report", "--profile", "smoke", "--results_dir", str(smoke_store)])
    report = (smoke_store / "REPORT.md").read_text()
    for name in EXPERIMENTS:
        assert f"(`{name}`)" in report
    assert "2,188,298" in report and "0.946" in report and "0.868" in report and "0.112" in report
    assert "Not run yet" not in report
    for link in [part.split(")")[0] for part in report.split("](")[1:]]:
        assert link.startswith("https://") or (smoke_store / link).is_file(), link


def test_the_course_validation_split_holds_training_images(smoke_store):
    runs = {run.label: load_result(run, smoke_store) for run in EXPERIMENTS["mlp_gap"].run_list("smoke")}
    assert runs["course MLP"]["valid_seen_in_training"] == 0.0
    redrawn = runs["course's validation split"]
    assert redrawn["valid_seen_in_training"] > 0.3
    assert 0.0 <= redrawn["valid_acc_trained_on"] <= 1.0 and 0.0 <= redrawn["valid_acc_held_out"] <= 1.0
    assert "valid_acc_held_out" not in runs["course MLP"]


def test_list_counts_finished_runs(smoke_store, capsys):
    cli.main(["list", "--profile", "smoke", "--results_dir", str(smoke_store)])
    assert "3/3 runs finished" in capsys.readouterr().out


@pytest.mark.parametrize("flags, named", [(["run", "no_such_experiment"], "python -m experiments list"),
                                          (["run", "bayesnet", "--jobs", "0"], "--jobs"),
                                          (["run", "bayesnet", "--data_dir", "/no/such/folder"], "--data_dir"),
                                          (["run", "bayesnet", "--profile", "huge"], "--profile")])
def test_bad_arguments_are_argparse_errors(flags, named, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(flags)
    assert stop.value.code == 2 and named in capsys.readouterr().err


# ----- launchers -------------------------------------------------------------------------------------------
def test_parallel_local_jobs(tmp_path):
    cli.main(["run", "bayesnet", "logistic_regression", "--profile", "smoke", "--jobs", "2",
              "--results_dir", str(tmp_path)])
    for name in ("bayesnet", "logistic_regression"):
        assert all(is_finished(run.folder(tmp_path)) for run in EXPERIMENTS[name].run_list("smoke"))


def test_worker_devices_spread_over_gpus(monkeypatch):
    monkeypatch.setattr(launch, "cuda_device_count", lambda: 2)
    assert launch.worker_devices("cuda", 3) == ["cuda:0", "cuda:1", "cuda:0"]
    assert launch.worker_devices("cuda:1", 2) == ["cuda:1", "cuda:1"]
    assert launch.worker_devices("cpu", 2) == ["cpu", "cpu"]


def test_submitit_local_executor_runs_the_jobs(tmp_path):
    pytest.importorskip("submitit")
    cli.main(["run", "bayesnet", "--profile", "smoke", "--launcher", "submitit_local",
              "--results_dir", str(tmp_path)])
    (run,) = EXPERIMENTS["bayesnet"].run_list("smoke")
    assert load_result(run, tmp_path)["queries"]["P(G)"] == [0.204, 0.2316, 0.5644]


def test_a_preempted_job_is_requeued_with_the_same_run(tmp_path):
    submitit = pytest.importorskip("submitit")
    job = launch.resumable_run()
    requeued = job.checkpoint(str(tmp_path), "cpu", None)
    assert isinstance(requeued, submitit.helpers.DelayedSubmission)
    assert requeued.args == (str(tmp_path), "cpu", None) and requeued.function is job


def test_redrawn_validation_is_drawn_as_the_course_main_py_draws_it():
    from experiments.cifar import redrawn_validation
    train, valid = np.arange(45000), np.arange(45000, 50000)
    redrawn = redrawn_validation(train, valid, seed=42)
    assert len(np.unique(redrawn)) == 5000 and np.isin(redrawn, np.arange(50000)).all()
    assert 0.88 < np.isin(redrawn, train).mean() < 0.92  # the course's own split: 4,489 of 5,000
    with pytest.raises(ValueError, match="validation"):
        cifar_run("smoke", "mlp", validation="leaky")


def test_jpeg_test_pass_scores_the_trained_model(tmp_path, monkeypatch):
    from experiments import cifar
    monkeypatch.setattr(cifar, "jpeg_round_trip", lambda images, quality: images)  # an identity "JPEG"
    run_dir = prepare(Run("t", "mlp", cifar_run("smoke", "mlp", jpeg_test_quality=75)), tmp_path)
    result = launch.execute(run_dir, "cpu", None)
    assert result["jpeg_test_loss"] == result["test_loss"] and result["jpeg_test_acc"] == result["test_acc"]
    assert result["step_peak_bytes"] > 0
