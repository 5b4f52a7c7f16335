"""spawn(): the emulator in a child process, announced, reachable and stopped."""

from __future__ import annotations

import os

import pytest

from kms_toolkit.client import KmsClient
from kms_toolkit.emulator import spawn


def test_spawned_emulator_serves_signed_requests_and_stops() -> None:
    """The announced URL and credentials work; the process is gone afterwards."""
    with spawn("--dataset", "demo") as emulator:
        key_tag, version = emulator.disabled_versions()[0]
        with KmsClient(emulator.credentials, endpoint=emulator.url) as kms:
            kms.get_key(key_tag)
        pid = emulator.pid
        counters = emulator.admin("GET", "counters")

    assert counters["requests"]["getKeyInfo"] == {"200": 1}
    assert isinstance(version, int)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_disabled_versions_can_be_counted_out() -> None:
    """A count gives the first pairs; asking for more than there are says so."""
    with spawn("--dataset", "demo") as emulator:
        every = emulator.disabled_versions()
        first_two = emulator.disabled_versions(2)
        with pytest.raises(LookupError, match=rf"holds {len(every)} .*not 999"):
            emulator.disabled_versions(999)

    assert first_two == every[:2]
    assert len(every) > 2


def test_spawn_reports_why_the_emulator_did_not_start() -> None:
    """A bad option surfaces as RuntimeError carrying the emulator's own message."""
    with (
        pytest.raises(RuntimeError, match=r"(?s)status 2 .*invalid choice: 'nope'"),
        spawn("--dataset", "nope"),
    ):
        pass  # pragma: no cover - never reached


def test_spawned_emulator_secret_is_masked_in_its_repr() -> None:
    """The handle's repr shows the access key but never the secret."""
    with spawn(
        "--dataset", "demo", "--access-key", "AK1", "--secret-key", "S3cr3t-x"
    ) as emulator:
        shown = repr(emulator)

    assert "AK1" in shown
    assert "S3cr3t-x" not in shown
