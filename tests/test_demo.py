"""The README's main job: the demo's loss falls."""
from tinygrad_ift import demo


def test_demo_loss_falls(capsys):
    history = demo.main(steps=200)
    assert history[-1] < 0.5 * history[0]
    assert "loss" in capsys.readouterr().out
