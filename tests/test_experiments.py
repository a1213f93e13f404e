"""The experiment scripts run end to end (quick settings, a small synthetic Fashion-MNIST) and write results."""
import json

import numpy as np
import pytest

from experiments import bayesnet, logistic_regression, manual_mlp


@pytest.fixture
def tiny_fashion(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 30)
    x = (rng.random((300, 28, 28)) * 80).astype(np.uint8)
    for label in range(10):  # each class lights its own band of rows: linearly separable
        x[y == label, 2 * label:2 * label + 3, :] = 255
    np.savez(tmp_path / "fashion-mnist.npz", x_train=x, y_train=y, x_test=x[::3], y_test=y[::3])
    return tmp_path


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


def test_bayesnet_script(tmp_path):
    result = bayesnet.main(["--logdir", str(tmp_path)])
    assert len(result) == 16 and result["P(R | do(G=g2))"] == result["P(R)"]
    assert json.loads((tmp_path / "results.json").read_text())["P(G)"] == [0.204, 0.2316, 0.5644]
