"""Command line: `python -m tinygrad_ift demo` runs the spiral demo; `python -m tinygrad_ift train --help`
lists the options for training a course model."""
from __future__ import annotations

import sys


def _demo(argv: list[str]) -> None:
    from .demo import main as demo
    demo()


def _train(argv: list[str]) -> None:
    from .training import main as train
    train(argv)


COMMANDS = {"demo": _demo, "train": _train}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        sys.exit(f"usage: python -m tinygrad_ift {{{','.join(COMMANDS)}}} [options]")
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main()
