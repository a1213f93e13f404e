"""Training runs from the command line (`python -m tinygrad_ift train`) or from Python: the epoch loop,
checkpoints with exact resume, results.json and loss/accuracy plots."""
from .cli import build_parser, main
from .plots import generate_plots, plot_curves
from .trainer import NonFiniteLossError, Trainer, train

__all__ = ["main", "build_parser", "train", "Trainer", "NonFiniteLossError", "generate_plots", "plot_curves"]
