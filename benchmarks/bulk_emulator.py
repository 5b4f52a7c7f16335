"""Start ``kms-toolkit emulator`` as a separate process for the bulk benchmarks.

The emulator must not share the client's process (nor its GIL): each
benchmark measures the client side alone, as it would run against NCP.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from kms_toolkit.credentials import Credentials

KMS_TOOLKIT = str(Path(sys.executable).with_name("kms-toolkit"))


@contextmanager
def emulator_process(*options: str) -> Iterator[dict[str, Any]]:
    """Run an emulator with ``options`` until the block ends; yield its announcement."""
    process = subprocess.Popen(
        [KMS_TOOLKIT, "emulator", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        announced = json.loads(process.stdout.readline())
        announced["credentials"] = Credentials(
            announced["access_key"], announced["secret_key"], source="emulator"
        )
        yield announced
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def admin(emulator: dict[str, Any], method: str, route: str) -> Any:
    """Call one of the emulator's admin routes."""
    response = httpx.request(method, f"{emulator['admin_url']}/{route}", timeout=30)
    response.raise_for_status()
    return response.json()


def disabled_versions(emulator: dict[str, Any], count: int) -> list[tuple[str, int]]:
    """The first ``count`` versions the emulator can enable."""
    pairs = [tuple(pair) for pair in admin(emulator, "GET", "disabled-versions")]
    if len(pairs) < count:
        raise SystemExit(f"the emulator has only {len(pairs)} disabled versions")
    return pairs[:count]  # type: ignore[return-value]
