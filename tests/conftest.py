"""Shared fixtures: a canary secret, and a loopback stand-in for NCP's gateway.

``fake_ncp`` is a real HTTP server (standard library, one thread) on
127.0.0.1 that checks every request's signature itself, with ``hmac`` and
``base64`` on the raw request line, so it proves the signing independently of
``kms_toolkit.auth``. It answers like NCP: a signed enable or disable gets the
documented success body, anything else the gateway's error body.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kms_toolkit.credentials import Credentials

#: A secret that must never show up anywhere but in the signature it produces.
CANARY_SECRET = "canary-SECRET-5b1e9d0c-never-print-me"
ACCESS_KEY = "TESTACCESSKEY0001"
#: A fixed instant (2023-11-14T22:13:20Z) for signatures that must be exact.
FROZEN_TIME = 1_700_000_000.0
#: NCP's documented example statusDate.
STATUS_DATE_MS = 1_733_460_541_703


def expected_signature(
    secret: str, method: str, target: str, timestamp: str, access_key: str
) -> str:
    """NCP signature v2, computed here without the code under test."""
    message = f"{method} {target}\n{timestamp}\n{access_key}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@pytest.fixture
def credentials() -> Credentials:
    """Credentials holding the canary secret."""
    return Credentials(ACCESS_KEY, CANARY_SECRET)


@dataclass
class SeenRequest:
    """One request as the fake gateway received it."""

    method: str
    target: str
    headers: dict[str, str]
    signature_ok: bool


@dataclass
class FakeNcp:
    """What a test reads from and sets on the running fake gateway."""

    base_url: str
    seen: list[SeenRequest] = field(default_factory=list)
    #: When set, every signed request gets this (status, JSON body) instead.
    answer: tuple[int, Any] | None = None
    secret: str = CANARY_SECRET
    #: Seconds to wait before answering, to make a client time out.
    delay: float = 0.0


def _gateway_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"errorCode": code, "message": message}}


def _handler_for(fake: FakeNcp) -> type[BaseHTTPRequestHandler]:
    class FakeNcpHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def _answer(self) -> None:
            method, target, _ = self.requestline.split(" ", 2)
            headers = {k.lower(): v for k, v in self.headers.items()}
            signed_ok = self._signature_ok(method, target, headers)
            fake.seen.append(SeenRequest(method, target, headers, signed_ok))
            time.sleep(fake.delay)
            if not signed_ok:
                answer = 401, _gateway_error("200", "Authentication Failed")
            elif fake.answer is not None:
                answer = fake.answer
            else:
                answer = self._documented_answer(method, target)
            # A client that gave up waiting (a timeout test) has hung up.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(*answer)

        def _signature_ok(
            self, method: str, target: str, headers: dict[str, str]
        ) -> bool:
            timestamp = headers.get("x-ncp-apigw-timestamp", "")
            access_key = headers.get("x-ncp-iam-access-key", "")
            signature = headers.get("x-ncp-apigw-signature-v2", "")
            if not timestamp.isdigit() or access_key != ACCESS_KEY:
                return False
            if abs(time.time() * 1000 - int(timestamp)) >= 300_000:
                return False
            wanted = expected_signature(
                fake.secret, method, target, timestamp, access_key
            )
            return hmac.compare_digest(wanted, signature)

        def _documented_answer(self, method: str, target: str) -> tuple[int, Any]:
            parts = target.split("/")
            # /kms/v1/keys/{tag}/versions/{n}/{enable|disable}
            if (
                method == "POST"
                and len(parts) == 8
                and parts[-1] in ("enable", "disable")
            ):
                status = "ENABLE" if parts[-1] == "enable" else "DISABLE"
                data = {"version": int(parts[6]), "status": status}
                data["statusDate"] = STATUS_DATE_MS
                return 200, {"code": "SUCCESS", "data": data}
            return 404, _gateway_error("300", "Not Found Exception")

        def _send(self, status: int, body: Any) -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return FakeNcpHandler


@contextlib.contextmanager
def serving_on_loopback(
    handler: type[BaseHTTPRequestHandler],
) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 in a thread; yield its ``/kms/v1`` base URL.

    The server is shut down when the block ends, also when a test fails.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/kms/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fake_ncp() -> Iterator[FakeNcp]:
    """A signature-checking NCP stand-in on 127.0.0.1, stopped after the test."""
    fake = FakeNcp(base_url="")
    with serving_on_loopback(_handler_for(fake)) as base_url:
        fake.base_url = base_url
        yield fake
