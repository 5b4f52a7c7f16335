"""``kms-toolkit emulator`` in its own process; ``kms-toolkit enable`` against it."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kms_toolkit.cli import build_parser

#: The installed console script, next to the interpreter running the tests.
KMS_TOOLKIT = [str(Path(sys.executable).with_name("kms-toolkit"))]
#: ``kms-toolkit emulator`` that signals itself right after its first line.
SIGNALLING_ITSELF = [
    sys.executable,
    str(Path(__file__).with_name("emulator_child.py")),
    "--signal-self",
]
STARTUP_SECONDS = 30


def first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first stdout line of ``process``, or fail after ``timeout`` seconds."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            pytest.fail(f"no output within {timeout} s")
    return process.stdout.readline()


def stop(process: subprocess.Popen[str]) -> int:
    """Kill ``process`` if it still runs, close its pipes, return its exit status."""
    if process.poll() is None:
        process.kill()
    status = process.wait(timeout=10)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    return status


@pytest.fixture
def emulator_process() -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """``kms-toolkit emulator --dataset demo`` running; always killed afterwards."""
    process = subprocess.Popen(
        [*KMS_TOOLKIT, "emulator", "--dataset", "demo", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        announced = json.loads(first_line(process, STARTUP_SECONDS))
        yield process, announced
    finally:
        stop(process)


def test_the_first_line_announces_url_and_key_pair(
    emulator_process: tuple[subprocess.Popen[str], dict[str, Any]],
) -> None:
    """The first stdout line is JSON with a loopback URL and a working key pair."""
    _, announced = emulator_process

    assert announced["url"].startswith("http://127.0.0.1:")
    assert announced["url"].endswith("/kms/v1")
    assert announced["access_key"].startswith("EMU")
    assert announced["secret_key"]
    health = httpx.get(announced["admin_url"] + "/health").json()
    assert health == {"status": "ok", "keys": 8}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_with_exit_status_0(
    emulator_process: tuple[subprocess.Popen[str], dict[str, Any]], signum: int
) -> None:
    """SIGTERM and Ctrl-C (SIGINT) both stop the server cleanly, exit 0."""
    process, _ = emulator_process

    process.send_signal(signum)

    assert process.wait(timeout=20) == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_the_instant_the_first_line_is_out_exits_0(signum: int) -> None:
    """A signal right after the announcement, before any later step, exits 0."""
    result = subprocess.run(
        [*SIGNALLING_ITSELF, str(int(signum)), "--dataset", "empty"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["keys"] == 0


def test_signals_sent_as_soon_as_the_first_line_is_read_all_exit_0() -> None:
    """Emulators signalled the moment their first line arrives all exit 0."""
    processes = [
        subprocess.Popen(
            [*KMS_TOOLKIT, "emulator", "--dataset", "empty"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        signal_as_soon_as_announced(processes, [signal.SIGTERM, signal.SIGINT])
        statuses = [process.wait(timeout=20) for process in processes]
    finally:
        for process in processes:
            stop(process)

    assert statuses == [0] * len(processes)


def signal_as_soon_as_announced(
    processes: list[subprocess.Popen[str]], signals: list[int]
) -> None:
    """Signal each process (taking ``signals`` in turn) once its first line is read."""
    deadline = time.monotonic() + STARTUP_SECONDS
    with selectors.DefaultSelector() as selector:
        for index, process in enumerate(processes):
            assert process.stdout is not None
            selector.register(process.stdout, selectors.EVENT_READ, index)
        while selector.get_map():
            ready = selector.select(max(0.0, deadline - time.monotonic()))
            if not ready:
                pytest.fail(
                    f"not every emulator announced itself in {STARTUP_SECONDS} s"
                )
            for key, _ in ready:
                process = processes[key.data]
                assert process.stdout is not None
                process.stdout.readline()
                process.send_signal(signals[key.data % len(signals)])
                selector.unregister(key.fileobj)


def test_allow_remote_binds_beyond_loopback_and_warns() -> None:
    """--host 0.0.0.0 --allow-remote serves there and says so on stderr."""
    everywhere = "0.0.0.0"  # noqa: S104
    process = subprocess.Popen(
        [
            *KMS_TOOLKIT,
            "emulator",
            "--dataset",
            "empty",
            "--host",
            everywhere,
            "--allow-remote",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        announced = json.loads(first_line(process, STARTUP_SECONDS))
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=20)
        assert process.stderr is not None
        stderr = process.stderr.read()
    finally:
        stop(process)

    assert status == 0
    assert announced["url"].startswith("http://0.0.0.0:")
    assert "UserWarning" in stderr
    assert "0.0.0.0, reachable from other machines" in stderr


def test_enable_command_works_against_the_emulator_process(
    emulator_process: tuple[subprocess.Popen[str], dict[str, Any]],
) -> None:
    """``kms-toolkit enable`` with env credentials and --endpoint enables a version."""
    _, announced = emulator_process
    admin = announced["admin_url"]
    tag, version = httpx.get(f"{admin}/disabled-versions").json()[0]
    env = os.environ | {
        "NCLOUD_ACCESS_KEY_ID": announced["access_key"],
        "NCLOUD_SECRET_ACCESS_KEY": announced["secret_key"],
    }

    result = subprocess.run(
        [*KMS_TOOLKIT, "enable", tag, str(version), "--endpoint", announced["url"]],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert (printed["key_tag"], printed["version"]) == (tag, version)
    assert printed["status"] == "ENABLE"
    counters = httpx.get(f"{admin}/counters").json()
    assert counters["enables"] == [{"keyTag": tag, "version": version, "count": 1}]


def test_a_remote_host_without_allow_remote_is_refused() -> None:
    """Binding beyond loopback needs --allow-remote; without it, exit 2."""
    result = subprocess.run(
        [*KMS_TOOLKIT, "emulator", "--host", "0.0.0.0"],  # noqa: S104
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "--allow-remote" in result.stderr
    assert result.stdout == ""


def test_the_parser_knows_every_option() -> None:
    """All documented options parse, with injection values as numbers."""
    args = build_parser().parse_args(
        [
            "emulator",
            "--port", "0",
            "--dataset", "synthetic",
            "--keys", "10",
            "--versions-per-key", "4",
            "--seed", "9",
            "--access-key", "AK",
            "--secret-key", "SK",
            "--latency-ms", "5",
            "--jitter-ms", "2",
            "--rate-limit", "100",
            "--fault-rate", "0.1",
        ]
    )  # fmt: skip

    assert (args.dataset, args.keys, args.versions_per_key) == ("synthetic", 10, 4)
    assert (args.latency_ms, args.rate_limit, args.fault_rate) == (5.0, 100.0, 0.1)
    assert args.handler.__name__ == "run_emulator"
