"""The remediation panel's logic, free of widgets so tests drive it directly.

A ``RemediationSession`` holds one client and walks the job a notebook user
does by hand: discover versions (a plan), pick targets, run (or dry-run) with
a concurrency and a rate limit, stop, resume from the ledger, filter the
results and save a report and a CSV. The panel only maps widgets onto it.

Example:
    >>> session = RemediationSession(kms.async_client)  # doctest: +SKIP
    >>> await session.discover()  # doctest: +SKIP
    >>> run = await session.run(RunOptions(dry_run=False))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from kms_toolkit.bulk import (
    Outcome,
    Progress,
    RemediationPlan,
    RunResult,
    Target,
    enable_versions,
    export_csv,
    plan_remediation,
    resume_run,
    write_report,
)
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.errors import InvalidInputError

__all__ = [
    "MAX_CONCURRENCY",
    "ProgressThrottle",
    "RemediationSession",
    "RunOptions",
    "target_label",
]

logger = logging.getLogger(__name__)

#: The most requests in flight a panel run may ask for.
MAX_CONCURRENCY = 256


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: dry or real, how many at once, how many per second.

    Example:
        >>> RunOptions(dry_run=False, concurrency=8, rate_limit=20.0).checked()
        RunOptions(dry_run=False, concurrency=8, rate_limit=20.0)
    """

    dry_run: bool = True
    concurrency: int = 16
    rate_limit: float | None = None

    def checked(self) -> RunOptions:
        """These options, or an error naming the one that is out of range."""
        if isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int):
            raise InvalidInputError(
                f"concurrency must be a whole number, got {self.concurrency!r}"
            )
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise InvalidInputError(
                f"concurrency must be from 1 to {MAX_CONCURRENCY}, "
                f"got {self.concurrency}"
            )
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise InvalidInputError(
                "rate limit must be more than 0 requests per second (or none), "
                f"got {self.rate_limit}"
            )
        return self


class ProgressThrottle:
    """Lets a progress snapshot through at most every ``interval`` seconds.

    The first and the final snapshots always pass, so the display never
    stays behind the run's real end.
    """

    def __init__(
        self, interval: float = 0.25, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._last: float | None = None

    def admits(self, progress: Progress) -> bool:
        """True when ``progress`` should be shown now."""
        now = self._clock()
        if (
            progress.finished
            or self._last is None
            or now - self._last >= self._interval
        ):
            self._last = now
            return True
        return False


def target_label(key_name: object, key_tag: object, version: object) -> str:
    """How a target reads in a list: ``payments-db v3 (tag)``."""
    name = key_name if isinstance(key_name, str) and key_name else "?"
    return f"{name} v{version} ({key_tag})"


class RemediationSession:
    """Discover, pick, run, stop, resume, review and export: one job, one client.

    Args:
        client: the async client every request goes through.
        output_dir: where ledgers, reports and CSV files are written.
        on_progress: called with each admitted progress snapshot of a run.
        clock: seconds since the epoch, to name the files of a run.
        progress_interval: the fewest seconds between two snapshots shown.
    """

    def __init__(
        self,
        client: AsyncKmsClient,
        *,
        output_dir: str | Path = "kms-remediation",
        on_progress: Callable[[Progress], None] | None = None,
        clock: Callable[[], float] = time.time,
        progress_interval: float = 0.25,
    ) -> None:
        self.client = client
        self.output_dir = Path(output_dir)
        self.on_progress = on_progress
        self._clock = clock
        self._progress_interval = progress_interval
        self.plan: RemediationPlan | None = None
        self.selected: tuple[Target, ...] = ()
        self.run_result: RunResult | None = None
        self.progress: Progress | None = None
        self._stop: asyncio.Event | None = None

    @property
    def running(self) -> bool:
        """True while a run or a resume is under way."""
        return self._stop is not None

    async def discover(self, **filters: Any) -> RemediationPlan:
        """Plan through the API and select every version the plan would enable.

        ``filters`` are those of ``plan_remediation``: ``key_tags``,
        ``name_pattern``, ``key_types``.
        """
        self.plan = await plan_remediation(self.client, **filters)
        self.selected = tuple(target for _, target in self.candidates())
        logger.debug(
            "plan: %d of %d rows to enable", len(self.selected), len(self.plan.frame)
        )
        return self.plan

    def versions(
        self,
        *,
        version_statuses: Collection[str] = (),
        actions: Collection[str] = (),
    ) -> pd.DataFrame:
        """The plan's rows, only those with the given statuses and actions if any."""
        frame = self._plan().frame
        if version_statuses:
            frame = frame[frame["version_status"].astype(str).isin(version_statuses)]
        if actions:
            frame = frame[frame["action"].astype(str).isin(actions)]
        return frame.reset_index(drop=True)

    def candidates(self) -> list[tuple[str, Target]]:
        """Every version the plan would enable, each with a readable label."""
        frame = self.versions(actions=["enable"])
        rows = zip(frame["key_name"], frame["key_tag"], frame["version"], strict=True)
        return [
            (target_label(name, tag, version), Target(str(tag), int(version)))
            for name, tag, version in rows
        ]

    def select(self, targets: Iterable[Target]) -> None:
        """Make ``targets`` the ones the next run enables (plan order is kept)."""
        chosen = set(targets)
        known = {target for _, target in self.candidates()}
        unknown = chosen - known
        if unknown:
            shown = ", ".join(f"{t.key_tag} v{t.version}" for t in sorted(unknown))
            raise InvalidInputError(f"not in the plan's versions to enable: {shown}")
        self.selected = tuple(t for _, t in self.candidates() if t in chosen)

    async def run(
        self, options: RunOptions, *, stop: asyncio.Event | None = None
    ) -> RunResult:
        """Enable the selected versions (or dry-run them); the ledger keeps each.

        Setting ``stop`` (or calling ``request_stop``) ends the run cleanly; a
        caller may create it before the run starts and set it at any time.
        """
        options = options.checked()
        if not self.selected:
            raise InvalidInputError(
                "no targets are selected: pick at least one version"
            )
        ledger_path = self._new_path("ledger", "sqlite")
        return await self._supervised(
            lambda stop, on_progress: enable_versions(
                self.client,
                list(self.selected),
                concurrency=options.concurrency,
                rate_limit=options.rate_limit,
                dry_run=options.dry_run,
                ledger_path=ledger_path,
                on_progress=on_progress,
                stop=stop,
            ),
            stop,
        )

    async def resume(
        self, options: RunOptions, *, stop: asyncio.Event | None = None
    ) -> RunResult:
        """Finish the last run from its ledger: only targets without an outcome.

        A resume sends real enables, so options asking for a dry run are
        refused before anything is sent.
        """
        options = options.checked()
        if self.run_result is None or self.run_result.ledger_path is None:
            raise InvalidInputError("there is no run to resume: run first")
        if options.dry_run:
            raise InvalidInputError(
                "a resume sends the remaining enables for real, but a dry run was "
                "asked for: turn dry run off to resume, or start a new dry run"
            )
        ledger_path = self.run_result.ledger_path
        return await self._supervised(
            lambda stop, on_progress: resume_run(
                self.client,
                ledger_path,
                concurrency=options.concurrency,
                rate_limit=options.rate_limit,
                on_progress=on_progress,
                stop=stop,
            ),
            stop,
        )

    def request_stop(self) -> bool:
        """Ask the run under way to stop; False when nothing is running."""
        if self._stop is None:
            return False
        self._stop.set()
        return True

    async def _supervised(
        self, start: Callable[..., Any], stop: asyncio.Event | None
    ) -> RunResult:
        """Run one engine call with a stop event and throttled progress."""
        if self._stop is not None:
            raise InvalidInputError("a run is already under way: stop it or wait")
        self._stop = stop if stop is not None else asyncio.Event()
        throttle = ProgressThrottle(self._progress_interval)
        self.progress = None
        try:
            result: RunResult = await start(
                self._stop, lambda p: self._publish(p, throttle)
            )
        finally:
            self._stop = None
        self.run_result = result
        return result

    def _publish(self, progress: Progress, throttle: ProgressThrottle) -> None:
        """Keep the latest snapshot; pass it on when the throttle admits it."""
        self.progress = progress
        if self.on_progress is not None and throttle.admits(progress):
            self.on_progress(progress)

    def results(
        self, *, outcome: str | None = None, error_code: str | None = None
    ) -> pd.DataFrame:
        """The last run's results, only one outcome and one error code if given."""
        frame = self._run().frame()
        if outcome:
            frame = frame[frame["outcome"].astype(str) == outcome]
        if error_code:
            frame = frame[frame["error_code"].astype(str) == error_code]
        return frame.reset_index(drop=True)

    def outcome_counts(self) -> dict[str, int]:
        """The last run's targets per outcome, in the order of ``Outcome``."""
        counts = self._run().frame()["outcome"].astype(str).value_counts()
        return {o.value: int(counts.get(o.value, 0)) for o in Outcome}

    def error_codes(self) -> list[str]:
        """The distinct error codes in the last run's results."""
        codes = self._run().frame()["error_code"].dropna().astype(str)
        return sorted(set(codes) - {""})

    def save_report(self) -> Path:
        """Write the last run's HTML report into the output folder."""
        path = self._new_path("report", "html")
        write_report(self._run(), path)
        return path

    def save_csv(self) -> Path:
        """Write the last run's results as CSV into the output folder."""
        path = self._new_path("results", "csv")
        export_csv(self._run(), path)
        return path

    def _new_path(self, kind: str, suffix: str) -> Path:
        """``<output_dir>/<kind>-<UTC time>.<suffix>``, the folder created."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.fromtimestamp(self._clock(), tz=UTC).strftime("%Y%m%dT%H%M%S")
        path = self.output_dir / f"{kind}-{stamp}.{suffix}"
        counter = 1
        while path.exists():
            counter += 1
            path = self.output_dir / f"{kind}-{stamp}-{counter}.{suffix}"
        return path

    def _plan(self) -> RemediationPlan:
        if self.plan is None:
            raise InvalidInputError("no plan yet: discover the keys first")
        return self.plan

    def _run(self) -> RunResult:
        if self.run_result is None:
            raise InvalidInputError("no run yet: run first")
        return self.run_result
