"""The panel's logic without widgets: options, throttled progress, selection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kms_toolkit.bulk import Outcome, Progress, Target
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.emulator import RunningEmulator, serve
from kms_toolkit.errors import InvalidInputError
from kms_toolkit.notebook.remediation_session import (
    ProgressThrottle,
    RemediationSession,
    RunOptions,
)


class SteppedClock:
    """A clock that reads the times it is given, one per call."""

    def __init__(self, *times: float) -> None:
        self._times = list(times)

    def __call__(self) -> float:
        return self._times.pop(0)


def snapshot(done: int, *, finished: bool = False) -> Progress:
    """A progress snapshot of a 10-target run."""
    return Progress(total=10, done=done, finished=finished)


def test_throttle_admits_first_then_one_per_interval_and_always_the_last() -> None:
    """Snapshots closer than the interval are dropped, except the final one."""
    throttle = ProgressThrottle(0.25, clock=SteppedClock(0.0, 0.1, 0.2, 0.3, 0.35))

    admitted = [
        throttle.admits(snapshot(1)),
        throttle.admits(snapshot(2)),
        throttle.admits(snapshot(3)),
        throttle.admits(snapshot(4)),
        throttle.admits(snapshot(10, finished=True)),
    ]

    assert admitted == [True, False, False, True, True]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (RunOptions(concurrency=0), "concurrency must be from 1 to 256, got 0"),
        (RunOptions(concurrency=257), "concurrency must be from 1 to 256, got 257"),
        (RunOptions(concurrency=True), "concurrency must be a whole number"),
        (RunOptions(rate_limit=0.0), "rate limit must be more than 0"),
        (RunOptions(rate_limit=-3.0), "got -3.0"),
    ],
)
def test_bad_run_options_name_what_is_wrong(options: RunOptions, message: str) -> None:
    """Each out-of-range option is refused with its name and value."""
    with pytest.raises(InvalidInputError, match=message):
        options.checked()


@pytest.fixture
async def session(
    tmp_path: Path,
) -> AsyncIterator[tuple[RunningEmulator, RemediationSession]]:
    """A session on a demo emulator, discovery done."""
    with serve(dataset="demo") as emulator:
        client = AsyncKmsClient(emulator.credentials, endpoint=emulator.url)
        try:
            created = RemediationSession(
                client, output_dir=tmp_path, clock=lambda: 1_764_000_000.0
            )
            await created.discover()
            yield emulator, created
        finally:
            await client.aclose()


async def test_selecting_a_version_outside_the_plan_is_refused(
    session: tuple[RunningEmulator, RemediationSession],
) -> None:
    """Only versions the plan would enable can be picked; the error names them."""
    _, remediation = session

    with pytest.raises(
        InvalidInputError, match="not in the plan's versions to enable: nope v7"
    ):
        remediation.select([Target("nope", 7)])


async def test_progress_reaches_the_listener_and_ends_finished(
    session: tuple[RunningEmulator, RemediationSession],
) -> None:
    """A run hands throttled snapshots on; the last one is the finished one."""
    emulator, remediation = session
    seen: list[Progress] = []
    remediation.on_progress = seen.append

    result = await remediation.run(RunOptions(dry_run=False, concurrency=2))

    assert seen[-1].finished
    assert seen[-1].done == len(remediation.selected)
    assert result.counts[Outcome.ENABLED] == len(remediation.selected)
    assert emulator.state.count_disabled_versions(enabled_keys_only=True) == 0


async def test_files_of_one_second_get_distinct_names(
    session: tuple[RunningEmulator, RemediationSession], tmp_path: Path
) -> None:
    """Two saves under a frozen clock never overwrite each other."""
    _, remediation = session
    await remediation.run(RunOptions())

    first, second = remediation.save_csv(), remediation.save_csv()

    assert first != second
    assert first.name == "results-20251124T160000.csv"
    assert second.name == "results-20251124T160000-2.csv"


async def test_a_stop_set_before_the_run_starts_sends_nothing(
    session: tuple[RunningEmulator, RemediationSession],
) -> None:
    """A caller's stop event, set early, ends the run with every target not run."""
    emulator, remediation = session
    stop = asyncio.Event()
    stop.set()

    result = await remediation.run(RunOptions(dry_run=False), stop=stop)

    assert result.cancelled
    assert result.counts[Outcome.NOT_RUN] == len(remediation.selected)
    assert emulator.counters.requests("enableKeyVersion") == 0
    assert not remediation.running


async def test_resume_refuses_a_dry_run_and_sends_nothing(
    session: tuple[RunningEmulator, RemediationSession],
) -> None:
    """A resume only sends for real: asked for a dry run, it refuses up front."""
    emulator, remediation = session
    stop = asyncio.Event()
    stop.set()
    stopped = await remediation.run(RunOptions(dry_run=False), stop=stop)

    with pytest.raises(InvalidInputError, match="turn dry run off to resume"):
        await remediation.resume(RunOptions(dry_run=True))

    assert emulator.counters.requests("enableKeyVersion") == 0
    assert remediation.run_result is stopped
    resumed = await remediation.resume(RunOptions(dry_run=False))
    assert resumed.counts[Outcome.ENABLED] == len(remediation.selected)
