"""The ``kms-toolkit`` command: one subcommand per job, each in its own module.

Each module named in ``COMMAND_MODULES`` exposes ``register(subparsers)``,
which adds its subcommands and sets ``handler`` (taking the parsed arguments,
returning the exit status) on each. ``COMMANDS`` says which module holds
each subcommand, so that running one imports only its module: the bulk
commands need pandas, which takes over a second to import, and neither
``kms-toolkit emulator`` (started by scripts and tests, often many times)
nor ``kms-toolkit enable`` should wait for it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Sequence
from typing import Final

__all__ = ["COMMANDS", "COMMAND_MODULES", "build_parser", "main"]

COMMAND_MODULES: Final[tuple[str, ...]] = ("emulator", "enable", "bulk", "demo")

# Subcommand -> the module in kms_toolkit.cli that registers it.
COMMANDS: Final[dict[str, str]] = {
    "emulator": "emulator",
    "enable": "enable",
    "plan": "bulk",
    "run": "bulk",
    "resume": "bulk",
    "report": "bulk",
    "demo": "demo",
}


def build_parser(modules: Iterable[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The top-level parser with the subcommands of ``modules`` registered."""
    parser = argparse.ArgumentParser(
        prog="kms-toolkit",
        description="Enable NAVER Cloud Platform KMS key versions, one or in bulk.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in modules:
        module = importlib.import_module(f"kms_toolkit.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments else None
    # A known subcommand needs its own module only; anything else (--help, a
    # typo) gets the full parser, which lists every subcommand.
    modules = (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES
    args = build_parser(modules).parse_args(arguments)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
