"""Shared pieces of the emulator's tests: a frozen clock, answer checks, threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from kms_toolkit.emulator import KmsState

#: 2026-06-01T00:00:00Z, a fixed instant for exact dates and signatures.
FROZEN_NOW = 1_780_272_000.0
ACCESS_KEY = "EMUTESTACCESSKEY"
SECRET_KEY = "emulator-test-secret"


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: float = FROZEN_NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


class RecordingSleep:
    """An ``asyncio.sleep`` stand-in that records delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def disabled_target(state: KmsState) -> tuple[str, int]:
    """The first disabled version of an enabled key in ``state``."""
    return state.disabled_versions(enabled_keys_only=True)[0]


def tag_of(state: KmsState, name: str) -> str:
    """The tag of the key called ``name``."""
    return next(tag for tag in state.key_tags() if state.key_info(tag).key_name == name)


def assert_error(
    response: httpx.Response, status: int, error_code: str
) -> dict[str, Any]:
    """Assert the gateway error shape, status and code; return the error object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert error["errorCode"] == error_code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error.get("details", ""), str)
    return error


def run_together(works: list[Callable[[], None]]) -> None:
    """Run each of ``works`` in a thread, all released at once; re-raise a failure."""
    start = threading.Barrier(len(works))
    failures: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        start.wait()
        try:
            work()
        except BaseException as error:  # handed to the test's own thread
            failures.append(error)

    pool = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if failures:
        raise failures[0]
