"""Fixtures for the bulk tests: a scripted fake client, the emulator in process
behind a real client, stamina's test mode."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import stamina

from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator import EmulatorApp, build_app
from kms_toolkit.errors import NotFoundError
from kms_toolkit.models import (
    KeyVersion,
    KeyVersionChange,
    KeyVersionList,
    KeyVersionStatus,
)
from tests.conftest import ACCESS_KEY, CANARY_SECRET

STATUS_DATE = datetime(2024, 12, 6, 4, 49, 1, 703000, tzinfo=UTC)
#: The in-process emulator answers whatever host a request names; NCP's own
#: endpoint shows that the run records the endpoint and nothing else.
EMULATOR_ENDPOINT = "https://ocapi.ncloud.com/kms/v1"


class FakeKms:
    """An in-memory stand-in for AsyncKmsClient's two bulk methods.

    ``statuses`` maps (key_tag, version) to its status; ``failures`` maps a
    target to a list of errors raised by its next enables, one per call.
    """

    def __init__(
        self,
        statuses: dict[tuple[str, int], KeyVersionStatus],
        *,
        failures: dict[tuple[str, int], list[Exception]] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.statuses = dict(statuses)
        self.failures = {k: list(v) for k, v in (failures or {}).items()}
        self.delay = delay
        self.enables: Counter[tuple[str, int]] = Counter()
        self.reads: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        self.base_url = "http://127.0.0.1:9/kms/v1"
        self.on_enable: Callable[[tuple[str, int]], None] | None = None
        self.closed = False

    async def enable_key_version(self, key_tag: str, version: int) -> KeyVersionChange:
        target = (key_tag, version)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            self.enables[target] += 1
            if self.on_enable is not None:
                self.on_enable(target)
            pending = self.failures.get(target)
            if pending:
                raise pending.pop(0)
            if target not in self.statuses:
                raise NotFoundError(status_code=404, error_code="300", message="nf")
            self.statuses[target] = KeyVersionStatus.ENABLE
            return KeyVersionChange(
                key_tag, version, KeyVersionStatus.ENABLE, STATUS_DATE
            )
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        self.closed = True

    async def list_key_versions(self, key_tag: str) -> KeyVersionList:
        self.reads[key_tag] += 1
        versions = [
            KeyVersion(version, status, STATUS_DATE)
            for (tag, version), status in sorted(self.statuses.items())
            if tag == key_tag
        ]
        if not versions:
            raise NotFoundError(status_code=404, error_code="300", message="nf")
        return KeyVersionList(key_tag, len(versions), tuple(versions))


def disabled(*targets: tuple[str, int]) -> dict[tuple[str, int], KeyVersionStatus]:
    """Statuses with every given target disabled."""
    return {target: KeyVersionStatus.DISABLE for target in targets}


class CountingTransport(httpx.AsyncBaseTransport):
    """Hands each request to an in-process ASGI app, counting what is sent."""

    def __init__(self, app: EmulatorApp) -> None:
        self._app = httpx.ASGITransport(app)
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await self._app.handle_async_request(request)

    async def aclose(self) -> None:
        await self._app.aclose()


@pytest.fixture
def emulator() -> EmulatorApp:
    """A synthetic account in process (131 disabled versions of enabled
    keys) that accepts the canary credentials only."""
    app, _ = build_app(
        "synthetic",
        keys=60,
        versions_per_key=8,
        seed=4,
        credentials=Credentials(ACCESS_KEY, CANARY_SECRET),
    )
    return app


def emulator_client(
    app: EmulatorApp, *, secret: str = CANARY_SECRET
) -> tuple[AsyncKmsClient, CountingTransport]:
    """A real ``AsyncKmsClient`` signing with ``secret``, talking to ``app``."""
    transport = CountingTransport(app)
    client = AsyncKmsClient(
        Credentials(ACCESS_KEY, secret),
        endpoint=EMULATOR_ENDPOINT,
        transport=transport,
    )
    return client, transport


@pytest.fixture(autouse=True)
def no_retry_waits() -> Iterator[None]:
    """Retries happen, but stamina waits for nothing (its test mode, attempts kept)."""
    with stamina.set_testing(True, attempts=1_000, cap=True):
        yield


@pytest.fixture
def real_retry_waits(no_retry_waits: None) -> Iterator[None]:
    """Retries wait as in production: stamina's test mode is off for this test."""
    with stamina.set_testing(False):
        yield


class RecordingSleep:
    """A stand-in for ``asyncio.sleep`` that records each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def ledger_files(path: Path) -> list[Path]:
    """A ledger file and the journal files SQLite keeps beside it."""
    return [path, *path.parent.glob(f"{path.name}-*")]


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    """A ledger path that does not exist yet."""
    return tmp_path / "run.sqlite"
