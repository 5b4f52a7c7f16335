"""``kms-toolkit emulator`` that signals itself once its first line is out.

A test cannot signal a child faster than the child can: by the time the
test has read the announcement, the emulator may be well past it. This
shim makes the moment exact::

    python emulator_child.py --signal-self SIGNUM [emulator options]

It sends its own process SIGNUM right after writing its first line (the
moment a script that has read that line would signal it), then runs
``kms-toolkit emulator`` through the command's own ``main``.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from kms_toolkit.cli import main as kms_toolkit


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
    """Run ``kms-toolkit emulator`` with ``argv`` after ``--signal-self SIGNUM``."""
    if argv[:1] != ["--signal-self"] or len(argv) < 2:
        sys.exit("usage: emulator_child.py --signal-self SIGNUM [emulator options]")
    sys.stdout = SignalAfterFirstLine(sys.stdout, int(argv[1]))
    return kms_toolkit(["emulator", *argv[2:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
