"""Command line: `python -m tinygrad_ift demo` runs the spiral demo; `python -m tinygrad_ift train --help`
lists the options for training a course model; `python -m tinygrad_ift --help` lists the commands."""
from __future__ import annotations

import argparse
import sys

USAGE = """usage: python -m tinygrad_ift {demo,train} [options]

commands:
  demo    train a small network on a synthetic spiral with the bare Tensor API (no dataset needed)
  train   train a course model (MLP, ResNet-18, MLP-Mixer) on CIFAR-10, MNIST or Fashion-MNIST

`python -m tinygrad_ift <command> --help` lists a command's options."""


def _demo(argv: list[str]) -> None:
    from .demo import main as demo

    parser = argparse.ArgumentParser(prog="python -m tinygrad_ift demo",
                                     description="Full-batch gradient descent on a 3-class 2-D spiral with a "
                                                 "two-layer network; prints the loss every 50 steps.")
    parser.add_argument("--steps", type=int, default=300, help="(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    args = parser.parse_args(argv)
    if args.steps < 0:
        parser.error(f"--steps: expected an integer >= 0, got {args.steps}")
    demo(steps=args.steps, seed=args.seed)


def _train(argv: list[str]) -> None:
    from .training import main as train
    train(argv)


COMMANDS = {"demo": _demo, "train": _train}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return
    if not argv or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        if argv:
            print(f"error: unknown command {argv[0]!r}", file=sys.stderr)
        sys.exit(2)
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main()
