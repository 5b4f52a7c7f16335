"""The emulator served for real by uvicorn on a loopback port."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter
from typing import Any

import httpx
import pytest

from kms_toolkit.auth import SignatureV2
from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator import (
    Fault,
    InjectionSettings,
    Injector,
    RunningEmulator,
    build_app,
    serve,
    start,
)
from tests.emulator.emulator_testkit import assert_error, disabled_target

#: Every address of this machine: not loopback, so it needs allow_remote.
EVERYWHERE = "0.0.0.0"  # noqa: S104


def test_serve_answers_signed_requests_and_stops_cleanly(pair: Credentials) -> None:
    """Inside ``with serve()`` the URL answers; afterwards the port is closed."""
    with serve(dataset="demo", credentials=pair) as emulator:
        with httpx.Client(base_url=emulator.url, auth=SignatureV2(pair)) as http:
            response = http.get("/keys")
        port = emulator.port

    assert response.status_code == 200
    assert len(response.json()["data"]["keyList"]) == 8
    assert not emulator.running
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), 1),
    ):
        pass


def test_start_and_stop_without_with(pair: Credentials) -> None:
    """``start`` returns a running emulator; ``stop`` may be called twice."""
    emulator = start(dataset="empty", credentials=pair)
    try:
        assert emulator.running
        assert emulator.url == f"http://127.0.0.1:{emulator.port}/kms/v1"
        assert len(emulator.state) == 0
    finally:
        emulator.stop()
    emulator.stop()
    assert not emulator.running


def test_generated_credentials_are_throwaway_and_masked() -> None:
    """Without a key pair the emulator makes one; its secret never shows in reprs."""
    with serve(dataset="empty") as emulator:
        secret = emulator.credentials.secret_key
        shown = repr(emulator) + repr(emulator.credentials) + repr(emulator.app)

    assert emulator.credentials.access_key.startswith("EMU")
    assert len(secret) >= 30
    assert secret not in shown


def test_a_non_loopback_host_needs_allow_remote() -> None:
    """Binding beyond loopback is refused unless explicitly allowed."""
    # ``serve`` stops what it started, should the guard ever let it start.
    with pytest.raises(ValueError, match="allow_remote"), serve(host=EVERYWHERE):
        pass  # pragma: no cover - reached only if the guard is gone


def test_allow_remote_binds_beyond_loopback_and_warns() -> None:
    """With allow_remote the emulator serves on every address, with a warning."""
    with (
        pytest.warns(UserWarning, match=r"0\.0\.0\.0, reachable from other machines"),
        serve(dataset="empty", host=EVERYWHERE, allow_remote=True) as emulator,
    ):
        health = httpx.get(f"http://127.0.0.1:{emulator.port}/_emulator/health")

    assert emulator.url.startswith("http://0.0.0.0:")
    assert health.json() == {"status": "ok", "keys": 0}


def test_stop_says_so_when_the_server_does_not_stop(pair: Credentials) -> None:
    """A server whose loop is stuck makes stop() raise instead of returning."""
    app, pairs = build_app("empty", credentials=pair)
    entered, release = threading.Event(), threading.Event()

    async def stuck(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            entered.set()
            release.wait(10)  # blocks the server's loop on purpose
        await app(scope, receive, send)

    def call() -> None:
        # Only the server's state matters, not what this request gets.
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{emulator.root_url}/_emulator/health", timeout=10)

    emulator = RunningEmulator(stuck, pairs).start()  # type: ignore[arg-type]
    caller = threading.Thread(target=call)
    try:
        caller.start()
        assert entered.wait(10)
        with pytest.raises(RuntimeError, match=r"still running 0\.2 s after"):
            emulator.stop(timeout=0.2)
        assert emulator.running
    finally:
        release.set()
        emulator.stop()
        caller.join(10)

    assert not emulator.running


def test_injection_changes_while_running(running: RunningEmulator) -> None:
    """``configure`` on a running emulator takes effect on the next request."""
    with httpx.Client(
        base_url=running.url, auth=SignatureV2(running.credentials)
    ) as http:
        before = http.get("/keys")
        running.configure(rate_limit=1)
        answers = [http.get("/keys") for _ in range(3)]

    assert before.status_code == 200
    assert 429 in [answer.status_code for answer in answers]
    limited = next(a for a in answers if a.status_code == 429)
    assert_error(limited, 429, "420")


def test_a_dropped_connection_reaches_the_client_as_a_hang_up(
    running: RunningEmulator,
) -> None:
    """Over a socket, a drop closes the connection before any answer is sent."""
    tag, version = disabled_target(running.state)
    running.schedule(Fault.DROP, key_tag=tag, version=version, call=1)
    path = f"/keys/{tag}/versions/{version}/enable"

    with httpx.Client(
        base_url=running.url, auth=SignatureV2(running.credentials)
    ) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
            http.post(path)
        dropped = running.counters.requests("enableKeyVersion", "dropped")
        unchanged = running.state.version_status(tag, version)
        retried = http.post(path)

    assert (dropped, unchanged) == (1, "DISABLE")
    assert retried.status_code == 200
    assert running.counters.enables(tag, version) == 1


def test_random_faults_over_http_follow_the_rate_and_the_seed(
    pair: Credentials,
) -> None:
    """A seeded fault rate answers 503, 504 and hang-ups, in the seed's order."""
    outcome_of = {"endpoint_error": "503", "endpoint_timeout": "504", "drop": "dropped"}
    twin = Injector(InjectionSettings(fault_rate=0.5), seed=11)
    expected = []
    for _ in range(60):
        rule = twin.choose_fault("getKeyList", None, None)
        expected.append(outcome_of[rule.fault] if rule else "200")

    seen, answers = [], {}
    with (
        serve(dataset="demo", credentials=pair, seed=11, fault_rate=0.5) as emulator,
        httpx.Client(base_url=emulator.url, auth=SignatureV2(pair)) as http,
    ):
        for _ in range(60):
            try:
                response = http.get("/keys")
            except httpx.RemoteProtocolError:
                seen.append("dropped")
            else:
                seen.append(str(response.status_code))
                answers[response.status_code] = response
        counted = emulator.counters.snapshot()["requests"]["getKeyList"]

    assert seen == expected
    assert set(seen) == {"200", "503", "504", "dropped"}
    assert 15 < seen.count("200") < 45
    assert counted == Counter(seen)
    assert_error(answers[503], 503, "500")
    assert_error(answers[504], 504, "510")


def test_admin_routes_are_served_over_http(running: RunningEmulator) -> None:
    """The counters and config routes work on the real server without signing."""
    with httpx.Client(base_url=running.root_url) as http:
        http.post("/_emulator/config", json={"latency_ms": 1})
        counters = http.get("/_emulator/counters").json()

    assert counters["total"] == 0
    assert running.injector.settings.latency_ms == 1
