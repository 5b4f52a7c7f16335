"""The gateway's answers: signature v2 checks and unknown operations."""

from __future__ import annotations

import httpx
import pytest

from kms_toolkit.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER, signing_headers
from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator import EmulatorApp, Gateway, KmsState, generate_credentials
from kms_toolkit.emulator.errors import GatewayError
from tests.emulator.emulator_testkit import FROZEN_NOW, FrozenClock, assert_error

NOW_MS = int(FROZEN_NOW * 1000)


def signed(
    pair: Credentials, method: str, target: str, at_ms: int = NOW_MS
) -> dict[str, str]:
    """The signing headers for ``target`` at ``at_ms``."""
    return signing_headers(pair, method, target, at_ms)


async def test_a_correctly_signed_request_passes(
    unsigned: httpx.AsyncClient, pair: Credentials
) -> None:
    """Headers signed over the exact target get the service's answer."""
    target = "/kms/v1/keys?pageNo=1&pageSize=2"

    response = await unsigned.get(target, headers=signed(pair, "GET", target))

    assert response.status_code == 200
    assert response.json()["code"] == "SUCCESS"


@pytest.mark.parametrize(
    "header", ["x-ncp-apigw-timestamp", "x-ncp-iam-access-key", SIGNATURE_HEADER]
)
async def test_a_missing_signing_header_is_401_200(
    unsigned: httpx.AsyncClient, pair: Credentials, header: str
) -> None:
    """Leaving out any of the three headers answers 401 Authentication Failed."""
    headers = signed(pair, "GET", "/kms/v1/keys")
    del headers[header]

    response = await unsigned.get("/kms/v1/keys", headers=headers)

    error = assert_error(response, 401, "200")
    assert error["message"] == "Authentication Failed"
    assert header in error["details"]


async def test_an_unknown_access_key_is_401_200(unsigned: httpx.AsyncClient) -> None:
    """A key pair the gateway does not know is refused."""
    stranger = Credentials("UNKNOWNKEY", "whatever")

    response = await unsigned.get(
        "/kms/v1/keys", headers=signed(stranger, "GET", "/kms/v1/keys")
    )

    assert "unknown access key" in assert_error(response, 401, "200")["details"]


async def test_a_wrong_secret_is_401_200(
    unsigned: httpx.AsyncClient, pair: Credentials
) -> None:
    """The right access key signed with the wrong secret is refused."""
    forged = Credentials(pair.access_key, "not-the-secret")

    response = await unsigned.get(
        "/kms/v1/keys", headers=signed(forged, "GET", "/kms/v1/keys")
    )

    assert "signature does not match" in assert_error(response, 401, "200")["details"]


@pytest.mark.parametrize(
    "signed_target",
    [
        "/keys?pageSize=2",  # without the /kms/v1 prefix
        "/kms/v1/keys",  # without the query
        "/kms/v1/keys?pageSize=3",  # another query
    ],
)
async def test_a_signature_over_another_target_is_401_200(
    unsigned: httpx.AsyncClient, pair: Credentials, signed_target: str
) -> None:
    """The signature must cover the full target as sent, prefix and query included."""
    response = await unsigned.get(
        "/kms/v1/keys?pageSize=2", headers=signed(pair, "GET", signed_target)
    )

    assert_error(response, 401, "200")


async def test_a_signature_for_another_method_is_401_200(
    unsigned: httpx.AsyncClient, pair: Credentials
) -> None:
    """A GET signature does not authorise a POST."""
    target = "/kms/v1/keys/abc/versions/1/enable"

    response = await unsigned.post(target, headers=signed(pair, "GET", target))

    assert_error(response, 401, "200")


async def test_percent_encoded_targets_are_checked_as_sent(
    unsigned: httpx.AsyncClient, pair: Credentials
) -> None:
    """The signature covers the raw, still-encoded query the client sent."""
    target = "/kms/v1/keys?pageNo=1&note=a%20b%2Fc"

    good = await unsigned.get(target, headers=signed(pair, "GET", target))
    decoded = await unsigned.get(
        target, headers=signed(pair, "GET", "/kms/v1/keys?pageNo=1&note=a b/c")
    )

    assert good.status_code == 200
    assert_error(decoded, 401, "200")


@pytest.mark.parametrize(
    ("offset_ms", "accepted"),
    [
        (0, True),
        (299_999, True),
        (-299_999, True),
        (300_000, False),
        (-300_000, False),
        (3_600_000, False),
    ],
)
async def test_timestamps_5_minutes_or_more_off_are_401_200(
    unsigned: httpx.AsyncClient, pair: Credentials, offset_ms: int, accepted: bool
) -> None:
    """The gateway accepts a skew under 5 minutes and refuses 5 minutes or more."""
    headers = signed(pair, "GET", "/kms/v1/keys", NOW_MS + offset_ms)

    response = await unsigned.get("/kms/v1/keys", headers=headers)

    if accepted:
        assert response.status_code == 200
    else:
        assert "5 minutes" in assert_error(response, 401, "200")["details"]


async def test_a_timestamp_that_is_not_a_number_is_401_200(
    unsigned: httpx.AsyncClient, pair: Credentials
) -> None:
    """A timestamp in seconds-with-dot or words is refused, naming the header."""
    headers = signed(pair, "GET", "/kms/v1/keys")
    headers[TIMESTAMP_HEADER] = "1700000000.5"

    response = await unsigned.get("/kms/v1/keys", headers=headers)

    assert TIMESTAMP_HEADER in assert_error(response, 401, "200")["details"]


async def test_a_401_carries_the_gateway_date(
    unsigned: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """The Date header follows the emulator's clock, so clients can see a skew."""
    response = await unsigned.get("/kms/v1/keys")

    assert response.status_code == 401
    assert response.headers["date"] == "Mon, 01 Jun 2026 00:00:00 GMT"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/kms/v1/nothing"),
        ("GET", "/kms/v1/keys/"),
        ("GET", "/kms/v1/keys/abc/versions/1"),
        ("GET", "/kms/v2/keys"),
        ("GET", "/"),
        ("POST", "/kms/v1/keys/abc/versions/1/rotate"),
    ],
)
async def test_an_unknown_path_is_404_300(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    """Paths that name no operation answer 404 Not Found Exception, signed or not."""
    response = await client.request(method, path.replace("/kms/v1", "", 1))
    raw = await client.request(method, "http://emulator.test" + path)

    for answer in (response, raw):
        error = assert_error(answer, 404, "300")
        assert error["message"] == "Not Found Exception"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/keys"),
        ("DELETE", "/keys/abc"),
        ("PUT", "/keys/abc/versions"),
        ("GET", "/keys/abc/versions/1/enable"),
        ("PATCH", "/keys/abc/versions/1/disable"),
    ],
)
async def test_a_known_path_with_the_wrong_method_is_404_300(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    """A wrong method answers 404/300 and says which method the path takes."""
    response = await client.request(method, path)

    error = assert_error(response, 404, "300")
    assert "is not allowed here; use" in error["details"]


async def test_unknown_paths_are_refused_before_the_signature_is_checked(
    unsigned: httpx.AsyncClient,
) -> None:
    """Like a gateway, routing comes first: an unsigned unknown path is 404."""
    response = await unsigned.get("/kms/v1/nothing")

    assert_error(response, 404, "300")


async def test_several_key_pairs_are_accepted(
    state: KmsState, clock: FrozenClock
) -> None:
    """Every configured pair signs successfully; the secrets stay out of reprs."""
    pairs = [generate_credentials(), generate_credentials()]
    gateway = Gateway(pairs, clock=clock)
    app = EmulatorApp(state, gateway=gateway, clock=clock)
    transport = httpx.ASGITransport(app)

    async with httpx.AsyncClient(transport=transport, base_url="http://e") as http:
        for pair in pairs:
            headers = signed(pair, "GET", "/kms/v1/keys")
            assert (await http.get("/kms/v1/keys", headers=headers)).status_code == 200

    assert gateway.access_keys == sorted(pair.access_key for pair in pairs)
    assert all(pair.secret_key not in repr(gateway) for pair in pairs)


def test_a_gateway_needs_a_key_pair() -> None:
    """A gateway without any key pair is a configuration mistake."""
    with pytest.raises(ValueError, match="at least one access key"):
        Gateway([])


def test_gateway_errors_render_the_documented_body() -> None:
    """A gateway error's body is exactly NCP's documented shape."""
    error = GatewayError(504, "510", "Endpoint Timeout", "slow")

    assert error.body() == (
        b'{"error":{"errorCode":"510","message":"Endpoint Timeout","details":"slow"}}'
    )
    assert error.headers() == []


async def test_a_bare_question_mark_is_lost(
    unsigned: httpx.AsyncClient, pair: Credentials
) -> None:
    """ASGI gives no way to see a bare "?", so only the target without it verifies."""
    with_mark = await unsigned.get(
        "/kms/v1/keys?", headers=signed(pair, "GET", "/kms/v1/keys?")
    )
    without_mark = await unsigned.get(
        "/kms/v1/keys?", headers=signed(pair, "GET", "/kms/v1/keys")
    )

    assert_error(with_mark, 401, "200")
    assert without_mark.status_code == 200
