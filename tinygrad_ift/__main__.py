"""Command line: `python -m tinygrad_ift demo` runs the spiral demo."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"demo": "tinygrad_ift.demo"}
    if not argv or argv[0] not in commands:
        sys.exit(f"usage: python -m tinygrad_ift {{{','.join(commands)}}} [options]")
    import importlib
    importlib.import_module(commands[argv[0]]).main()


if __name__ == "__main__":
    main()
