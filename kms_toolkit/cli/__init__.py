"""The ``kms-toolkit`` command: one subcommand per job, each in its own module.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds
its subcommands and sets ``handler`` (taking the parsed arguments, returning
the exit status) on each.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

COMMAND_MODULES: tuple[str, ...] = ("emulator", "enable", "bulk", "demo")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="kms-toolkit",
        description="Enable NAVER Cloud Platform KMS key versions, one or in bulk.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"kms_toolkit.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
