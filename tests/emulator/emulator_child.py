"""``kms-toolkit emulator`` alone, as a quick child process for the CLI tests.

The full ``kms-toolkit`` command imports what its other subcommands need
(pandas among them), which takes seconds; this registers the emulator
subcommand only, so a test can start several in the time of one::

    python emulator_child.py [--signal-self SIGNUM] [emulator options]

With ``--signal-self`` the process sends itself SIGNUM right after writing
its first line: the moment a script that has read that line would signal it.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from kms_toolkit.cli import emulator


class SignalAfterFirstLine:
    """A stdout stand-in that signals its own process once a line is out."""

    def __init__(self, stream: TextIO, signum: int) -> None:
        self._stream = stream
        self._signum = signum
        self._sent = False

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        if not self._sent and "\n" in text:
            self._sent = True
            self._stream.flush()
            os.kill(os.getpid(), self._signum)
        return written

    def flush(self) -> None:
        self._stream.flush()


def main(argv: list[str]) -> int:
    """Run ``kms-toolkit emulator`` with ``argv``; return its exit status."""
    if argv[:1] == ["--signal-self"]:
        sys.stdout = SignalAfterFirstLine(sys.stdout, int(argv[1]))
        argv = argv[2:]
    parser = argparse.ArgumentParser(prog="kms-toolkit")
    emulator.register(parser.add_subparsers())
    args = parser.parse_args(["emulator", *argv])
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
