"""The emulator in a process of its own, for benchmarks, load tests and scripts.

In one process a client and the emulator share the interpreter's lock, so a
measurement of either includes both. ``spawn`` runs ``kms-toolkit emulator``
as a child process, reads the JSON line it announces itself with, and always
stops it when the block ends.

Example:
    >>> from kms_toolkit.client import AsyncKmsClient
    >>> with spawn("--dataset", "demo", "--latency-ms", "20") as emulator:
    ...     kms = AsyncKmsClient(emulator.credentials, endpoint=emulator.url)
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from kms_toolkit.credentials import Credentials

__all__ = ["EmulatorProcess", "spawn"]


@dataclass(frozen=True)
class EmulatorProcess:
    """A running ``kms-toolkit emulator`` child process, as it announced itself."""

    url: str
    admin_url: str
    credentials: Credentials
    pid: int

    def admin(self, method: str, route: str, **kwargs: Any) -> Any:
        """Call one of the emulator's admin routes and return its JSON answer."""
        response = httpx.request(
            method, f"{self.admin_url}/{route}", timeout=30, **kwargs
        )
        response.raise_for_status()
        return response.json()

    def disabled_versions(self, count: int | None = None) -> list[tuple[str, int]]:
        """The ``(key_tag, version)`` pairs the emulator holds disabled.

        With ``count``, the first ``count`` of them; a ``LookupError`` says so
        when it holds fewer (a benchmark would otherwise measure a smaller run).
        """
        pairs = [
            (tag, version) for tag, version in self.admin("GET", "disabled-versions")
        ]
        if count is None:
            return pairs
        if len(pairs) < count:
            raise LookupError(
                f"the emulator holds {len(pairs)} disabled versions, not {count}"
            )
        return pairs[:count]


@contextmanager
def spawn(*options: str, stop_timeout: float = 10.0) -> Iterator[EmulatorProcess]:
    """Run ``kms-toolkit emulator OPTIONS`` until the block ends.

    Raises:
        RuntimeError: the emulator exited before announcing itself; the message
            carries what it wrote on stderr (for example a bad option).
    """
    command = [sys.executable, "-m", "kms_toolkit", "emulator", *options]
    with tempfile.TemporaryFile(mode="w+") as stderr:
        # An argument list with this interpreter, never a shell: nothing to inject.
        process = subprocess.Popen(  # noqa: S603
            command, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        try:
            yield _announced(process, stderr)
        finally:
            _stop(process, stop_timeout)


def _announced(process: subprocess.Popen[str], stderr: Any) -> EmulatorProcess:
    """The emulator's first stdout line, read into an ``EmulatorProcess``."""
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        stderr.seek(0)
        raise RuntimeError(
            f"the emulator exited with status {process.returncode} before "
            f"announcing itself: {stderr.read().strip()[-2000:]}"
        )
    announced = json.loads(line)
    return EmulatorProcess(
        url=announced["url"],
        admin_url=announced["admin_url"],
        credentials=Credentials(
            announced["access_key"], announced["secret_key"], source="emulator"
        ),
        pid=process.pid,
    )


def _stop(process: subprocess.Popen[str], timeout: float) -> None:
    """SIGTERM, then SIGKILL if it does not exit within ``timeout`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
