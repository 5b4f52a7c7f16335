"""The ``kms-toolkit`` dispatcher: every subcommand found, and found cheaply."""

from __future__ import annotations

import argparse
import subprocess
import sys

from kms_toolkit.cli import COMMAND_MODULES, COMMANDS, build_parser


def registered_subcommands(parser: argparse.ArgumentParser) -> set[str]:
    """The names of the subcommands ``parser`` knows."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("the parser has no subcommands")


def test_commands_map_every_registered_subcommand_to_its_module() -> None:
    """COMMANDS names each subcommand and the one module that registers it."""
    assert registered_subcommands(build_parser()) == set(COMMANDS)
    for command, module in COMMANDS.items():
        assert module in COMMAND_MODULES
        assert command in registered_subcommands(build_parser([module]))


def test_the_emulator_and_enable_commands_do_not_import_pandas() -> None:
    """Starting the emulator or one enable skips the bulk commands' imports."""
    probe = (
        "import sys\n"
        "from kms_toolkit.cli import main\n"
        "try:\n"
        "    main([sys.argv[1], '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('pandas' in sys.modules)\n"
    )
    for command in ("emulator", "enable"):
        answer = subprocess.run(
            [sys.executable, "-c", probe, command],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert answer.stdout.splitlines()[-1] == "False", command


def test_an_unknown_command_lists_every_subcommand() -> None:
    """A typo gets the full parser's usage error naming all subcommands."""
    answer = subprocess.run(
        [sys.executable, "-m", "kms_toolkit", "enabel"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert answer.returncode == 2
    for command in COMMANDS:
        assert f"'{command}'" in answer.stderr
