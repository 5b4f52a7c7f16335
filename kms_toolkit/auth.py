"""NCP API Gateway signature v2, as an ``httpx.Auth``.

Every request carries three headers: the timestamp in epoch milliseconds, the
access key id, and ``Base64(HMAC-SHA256(secret, string_to_sign))`` where::

    string_to_sign = METHOD + " " + URI + "\\n" + TIMESTAMP + "\\n" + ACCESS_KEY

``URI`` is the request target exactly as it goes on the wire: the path with
its ``/kms/v1`` prefix, percent-encoded as sent, plus ``?query`` when there is
one. Signing anything else (an unencoded query, a path without the prefix)
makes the gateway answer 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Generator
from typing import Final

import httpx

from kms_toolkit.credentials import Credentials

__all__ = [
    "ACCESS_KEY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SignatureV2",
    "sign",
    "signing_headers",
    "string_to_sign",
]

TIMESTAMP_HEADER: Final = "x-ncp-apigw-timestamp"
ACCESS_KEY_HEADER: Final = "x-ncp-iam-access-key"
SIGNATURE_HEADER: Final = "x-ncp-apigw-signature-v2"


def string_to_sign(method: str, target: str, timestamp: str, access_key: str) -> str:
    """The text NCP signs: method, request target, timestamp and access key."""
    return f"{method.upper()} {target}\n{timestamp}\n{access_key}"


def sign(secret_key: str, message: str) -> str:
    """Standard Base64 of HMAC-SHA256 of ``message`` under ``secret_key``."""
    digest = hmac.new(
        secret_key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def signing_headers(
    credentials: Credentials, method: str, target: str, timestamp_ms: int
) -> dict[str, str]:
    """The three headers that sign a request for ``target`` at ``timestamp_ms``."""
    timestamp = str(timestamp_ms)
    message = string_to_sign(method, target, timestamp, credentials.access_key)
    return {
        TIMESTAMP_HEADER: timestamp,
        ACCESS_KEY_HEADER: credentials.access_key,
        SIGNATURE_HEADER: sign(credentials.secret_key, message),
    }


def same_origin(first: httpx.URL, second: httpx.URL) -> bool:
    """Whether two URLs share scheme, host and (default-resolved) port."""
    return (first.scheme, first.host, first.port) == (
        second.scheme,
        second.host,
        second.port,
    )


class SignatureV2(httpx.Auth):
    """Signs every request httpx sends, each redirect hop and each re-send included.

    Works for ``httpx.Client`` and ``httpx.AsyncClient`` alike: signing needs
    no I/O, so one generator-based flow serves both.

    httpx follows redirects without running the auth flow again, which would
    re-send the first hop's signature for a different target. So leave the
    client's ``follow_redirects`` off (httpx's default) and let the signer
    follow them: with ``follow_redirects=True`` it signs each hop afresh, up to
    ``max_redirects`` hops, and only to the same scheme, host and port, so a
    signed request never goes to a host the caller did not name.

    Args:
        credentials: the access key id and secret key.
        clock: seconds since the epoch; injectable so tests sign at a fixed time.
        follow_redirects: follow same-origin redirects, signing each hop.
        max_redirects: how many hops to follow before returning the redirect.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        clock: Callable[[], float] = time.time,
        follow_redirects: bool = False,
        max_redirects: int = 5,
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._follow_redirects = follow_redirects
        self._max_redirects = max_redirects

    def __repr__(self) -> str:
        return f"SignatureV2(access_key={self._credentials.access_key!r})"

    def sign_request(self, request: httpx.Request) -> httpx.Request:
        """Set the three signing headers on ``request`` at the clock's time."""
        # raw_path is the path and query exactly as httpx writes them on the
        # wire, so the signature covers the same bytes the gateway sees.
        target = request.url.raw_path.decode("ascii")
        timestamp_ms = int(self._clock() * 1000)
        request.headers.update(
            signing_headers(self._credentials, request.method, target, timestamp_ms)
        )
        return request

    def auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield self.sign_request(request)
        if not self._follow_redirects:
            return
        for _ in range(self._max_redirects):
            # httpx builds the next hop (method, Location, body rules) when
            # its own redirect following is off; it is None for any other answer.
            next_hop = response.next_request
            if next_hop is None or not same_origin(next_hop.url, request.url):
                return
            response = yield self.sign_request(next_hop)
