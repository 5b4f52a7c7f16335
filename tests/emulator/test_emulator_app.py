"""The five KMS operations over HTTP, in process, with the service's refusals."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest

from kms_toolkit.emulator import EmulatorApp, KmsState
from tests.emulator.emulator_testkit import (
    FROZEN_NOW,
    FrozenClock,
    assert_error,
    tag_of,
)

NOW_MS = int(FROZEN_NOW * 1000)


async def test_enable_answers_the_documented_body(
    client: httpx.AsyncClient, state: KmsState, clock: FrozenClock
) -> None:
    """A disabled version of an enabled key is enabled and dated by the clock."""
    tag = tag_of(state, "payments-db")
    clock.advance(1.5)

    response = await client.post(f"/keys/{tag}/versions/2/enable")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "code": "SUCCESS",
        "data": {"version": 2, "status": "ENABLE", "statusDate": NOW_MS + 1500},
    }
    assert state.version_status(tag, 2) == "ENABLE"


async def test_disable_answers_the_documented_body(
    client: httpx.AsyncClient, state: KmsState
) -> None:
    """A non-current enabled version is disabled."""
    tag = tag_of(state, "audit-log-signing")

    response = await client.post(f"/keys/{tag}/versions/1/disable")

    assert response.json()["data"] == {
        "version": 1,
        "status": "DISABLE",
        "statusDate": NOW_MS,
    }
    assert state.version_status(tag, 1) == "DISABLE"


async def test_key_list_puts_paging_inside_data(
    client: httpx.AsyncClient, state: KmsState
) -> None:
    """The key list pages with pageNo/pageSize and reports the paging in data."""
    response = await client.get("/keys", params={"pageNo": 2, "pageSize": 3})

    data = response.json()["data"]
    assert [key["keyTag"] for key in data["keyList"]] == state.key_tags()[3:6]
    assert (data["currentPageNo"], data["totalPageNo"], data["totalCount"]) == (
        2,
        3,
        len(state),
    )
    first = data["keyList"][0]
    assert set(first) >= {"keyId", "keyTag", "keyName", "keyType", "status"}
    assert set(first) >= {"protectionType", "isConvergent", "registerDate"}


async def test_key_list_defaults_to_page_1_of_100(
    client: httpx.AsyncClient, state: KmsState
) -> None:
    """Without paging parameters the first 100 keys come back."""
    data = (await client.get("/keys")).json()["data"]

    assert len(data["keyList"]) == len(state)
    assert (data["currentPageNo"], data["totalPageNo"]) == (1, 1)


async def test_only_revoked_keys_carry_a_destroy_date(
    client: httpx.AsyncClient,
) -> None:
    """destroyDate is present for REVOKE keys and absent for the others."""
    keys = (await client.get("/keys")).json()["data"]["keyList"]

    for key in keys:
        assert ("destroyDate" in key) == (key["status"] == "REVOKE")


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({"pageNo": 0}, "pageNo must be 1 or more"),
        ({"pageSize": 0}, "pageSize must be from 1 to 200"),
        ({"pageSize": 201}, "pageSize must be from 1 to 200"),
        ({"pageNo": "two"}, "pageNo must be an integer"),
        ({"pageSize": "1.5"}, "pageSize must be an integer"),
    ],
)
async def test_key_list_refuses_bad_paging(
    client: httpx.AsyncClient, query: dict[str, int | str], detail: str
) -> None:
    """Paging outside the documented ranges answers 400 INVALID_PARAMETER."""
    response = await client.get("/keys", params=query)

    assert detail in assert_error(response, 400, "INVALID_PARAMETER")["details"]


async def test_key_info_describes_the_key(
    client: httpx.AsyncClient, state: KmsState
) -> None:
    """Key info carries the documented fields, currentVersion included."""
    tag = tag_of(state, "customer-pii")

    data = (await client.get(f"/keys/{tag}")).json()["data"]

    assert data["keyTag"] == tag
    assert data["keyName"] == "customer-pii"
    assert (data["keyType"], data["protectionType"]) == ("RSA2048", "COMMON_HSM")
    assert (data["status"], data["currentVersion"]) == ("ENABLE", 4)
    assert data["baseUrl"] == f"http://emulator.test/kms/v1/keys/{tag}"
    assert data["nrn"].endswith(tag)


async def test_version_list_shows_every_version(
    client: httpx.AsyncClient, state: KmsState
) -> None:
    """The version list has each version's status and dates, oldest first."""
    tag = tag_of(state, "payments-db")

    data = (await client.get(f"/keys/{tag}/versions")).json()["data"]

    assert (data["keyTag"], data["currentVersion"]) == (tag, 5)
    statuses = [(v["version"], v["status"]) for v in data["versionList"]]
    assert statuses == [
        (1, "ENABLE"),
        (2, "DISABLE"),
        (3, "DISABLE"),
        (4, "ENABLE"),
        (5, "ENABLE"),
    ]
    for version in data["versionList"]:
        assert version["rotatedDate"] <= version["statusDate"] <= NOW_MS


@pytest.mark.parametrize("name", ["legacy-reports", "retired-backups"])
async def test_versions_of_unusable_keys_cannot_be_enabled(
    client: httpx.AsyncClient, state: KmsState, name: str
) -> None:
    """Enabling a version of a DISABLE or REVOKE key answers 400 KEY_NOT_ENABLED."""
    tag = tag_of(state, name)

    response = await client.post(f"/keys/{tag}/versions/1/enable")

    error = assert_error(response, 400, "KEY_NOT_ENABLED")
    assert tag in error["details"]
    assert state.version_status(tag, 1) == "DISABLE"


async def test_the_current_version_cannot_be_disabled(
    client: httpx.AsyncClient, state: KmsState
) -> None:
    """Disabling the current version answers 400 CURRENT_VERSION_CANNOT_BE_DISABLED."""
    tag = tag_of(state, "session-tokens")

    response = await client.post(f"/keys/{tag}/versions/1/disable")

    assert_error(response, 400, "CURRENT_VERSION_CANNOT_BE_DISABLED")
    assert state.version_status(tag, 1) == "ENABLE"


@pytest.mark.parametrize("name", ["legacy-reports", "retired-backups"])
async def test_versions_of_unusable_keys_cannot_be_disabled(
    client: httpx.AsyncClient, state: KmsState, name: str
) -> None:
    """Disabling a version of a DISABLE or REVOKE key answers 400 KEY_NOT_ENABLED."""
    tag = tag_of(state, name)
    status = state.key_info(tag).status

    response = await client.post(f"/keys/{tag}/versions/2/disable")

    error = assert_error(response, 400, "KEY_NOT_ENABLED")
    assert error["message"] == "The key is not enabled; its versions cannot change"
    assert f"{tag} is {status}" in error["details"]
    assert state.version_status(tag, 2) == "ENABLE"


async def test_disabling_a_version_of_an_unknown_key_is_404_key_not_found(
    client: httpx.AsyncClient,
) -> None:
    """Disable on a well-formed tag no key has answers 404 KEY_NOT_FOUND."""
    unknown = "b" * 52

    response = await client.post(f"/keys/{unknown}/versions/1/disable")

    error = assert_error(response, 404, "KEY_NOT_FOUND")
    assert error["message"] == "Key not found"
    assert unknown in error["details"]


async def test_disabling_an_unknown_version_is_404_key_version_not_found(
    client: httpx.AsyncClient, state: KmsState
) -> None:
    """Disable on a version above the current one answers 404."""
    tag = tag_of(state, "payments-db")

    response = await client.post(f"/keys/{tag}/versions/6/disable")

    error = assert_error(response, 404, "KEY_VERSION_NOT_FOUND")
    assert error["message"] == "Key version not found"
    assert "versions 1-5, not 6" in error["details"]


@pytest.mark.parametrize("action", ["enable", "disable"])
@pytest.mark.parametrize(
    ("version", "status", "error_code"),
    [
        ("0", 400, "INVALID_PARAMETER"),
        ("101", 400, "INVALID_PARAMETER"),
        ("50", 404, "KEY_VERSION_NOT_FOUND"),
        ("1", 400, "KEY_NOT_ENABLED"),
    ],
)
async def test_a_disabled_key_refuses_a_bad_version_for_the_version(
    client: httpx.AsyncClient,
    state: KmsState,
    action: str,
    version: str,
    status: int,
    error_code: str,
) -> None:
    """The range and the version are judged before the key's status."""
    tag = tag_of(state, "legacy-reports")

    response = await client.post(f"/keys/{tag}/versions/{version}/{action}")

    assert_error(response, status, error_code)


@pytest.mark.parametrize("version", ["001", "01", "+1", "%2B1", "%201", "1%20"])
async def test_a_version_must_be_a_plain_decimal(
    client: httpx.AsyncClient, state: KmsState, version: str
) -> None:
    """Leading zeros, signs and spaces in the version answer 400."""
    tag = tag_of(state, "payments-db")

    response = await client.post(f"/keys/{tag}/versions/{version}/enable")

    error = assert_error(response, 400, "INVALID_PARAMETER")
    assert "version must be" in error["details"]
    assert state.version_status(tag, 2) == "DISABLE"


async def test_path_parameters_are_percent_decoded(
    client: httpx.AsyncClient, state: KmsState
) -> None:
    """``%32`` is version 2, and an encoded tag is the same tag."""
    tag = tag_of(state, "payments-db")
    encoded = "".join(f"%{ord(char):02X}" for char in tag[:4]) + tag[4:]

    response = await client.post(f"/keys/{encoded}/versions/%32/enable")

    assert response.status_code == 200, response.text
    assert response.json()["data"]["version"] == 2
    assert state.version_status(tag, 2) == "ENABLE"


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("pageSize=+5", "pageSize must be an integer"),
        ("pageSize=%205", "pageSize must be an integer"),
        ("pageSize=5%20", "pageSize must be an integer"),
        ("pageNo=01", "pageNo must be an integer"),
        ("pageNo=1&pageNo=2", "pageNo is given 2 times"),
    ],
)
async def test_paging_parameters_must_be_given_once_as_plain_decimals(
    client: httpx.AsyncClient, query: str, detail: str
) -> None:
    """Spaces, a plus sign, leading zeros or a repeat answer 400."""
    response = await client.get(f"/keys?{query}")

    assert detail in assert_error(response, 400, "INVALID_PARAMETER")["details"]


async def test_a_failure_inside_the_emulator_is_500_900(
    client: httpx.AsyncClient,
    app: EmulatorApp,
    state: KmsState,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An exception that is no refusal answers the gateway's 500 Unexpected Error."""
    tag = tag_of(state, "payments-db")

    def broken(key_tag: str) -> None:
        raise RuntimeError("secret-looking internals")

    monkeypatch.setattr(state, "key_info", broken)

    response = await client.get(f"/keys/{tag}")

    error = assert_error(response, 500, "900")
    assert error["message"] == "Unexpected Error"
    assert "internals" not in response.text
    assert app.counters.requests("getKeyInfo", "500") == 1
    assert "failed inside the emulator" in caplog.text
    assert "RuntimeError" in caplog.text


async def test_a_failure_inside_an_admin_route_is_500_900(
    unsigned: httpx.AsyncClient, state: KmsState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin routes answer an unexpected exception the same way."""

    def broken() -> None:
        raise LookupError("nothing")

    monkeypatch.setattr(state, "summary", broken)

    response = await unsigned.get("/_emulator/state")

    assert assert_error(response, 500, "900")["message"] == "Unexpected Error"


@pytest.mark.parametrize(
    "path",
    [
        "/keys/{unknown}",
        "/keys/{unknown}/versions",
        "/keys/{unknown}/versions/1/enable",
    ],
)
async def test_an_unknown_key_is_404_key_not_found(
    client: httpx.AsyncClient, path: str
) -> None:
    """Every key operation on an unknown tag answers 404 KEY_NOT_FOUND."""
    unknown = "a" * 52
    method = "POST" if path.endswith("enable") else "GET"

    response = await client.request(method, path.format(unknown=unknown))

    assert unknown in assert_error(response, 404, "KEY_NOT_FOUND")["details"]


async def test_an_unknown_version_is_404_key_version_not_found(
    client: httpx.AsyncClient, state: KmsState
) -> None:
    """A version the key does not have answers 404 KEY_VERSION_NOT_FOUND."""
    tag = tag_of(state, "payments-db")

    response = await client.post(f"/keys/{tag}/versions/6/enable")

    assert_error(response, 404, "KEY_VERSION_NOT_FOUND")


@pytest.mark.parametrize("version", ["0", "101", "999", "abc", "1.5", "-1", "1000"])
async def test_a_version_outside_1_to_100_is_400_invalid_parameter(
    client: httpx.AsyncClient, state: KmsState, version: str
) -> None:
    """The version path parameter must be an integer from 1 to 100."""
    tag = tag_of(state, "payments-db")

    response = await client.post(f"/keys/{tag}/versions/{version}/enable")

    assert_error(response, 400, "INVALID_PARAMETER")


async def test_a_key_tag_ncp_cannot_issue_is_400_invalid_parameter(
    client: httpx.AsyncClient,
) -> None:
    """A tag with characters outside the spec's pattern is refused as invalid."""
    response = await client.get("/keys/bad%20tag%21")

    assert "key tag" in assert_error(response, 400, "INVALID_PARAMETER")["details"]


async def test_every_answer_has_a_trace_id(client: httpx.AsyncClient) -> None:
    """Each answer carries a distinct x-ncp-trace-id, as a request id for reports."""
    first = await client.get("/keys")
    second = await client.get("/nothing")

    assert first.headers["x-ncp-trace-id"] != second.headers["x-ncp-trace-id"]


async def test_the_app_answers_the_lifespan_protocol(app: EmulatorApp) -> None:
    """Startup and shutdown complete, so any ASGI server can host the app."""
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)

    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
