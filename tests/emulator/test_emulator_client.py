"""The toolkit's own client, pointed at the emulator, round-trips every operation."""

from __future__ import annotations

import httpx
import pytest

from kms_toolkit.client import AsyncKmsClient, KmsClient
from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator import EmulatorApp, Fault, RunningEmulator
from kms_toolkit.errors import (
    AuthenticationError,
    EndpointTimeoutError,
    NotFoundError,
    ThrottledError,
    TransportError,
)
from tests.emulator.emulator_testkit import FrozenClock, tag_of


def test_sync_client_round_trips_all_five_operations(
    running: RunningEmulator, pair: Credentials
) -> None:
    """List, info, versions, enable and disable through KmsClient over HTTP."""
    tag = tag_of(running.state, "payments-db")

    with KmsClient(pair, endpoint=running.url) as kms:
        page = kms.list_keys(page_no=1, page_size=5)
        info = kms.get_key(tag)
        versions = kms.list_key_versions(tag)
        enabled = kms.enable_key_version(tag, 2)
        disabled = kms.disable_key_version(tag, 1)

    assert len(page.keys) == 5
    assert info.current_version == 5
    assert [str(v.status) for v in versions.versions].count("DISABLE") == 2
    assert (enabled.version, enabled.status) == (2, "ENABLE")
    assert (disabled.version, disabled.status) == (1, "DISABLE")
    assert running.state.version_status(tag, 2) == "ENABLE"
    assert running.counters.enables(tag, 2) == 1


async def test_async_client_round_trips_in_process(
    app: EmulatorApp, pair: Credentials, clock: FrozenClock
) -> None:
    """AsyncKmsClient over httpx.ASGITransport reaches the same rules."""
    tag = tag_of(app.state, "customer-pii")
    transport = httpx.ASGITransport(app)

    async with AsyncKmsClient(
        pair, endpoint="http://127.0.0.1/kms/v1", transport=transport, clock=clock
    ) as kms:
        keys = [key async for key in kms.iter_keys(page_size=3)]
        info = await kms.get_key(tag)
        versions = await kms.list_key_versions(tag)
        enabled = await kms.enable_key_version(tag, 1)
        disabled = await kms.disable_key_version(tag, 2)

    assert len(keys) == len(app.state)
    assert info.key_tag == tag
    assert len(versions.versions) == 4
    assert enabled.status == "ENABLE"
    assert disabled.status == "DISABLE"


async def test_async_client_over_the_real_server(
    running: RunningEmulator, pair: Credentials
) -> None:
    """AsyncKmsClient with its default aiohttp transport talks to the server."""
    tag = tag_of(running.state, "archive-encryption")

    async with AsyncKmsClient(pair, endpoint=running.url) as kms:
        changes = [await kms.enable_key_version(tag, v) for v in (1, 4, 5, 9)]

    assert {change.status for change in changes} == {"ENABLE"}
    assert running.state.count_disabled_versions(enabled_keys_only=True) == 4


def test_client_maps_the_emulator_refusals_to_its_errors(
    running: RunningEmulator, pair: Credentials
) -> None:
    """Gateway and service refusals become the toolkit's typed errors."""
    tag = tag_of(running.state, "payments-db")
    running.schedule(Fault.ENDPOINT_TIMEOUT, operation="getKeyInfo")
    running.schedule(Fault.THROTTLE_LIMITED, operation="getKeyVersionList")
    running.schedule(Fault.DROP, operation="disableKeyVersion")

    with KmsClient(pair, endpoint=running.url) as kms:
        with pytest.raises(EndpointTimeoutError) as timeout:
            kms.get_key(tag)
        with pytest.raises(ThrottledError) as throttled:
            kms.list_key_versions(tag)
        with pytest.raises(TransportError):
            kms.disable_key_version(tag, 1)
        with pytest.raises(NotFoundError) as missing:
            kms.enable_key_version("z" * 52, 1)
    with (
        KmsClient(Credentials(pair.access_key, "wrong"), endpoint=running.url) as kms,
        pytest.raises(AuthenticationError) as refused,
    ):
        kms.list_keys()

    assert timeout.value.error_code == "510"
    assert throttled.value.retry_after == 1
    assert missing.value.error_code == "KEY_NOT_FOUND"
    assert refused.value.error_code == "200"
