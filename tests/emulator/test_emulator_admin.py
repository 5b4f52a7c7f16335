"""The emulator's own routes under /_emulator: counters, config, faults, state."""

from __future__ import annotations

import httpx

from kms_toolkit.emulator import EmulatorApp, KmsState
from tests.emulator.emulator_testkit import assert_error, disabled_target


async def test_counters_route_reports_requests_by_operation_and_outcome(
    client: httpx.AsyncClient, unsigned: httpx.AsyncClient, state: KmsState
) -> None:
    """Counts by operation and outcome, and enables by target, come back as JSON."""
    tag, version = disabled_target(state)
    await client.post(f"/keys/{tag}/versions/{version}/enable")
    await client.post(f"/keys/{tag}/versions/{version}/enable")
    await unsigned.get("/kms/v1/keys")

    counters = (await unsigned.get("/_emulator/counters")).json()

    assert counters["total"] == 3
    assert counters["requests"]["enableKeyVersion"] == {"200": 2}
    assert counters["requests"]["getKeyList"] == {"401": 1}
    assert counters["enables"] == [{"keyTag": tag, "version": version, "count": 2}]


async def test_counters_can_be_reset(
    client: httpx.AsyncClient, unsigned: httpx.AsyncClient, app: EmulatorApp
) -> None:
    """POST /_emulator/counters/reset starts the counts again from zero."""
    await client.get("/keys")

    reset = (await unsigned.post("/_emulator/counters/reset")).json()

    assert reset["total"] == 0
    assert app.counters.requests() == 0


async def test_config_route_changes_injection_while_running(
    unsigned: httpx.AsyncClient, app: EmulatorApp
) -> None:
    """POST /_emulator/config changes only the named settings."""
    answer = await unsigned.post(
        "/_emulator/config", json={"latency_ms": 25, "rate_limit": 50}
    )

    settings = answer.json()["settings"]
    assert (settings["latency_ms"], settings["rate_limit"]) == (25, 50)
    assert settings["fault_rate"] == 0
    assert app.injector.settings.latency_ms == 25
    current = (await unsigned.get("/_emulator/config")).json()
    assert current["settings"] == settings


async def test_config_route_refuses_bad_settings(
    unsigned: httpx.AsyncClient, app: EmulatorApp
) -> None:
    """Out-of-range or unknown settings answer 400 and change nothing."""
    out_of_range = await unsigned.post("/_emulator/config", json={"fault_rate": 2})
    unknown = await unsigned.post("/_emulator/config", json={"speed": 1})
    not_json = await unsigned.post("/_emulator/config", content=b"[1, 2]")

    assert (
        "fault_rate" in assert_error(out_of_range, 400, "INVALID_PARAMETER")["details"]
    )
    assert "speed" in assert_error(unknown, 400, "INVALID_PARAMETER")["details"]
    assert_error(not_json, 400, "INVALID_PARAMETER")
    assert app.injector.settings.fault_rate == 0


async def test_faults_route_schedules_and_clears_rules(
    client: httpx.AsyncClient, unsigned: httpx.AsyncClient, state: KmsState
) -> None:
    """POST /_emulator/faults adds a rule that applies; DELETE removes them all."""
    tag, version = disabled_target(state)
    rule = {"fault": "endpoint_timeout", "key_tag": tag, "call": 1, "times": 1}

    added = await unsigned.post("/_emulator/faults", json=rule)
    failed = await client.post(f"/keys/{tag}/versions/{version}/enable")
    cleared = await unsigned.delete("/_emulator/faults")

    assert added.json()["fault"] == "endpoint_timeout"
    assert_error(failed, 504, "510")
    assert cleared.json()["schedule"] == []


async def test_state_routes_show_counts_and_remediable_versions(
    unsigned: httpx.AsyncClient, state: KmsState
) -> None:
    """The state summary and the list of enable-able disabled versions."""
    summary = (await unsigned.get("/_emulator/state")).json()
    targets = (await unsigned.get("/_emulator/disabled-versions")).json()
    health = (await unsigned.get("/_emulator/health")).json()

    assert summary["keys"] == len(state) == health["keys"]
    assert summary["versions_disable"] == state.count_disabled_versions()
    assert [tuple(t) for t in targets] == state.disabled_versions(
        enabled_keys_only=True
    )


async def test_admin_routes_answer_loopback_clients_only(app: EmulatorApp) -> None:
    """A client from another address gets 403/230 from every admin route."""
    transport = httpx.ASGITransport(app, client=("192.0.2.7", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as remote:
        response = await remote.get("/_emulator/counters")

    assert "loopback" in assert_error(response, 403, "230")["details"]


async def test_an_unknown_admin_route_is_404(unsigned: httpx.AsyncClient) -> None:
    """Admin paths that do not exist answer 404/300."""
    response = await unsigned.get("/_emulator/secrets")

    assert_error(response, 404, "300")
