"""Signature v2: NCP's known answer, the exact wire target, redirects, re-sends."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

from kms_toolkit.auth import (
    ACCESS_KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureV2,
    sign,
    signing_headers,
    string_to_sign,
)
from kms_toolkit.client import AsyncKmsClient, KmsClient
from kms_toolkit.credentials import Credentials
from kms_toolkit.errors import ApiError
from tests.conftest import (
    ACCESS_KEY,
    CANARY_SECRET,
    FROZEN_TIME,
    expected_signature,
    serving_on_loopback,
)

# NCP's own sample request (see the API facts): the one known answer there is.
KNOWN_TARGET = "/photos/puppy.jpg?query1=&query2"
KNOWN_SIGNATURE = "iPe1hFfjl7BPGhFZJGCY5XZgH6eWMwCWlSdSkKU+SPE="
KNOWN_CREDENTIALS = Credentials("ACCESS_KEY_ID", "ncp-secret-example")


def frozen_clock() -> float:
    return FROZEN_TIME


def signature_is_valid(request: httpx.Request, secret: str = CANARY_SECRET) -> bool:
    """Check a request's headers against an independent HMAC of its wire target."""
    target = request.url.raw_path.decode("ascii")
    wanted = expected_signature(
        secret,
        request.method,
        target,
        request.headers[TIMESTAMP_HEADER],
        request.headers[ACCESS_KEY_HEADER],
    )
    return request.headers[SIGNATURE_HEADER] == wanted


def test_known_answer_vector_from_ncp_docs() -> None:
    """string_to_sign and sign reproduce NCP's published sample signature."""
    message = string_to_sign("GET", KNOWN_TARGET, "1700000000000", "ACCESS_KEY_ID")

    assert (
        message == "GET /photos/puppy.jpg?query1=&query2\n1700000000000\nACCESS_KEY_ID"
    )
    assert sign("ncp-secret-example", message) == KNOWN_SIGNATURE


def test_signing_headers_carry_timestamp_key_and_signature() -> None:
    """The three headers hold the timestamp, the access key and the signature."""
    headers = signing_headers(KNOWN_CREDENTIALS, "get", KNOWN_TARGET, 1_700_000_000_000)

    assert headers == {
        TIMESTAMP_HEADER: "1700000000000",
        ACCESS_KEY_HEADER: "ACCESS_KEY_ID",
        SIGNATURE_HEADER: KNOWN_SIGNATURE,
    }


def test_auth_flow_signs_the_known_request_with_a_frozen_clock() -> None:
    """SignatureV2 on NCP's sample request yields the known signature."""
    auth = SignatureV2(KNOWN_CREDENTIALS, clock=lambda: 1_700_000_000.0)
    request = httpx.Request("GET", f"https://example.ncloud.com{KNOWN_TARGET}")

    signed = next(auth.auth_flow(request))

    assert signed.headers[TIMESTAMP_HEADER] == "1700000000000"
    assert signed.headers[SIGNATURE_HEADER] == KNOWN_SIGNATURE


def test_query_string_is_signed_as_sent() -> None:
    """The query httpx writes on the wire is part of the signed target."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    auth = SignatureV2(Credentials(ACCESS_KEY, CANARY_SECRET), clock=frozen_clock)
    with httpx.Client(auth=auth, transport=httpx.MockTransport(answer)) as client:
        client.get(
            "https://ocapi.ncloud.com/kms/v1/keys",
            params={"pageNo": 2, "pageSize": 50},
        )

    assert seen[0].url.raw_path == b"/kms/v1/keys?pageNo=2&pageSize=50"
    assert seen[0].headers[SIGNATURE_HEADER] == expected_signature(
        CANARY_SECRET,
        "GET",
        "/kms/v1/keys?pageNo=2&pageSize=50",
        "1700000000000",
        ACCESS_KEY,
    )


def test_percent_encoded_target_is_signed_in_encoded_form() -> None:
    """A path needing percent-encoding is signed exactly as encoded on the wire."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    auth = SignatureV2(Credentials(ACCESS_KEY, CANARY_SECRET), clock=frozen_clock)
    with httpx.Client(auth=auth, transport=httpx.MockTransport(answer)) as client:
        client.get("https://ocapi.ncloud.com/kms/v1/keys/a b%2F")

    assert seen[0].url.raw_path == b"/kms/v1/keys/a%20b%2F"
    assert seen[0].headers[SIGNATURE_HEADER] == expected_signature(
        CANARY_SECRET, "GET", "/kms/v1/keys/a%20b%2F", "1700000000000", ACCESS_KEY
    )
    unencoded = expected_signature(
        CANARY_SECRET, "GET", "/kms/v1/keys/a b/", "1700000000000", ACCESS_KEY
    )
    assert seen[0].headers[SIGNATURE_HEADER] != unencoded


def redirect_once(
    seen: list[httpx.Request], location: str = "/kms/v1/keys/moved"
) -> httpx.MockTransport:
    """A transport answering 307 to the first request and 200 to the next."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(307, headers={"Location": location})
        return httpx.Response(200, json={"code": "SUCCESS", "data": {}})

    return httpx.MockTransport(answer)


def following_signer(clock: Callable[[], float] = frozen_clock) -> SignatureV2:
    """A signer that follows same-origin redirects itself."""
    credentials = Credentials(ACCESS_KEY, CANARY_SECRET)
    return SignatureV2(credentials, clock=clock, follow_redirects=True)


def test_signer_signs_each_redirect_hop_for_its_own_target_sync() -> None:
    """After a 307 the next hop carries a signature over the new target."""
    seen: list[httpx.Request] = []
    now = [FROZEN_TIME]

    def ticking_clock() -> float:
        now[0] += 1.0
        return now[0]

    with httpx.Client(
        auth=following_signer(ticking_clock), transport=redirect_once(seen)
    ) as client:
        response = client.get("https://ocapi.ncloud.com/kms/v1/keys/original")

    assert response.status_code == 200
    assert [r.url.raw_path for r in seen] == [
        b"/kms/v1/keys/original",
        b"/kms/v1/keys/moved",
    ]
    assert all(signature_is_valid(request) for request in seen)
    assert seen[0].headers[TIMESTAMP_HEADER] != seen[1].headers[TIMESTAMP_HEADER]


async def test_signer_signs_each_redirect_hop_for_its_own_target_async() -> None:
    """The same holds for httpx.AsyncClient."""
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(
        auth=following_signer(), transport=redirect_once(seen)
    ) as client:
        response = await client.get("https://ocapi.ncloud.com/kms/v1/keys/original")

    assert response.status_code == 200
    assert len(seen) == 2
    assert all(signature_is_valid(request) for request in seen)


def test_signer_does_not_follow_a_redirect_to_another_host() -> None:
    """A redirect off the caller's origin comes back unfollowed: nothing is sent."""
    seen: list[httpx.Request] = []
    transport = redirect_once(seen, location="https://elsewhere.example/kms/v1/x")
    with httpx.Client(auth=following_signer(), transport=transport) as client:
        response = client.get("https://ocapi.ncloud.com/kms/v1/keys/original")

    assert response.status_code == 307
    assert len(seen) == 1


def test_signer_leaves_redirects_alone_unless_asked() -> None:
    """By default the signer, like httpx, returns the redirect itself."""
    seen: list[httpx.Request] = []
    auth = SignatureV2(Credentials(ACCESS_KEY, CANARY_SECRET), clock=frozen_clock)
    with httpx.Client(auth=auth, transport=redirect_once(seen)) as client:
        response = client.get("https://ocapi.ncloud.com/kms/v1/keys/original")

    assert response.status_code == 307
    assert len(seen) == 1


def test_httpx_own_redirect_following_would_resend_a_stale_signature() -> None:
    """Why the signer follows redirects: httpx re-sends the first hop's headers.

    httpx does not run the auth flow again for a redirect it follows, so the
    second hop carries a signature over the first hop's target.
    """
    seen: list[httpx.Request] = []
    auth = SignatureV2(Credentials(ACCESS_KEY, CANARY_SECRET), clock=frozen_clock)
    with httpx.Client(
        auth=auth, transport=redirect_once(seen), follow_redirects=True
    ) as client:
        client.get("https://ocapi.ncloud.com/kms/v1/keys/original")

    assert seen[1].headers[SIGNATURE_HEADER] == seen[0].headers[SIGNATURE_HEADER]
    assert not signature_is_valid(seen[1])


def test_facade_follows_a_same_origin_redirect_with_a_fresh_signature(
    credentials: Credentials,
) -> None:
    """KmsClient reaches the redirected target, each hop signed for itself."""
    seen: list[httpx.Request] = []
    body = {"code": "SUCCESS", "data": {"keyTag": "moved", "status": "ENABLE"}}

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(307, headers={"Location": "/kms/v1/keys/moved"})
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(answer)
    with KmsClient(credentials, transport=transport) as kms:
        key = kms.get_key("original")

    assert key.key_tag == "moved"
    assert [r.url.raw_path for r in seen] == [
        b"/kms/v1/keys/original",
        b"/kms/v1/keys/moved",
    ]
    assert all(signature_is_valid(request, credentials.secret_key) for request in seen)


def test_resent_request_gets_a_fresh_timestamp_and_signature() -> None:
    """Sending the same request again signs it again at the clock's new time."""
    now = [FROZEN_TIME]
    seen: list[tuple[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        assert signature_is_valid(request)
        seen.append(
            (request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER])
        )
        return httpx.Response(200)

    auth = SignatureV2(Credentials(ACCESS_KEY, CANARY_SECRET), clock=lambda: now[0])
    with httpx.Client(auth=auth, transport=httpx.MockTransport(answer)) as client:
        request = client.build_request(
            "POST", "https://h/kms/v1/keys/k/versions/1/enable"
        )
        client.send(request)
        now[0] += 61.5
        client.send(request)

    assert seen[0][0] == "1700000000000"
    assert seen[1][0] == "1700000061500"
    assert seen[0][1] != seen[1][1]


def enable_answer(request: httpx.Request) -> httpx.Response:
    """Answer an enable like NCP, but only when the signature checks out."""
    if not signature_is_valid(request):
        return httpx.Response(401, json={"error": {"errorCode": "200"}})
    body = {"version": 7, "status": "ENABLE", "statusDate": 1}
    return httpx.Response(200, json={"code": "SUCCESS", "data": body})


def test_sync_facade_signs_its_requests(credentials: Credentials) -> None:
    """KmsClient's requests pass an independent signature check."""
    with KmsClient(
        credentials, transport=httpx.MockTransport(enable_answer), clock=frozen_clock
    ) as kms:
        change = kms.enable_key_version("signed-key", 7)

    assert change.version == 7


async def test_async_facade_signs_its_requests(credentials: Credentials) -> None:
    """AsyncKmsClient's requests pass an independent signature check."""
    async with AsyncKmsClient(
        credentials, transport=httpx.MockTransport(enable_answer), clock=frozen_clock
    ) as kms:
        change = await kms.enable_key_version("signed-key", 7)

    assert change.version == 7


@pytest.mark.parametrize("method", ["get", "Post"])
def test_method_is_signed_in_upper_case(method: str) -> None:
    """NCP signs the method in upper case whatever the caller wrote."""
    message = string_to_sign(method, "/kms/v1/keys", "1", "AK")

    assert message.startswith(f"{method.upper()} /kms/v1/keys\n")


@pytest.mark.parametrize(
    ("path", "params", "wire"),
    [
        (
            "/kms/v1/keys",
            {"q": "a b+c é"},
            b"/kms/v1/keys?q=a+b%2Bc+%C3%A9",
        ),
        ("/kms/v1/keys?q=a b+c é", None, b"/kms/v1/keys?q=a%20b+c%20%C3%A9"),
        ("/kms/v1/keys?q=%2B&r=~*'", None, b"/kms/v1/keys?q=%2B&r=~*'"),
    ],
    ids=["params", "literal", "pre-encoded"],
)
def test_query_needing_percent_encoding_is_signed_as_sent(
    path: str, params: dict[str, str] | None, wire: bytes
) -> None:
    """Spaces, '+' and non-ASCII in a query: the signature covers the wire bytes."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    auth = SignatureV2(Credentials(ACCESS_KEY, CANARY_SECRET), clock=frozen_clock)
    with httpx.Client(auth=auth, transport=httpx.MockTransport(answer)) as client:
        client.get(f"https://ocapi.ncloud.com{path}", params=params)

    assert seen[0].url.raw_path == wire
    message = b"GET " + wire + f"\n1700000000000\n{ACCESS_KEY}".encode()
    digest = hmac.new(CANARY_SECRET.encode(), message, hashlib.sha256).digest()
    assert seen[0].headers[SIGNATURE_HEADER] == base64.b64encode(digest).decode()


@dataclass
class RedirectingServer:
    """A loopback server that redirects once, then answers; it checks signatures."""

    base_url: str
    #: (target, signature valid) of each request, in order.
    seen: list[tuple[str, bool]] = field(default_factory=list)
    #: Where the first request is sent on; a path or an absolute URL.
    location: str = "/kms/v1/keys/moved"


def _redirecting_handler(server: RedirectingServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            target = self.path
            headers = {k.lower(): v for k, v in self.headers.items()}
            wanted = expected_signature(
                CANARY_SECRET,
                "GET",
                target,
                headers.get(TIMESTAMP_HEADER, ""),
                headers.get(ACCESS_KEY_HEADER, ""),
            )
            server.seen.append((target, headers.get(SIGNATURE_HEADER) == wanted))
            if len(server.seen) == 1:
                self._send(307, b"", location=server.location)
                return
            tag = target.rsplit("/", 1)[-1]
            body = {"code": "SUCCESS", "data": {"keyTag": tag, "status": "ENABLE"}}
            self._send(200, json.dumps(body).encode())

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def _send(self, status: int, body: bytes, location: str = "") -> None:
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def redirecting_server() -> Iterator[RedirectingServer]:
    """A ``RedirectingServer`` on 127.0.0.1, stopped after the test."""
    server = RedirectingServer(base_url="")
    with serving_on_loopback(_redirecting_handler(server)) as base_url:
        server.base_url = base_url
        yield server


async def test_async_facade_over_aiohttp_signs_each_redirect_hop(
    credentials: Credentials, redirecting_server: RedirectingServer
) -> None:
    """AsyncKmsClient's own client and aiohttp transport re-sign a redirect."""
    async with AsyncKmsClient(credentials, endpoint=redirecting_server.base_url) as kms:
        key = await kms.get_key("original")

    assert key.key_tag == "moved"
    assert redirecting_server.seen == [
        ("/kms/v1/keys/original", True),
        ("/kms/v1/keys/moved", True),
    ]


async def test_async_facade_over_aiohttp_refuses_a_redirect_to_another_host(
    credentials: Credentials, redirecting_server: RedirectingServer
) -> None:
    """A redirect to another (loopback) host is named in the error, not followed."""
    redirecting_server.location = "http://127.0.0.2:9/kms/v1/keys/moved"

    async with AsyncKmsClient(credentials, endpoint=redirecting_server.base_url) as kms:
        with pytest.raises(ApiError) as caught:
            await kms.get_key("original")

    assert caught.value.status_code == 307
    assert "redirect to http://127.0.0.2:9/kms/v1/keys/moved refused" in str(
        caught.value
    )
    assert redirecting_server.seen == [("/kms/v1/keys/original", True)]
