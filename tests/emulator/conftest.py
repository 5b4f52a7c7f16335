"""Fixtures for the emulator's tests: a frozen clock, signed clients, servers.

Every server a fixture starts is stopped in ``finally``, also when the test
fails.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from kms_toolkit.auth import SignatureV2
from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator import (
    EmulatorApp,
    Gateway,
    Injector,
    KmsState,
    RunningEmulator,
    build_state,
    serve,
)
from tests.emulator.emulator_testkit import (
    ACCESS_KEY,
    SECRET_KEY,
    FrozenClock,
    RecordingSleep,
)


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock shared by the state, the gateway and the app."""
    return FrozenClock()


@pytest.fixture
def pair() -> Credentials:
    """The key pair the test emulators accept."""
    return Credentials(ACCESS_KEY, SECRET_KEY)


@pytest.fixture
def state(clock: FrozenClock) -> KmsState:
    """The demo data set on the frozen clock."""
    return build_state("demo", clock=clock)


@pytest.fixture
def sleep() -> RecordingSleep:
    """Records injected latency instead of waiting."""
    return RecordingSleep()


@pytest.fixture
def app(
    state: KmsState, pair: Credentials, clock: FrozenClock, sleep: RecordingSleep
) -> EmulatorApp:
    """An in-process emulator app on the frozen clock."""
    return EmulatorApp(
        state,
        gateway=Gateway([pair], clock=clock),
        injector=Injector(seed=3, clock=clock),
        clock=clock,
        sleep=sleep,
    )


@pytest.fixture
async def client(
    app: EmulatorApp, pair: Credentials, clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client that signs with ``pair`` and talks to ``app`` in process."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app),
        base_url="http://emulator.test/kms/v1",
        auth=SignatureV2(pair, clock=clock),
    ) as signed:
        yield signed


@pytest.fixture
async def unsigned(app: EmulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client to ``app`` that signs nothing."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://emulator.test"
    ) as plain:
        yield plain


@pytest.fixture
def busy_threads() -> Iterator[None]:
    """Switch threads as often as the interpreter can, so races show."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


@pytest.fixture
def running(pair: Credentials) -> Iterator[RunningEmulator]:
    """A real emulator serving the demo data set on a free loopback port."""
    with serve(dataset="demo", credentials=pair) as emulator:
        yield emulator
