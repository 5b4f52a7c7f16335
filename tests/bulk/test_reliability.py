"""Runs against the emulator: faults, throttling, and a run killed with SIGKILL."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kms_toolkit.bulk import (
    Outcome,
    RetryPolicy,
    enable_versions,
    plan_remediation,
    results_frame,
)
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.emulator import EmulatorProcess, serve, spawn

pytestmark = pytest.mark.slow

KMS_TOOLKIT = [str(Path(sys.executable).with_name("kms-toolkit"))]


def one_row_per_target(ledger: Path) -> bool:
    with sqlite3.connect(ledger) as connection:
        targets = connection.execute("SELECT count(*) FROM targets").fetchone()[0]
        rows = connection.execute(
            "SELECT count(*), count(DISTINCT seq) FROM outcomes"
        ).fetchone()
    connection.close()
    return bool(rows == (targets, targets))


@pytest.mark.usefixtures("real_retry_waits")
def test_faults_and_throttling_end_with_every_target_enabled(tmp_path: Path) -> None:
    """10% of calls fail (503, 504, dropped) under a 300/s limit: 2,000 targets all
    end enabled, each with exactly one ledger row.

    Retries really wait (short backoffs, the emulator's one-second Retry-After):
    without the waits a throttled target spends its attempts on back-to-back
    429s and the run is only usually complete."""
    with serve(
        dataset="synthetic", keys=800, versions_per_key=10, seed=5, fault_rate=0.1,
        rate_limit=300,
    ) as emulator:  # fmt: skip
        targets = emulator.state.disabled_versions(enabled_keys_only=True)[:2000]
        assert len(targets) == 2000

        async def run() -> Any:
            async with AsyncKmsClient(
                emulator.credentials, endpoint=emulator.url
            ) as kms:
                return await enable_versions(
                    kms, targets, concurrency=32, precheck=False,
                    retry_policy=RetryPolicy(
                        max_attempts=12, base_delay=0.05, max_delay=1.0
                    ),
                    ledger_path=tmp_path / "run.sqlite",
                )  # fmt: skip

        result = asyncio.run(run())
        counters = emulator.counters

    assert result.counts[Outcome.ENABLED] == 2000
    assert one_row_per_target(tmp_path / "run.sqlite")
    assert set(counters.enabled_targets()) == set(targets)
    # The run really met faults and throttling.
    assert counters.requests(outcome="503") > 0
    assert counters.requests(outcome="504") > 0
    assert counters.requests(outcome="dropped") > 0
    assert counters.requests(outcome="429") > 0


async def test_plan_finds_exactly_the_enableable_versions() -> None:
    """The plan's enable rows are the emulator's disabled versions of enabled keys."""
    with serve(dataset="synthetic", keys=120, versions_per_key=6, seed=9) as emulator:
        async with AsyncKmsClient(emulator.credentials, endpoint=emulator.url) as kms:
            plan = await plan_remediation(kms, concurrency=8)
        expected = set(emulator.state.disabled_versions(enabled_keys_only=True))

    found = set(zip(plan.to_enable["key_tag"], plan.to_enable["version"], strict=True))
    assert found == expected
    skipped_keys = plan.skipped[plan.skipped["version"].isna()]
    assert set(skipped_keys["key_status"]) <= {"DISABLE", "REVOKE"}


@pytest.fixture
def emulator_process() -> Iterator[EmulatorProcess]:
    """A `kms-toolkit emulator` subprocess with latency; always stopped."""
    with spawn(
        "--dataset", "synthetic", "--keys", "400", "--versions-per-key", "8",
        "--seed", "11", "--latency-ms", "30",
    ) as emulator:  # fmt: skip
        yield emulator


def run_setup(
    emulator: EmulatorProcess, tmp_path: Path
) -> tuple[list[tuple[str, int]], Path, dict[str, str]]:
    """Every disabled version as a targets CSV, and the CLI's environment."""
    targets = emulator.disabled_versions()
    targets_csv = tmp_path / "targets.csv"
    with targets_csv.open("w", newline="") as handle:
        csv.writer(handle).writerows([("key_tag", "version"), *targets])
    env = os.environ | {
        "NCLOUD_ACCESS_KEY_ID": emulator.credentials.access_key,
        "NCLOUD_SECRET_ACCESS_KEY": emulator.credentials.secret_key,
    }
    return targets, targets_csv, env


def recorded_outcomes(ledger: Path) -> int:
    """Outcome rows so far (0 while the ledger is not there yet)."""
    if not ledger.exists():
        return 0
    try:
        with sqlite3.connect(ledger, timeout=1) as connection:
            count = connection.execute("SELECT count(*) FROM outcomes").fetchone()[0]
        connection.close()
    except sqlite3.OperationalError:
        return 0
    return int(count)


def test_a_run_killed_with_sigkill_resumes_without_enabling_twice(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    """SIGKILL mid-run, then resume: every target has one outcome, all enabled,
    and the emulator enabled no target twice."""
    targets, targets_csv, env = run_setup(emulator_process, tmp_path)
    ledger = tmp_path / "run.sqlite"
    connection = ["--endpoint", emulator_process.url]

    run = subprocess.Popen(
        [*KMS_TOOLKIT, "run", "--targets", str(targets_csv), "--ledger", str(ledger),
         "--concurrency", "8", *connection],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while recorded_outcomes(ledger) < 40 and time.monotonic() < deadline:
            assert run.poll() is None, "the run ended before it could be killed"
            time.sleep(0.02)
        run.send_signal(signal.SIGKILL)
    finally:
        run.kill()
        run.wait()
    killed_at = recorded_outcomes(ledger)
    assert 40 <= killed_at < len(targets)

    resumed = subprocess.run(
        [*KMS_TOOLKIT, "resume", str(ledger), *connection],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert resumed.returncode == 0, resumed.stderr
    frame = results_frame(ledger)
    assert len(frame) == len(targets)
    assert frame["seq"].is_unique
    assert set(frame["outcome"]) <= {"enabled", "already_enabled"}
    assert one_row_per_target(ledger)
    counts = emulator_process.admin("GET", "counters")["enables"]
    assert {(c["keyTag"], c["version"]) for c in counts} == set(targets)
    assert max(c["count"] for c in counts) == 1


def test_ctrl_c_stops_a_cli_run_cleanly(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    """SIGINT: requests in flight finish, the ledger records the stop, exit 1,
    and the summary says how to resume."""
    targets, targets_csv, env = run_setup(emulator_process, tmp_path)
    ledger = tmp_path / "run.sqlite"
    run = subprocess.Popen(
        [*KMS_TOOLKIT, "run", "--targets", str(targets_csv), "--ledger", str(ledger),
         "--concurrency", "4", "--endpoint", emulator_process.url],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while recorded_outcomes(ledger) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
        run.communicate()

    assert run.returncode == 1, err
    assert f"finish it with: kms-toolkit resume {ledger}" in out
    with sqlite3.connect(ledger) as connection:
        kinds = [row[0] for row in connection.execute("SELECT kind FROM events")]
    connection.close()
    assert kinds == ["started", "stopped"]
    assert 10 <= recorded_outcomes(ledger) < len(targets)
    assert one_row_per_target(ledger) is False
