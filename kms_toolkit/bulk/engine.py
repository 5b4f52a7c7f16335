"""The bulk run: enable many key versions concurrently, safely and on record.

A fixed pool of ``concurrency`` workers takes targets one at a time from a
shared iterator (never one task per target, so memory stays flat however many
targets there are). Each request waits for a permit from the adaptive rate
limiter and is retried by the retry policy when its failure is retryable.
Every outcome is appended to an in-memory batch that a background tick writes
to the ledger and turns into progress about every 0.2 s, so neither SQLite nor
the UI sits on the request path.

Already enabled versions (``precheck``, on by default): before enabling, the
run reads each distinct key's version list once (one GET per key, not per
target) and records versions already ``ENABLE`` as ``already_enabled``
without sending an enable; versions missing from the list fail without a
request. NCP answers an enable of an enabled version with SUCCESS like any
other, so the answer alone cannot tell the two apart.
``precheck=False`` sends every target and counts every success as
``enabled``. A resumed run always reads first: that is how targets that
succeeded at the server just before the process died are found.

Credentials that fail (401/200) or lack a permission (401/210, 403/230) fail
every request alike, so the first such answer stops the run: nothing more is
sent and no target is recorded for it, neither the one whose request met it
(an enable or a pre-read) nor others in flight that meet the same answer;
every unfinished target stays ``not_run``. The error is in
``RunResult.fatal_error`` and in the ledger's ``stopped`` event, not in a
row: it says nothing about the target. Once the credentials are fixed,
``resume_run`` finishes the job, with no ``retry_failed`` needed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar
from urllib.parse import urlsplit

from tqdm import tqdm

from kms_toolkit.bulk.ledger import Ledger, LedgerError, OutcomeRow
from kms_toolkit.bulk.outcomes import SUCCESS_OUTCOMES, Outcome, Progress
from kms_toolkit.bulk.pool import run_pool
from kms_toolkit.bulk.ratecontrol import AdaptiveRateLimiter
from kms_toolkit.bulk.retry import RetryPolicy
from kms_toolkit.bulk.targets import (
    DEFAULT_BASE_PATH,
    Target,
    TargetSet,
    TargetSource,
    enable_request,
    load_targets,
)
from kms_toolkit.errors import (
    ApiError,
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
)
from kms_toolkit.models import KeyVersionChange, KeyVersionList, KeyVersionStatus

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_LEDGER_DIRECTORY",
    "RunResult",
    "VersionClient",
    "enable_versions",
    "resume_run",
    "run_enable",
]

logger = logging.getLogger(__name__)

#: Where a run's ledger goes when no ``ledger_path`` is given.
DEFAULT_LEDGER_DIRECTORY: Final = Path("kms-runs")
PROGRESS_INTERVAL: Final = 0.2
FLUSH_BATCH: Final = 5_000
MESSAGE_LIMIT: Final = 500
#: Failures that say nothing about the target and would repeat for every one.
FATAL_ERRORS: Final = (AuthenticationError, PermissionDeniedError)

T = TypeVar("T")
Item = TypeVar("Item")


class VersionClient(Protocol):
    """What a run needs from a client; ``AsyncKmsClient`` is one."""

    async def enable_key_version(self, key_tag: str, version: int) -> KeyVersionChange:
        """Enable one key version."""

    async def list_key_versions(self, key_tag: str) -> KeyVersionList:
        """Every version of a key, with its status."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a run ended; the details are in its ledger.

    Attributes:
        run_id: the run's id, also in the ledger.
        ledger_path: the SQLite ledger of the run.
        dry_run: nothing was sent.
        cancelled: the run was stopped before every target was finished.
        counts: targets per outcome, all sessions of the run included.
        total: targets in the run, rejected rows included.
        elapsed_seconds: the duration of this session.
        parameters: the run's options as the ledger keeps them.
        fatal_error: the authentication or permission failure that stopped
            this session, or None.
    """

    run_id: str
    ledger_path: Path
    dry_run: bool
    cancelled: bool
    counts: dict[Outcome, int]
    total: int
    elapsed_seconds: float = 0.0
    parameters: dict[str, Any] = field(default_factory=dict)
    fatal_error: ApiError | None = None

    @property
    def all_enabled(self) -> bool:
        """True when every target ended enabled or already enabled."""
        if self.fatal_error is not None:
            return False
        finished_ok = sum(self.counts.get(outcome, 0) for outcome in SUCCESS_OUTCOMES)
        return finished_ok == self.total

    def frame(self) -> pd.DataFrame:
        """Every target's outcome as a DataFrame (see ``results_frame``)."""
        from kms_toolkit.bulk.frames import results_frame

        return results_frame(self.ledger_path)

    def summary(self) -> pd.DataFrame:
        """Targets per outcome and error code (see ``summarize``)."""
        from kms_toolkit.bulk.frames import summarize

        return summarize(self.frame())

    def _repr_html_(self) -> str:
        from kms_toolkit.notebook.display import run_result_html

        return run_result_html(self)


@dataclass(frozen=True, slots=True)
class _Options:
    concurrency: int
    max_attempts: int
    dry_run: bool
    precheck: bool
    stop_grace_seconds: float


async def enable_versions(
    client: VersionClient,
    targets: TargetSource,
    *,
    concurrency: int = 32,
    rate_limit: float | AdaptiveRateLimiter | None = None,
    adaptive: bool = True,
    max_attempts: int = 5,
    dry_run: bool = False,
    precheck: bool = True,
    skip_invalid: bool = False,
    ledger_path: str | Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop: asyncio.Event | None = None,
    progress_bar: bool = False,
    stop_grace_seconds: float = 5.0,
    retry_policy: RetryPolicy | None = None,
    clock: Callable[[], float] = time.time,
) -> RunResult:
    """Enable every target's key version and record each outcome in a ledger.

    Targets are validated first (see ``load_targets``); with invalid rows and
    ``skip_invalid=False`` nothing is sent and ``InvalidTargetsError`` lists
    them. Per-target failures are outcomes, not exceptions; a refusal of the
    credentials or of a permission stops the run instead (see the module
    docstring and ``RunResult.fatal_error``).

    Args:
        client: an ``AsyncKmsClient`` (or anything with its two methods).
        targets: a ``TargetSet`` or anything ``load_targets`` accepts.
        concurrency: requests in flight at most (the worker pool's size).
        rate_limit: requests per second to start from and never exceed, or a
            ready ``AdaptiveRateLimiter``; None starts unpaced.
        adaptive: lower the pace on 429 and raise it again on success.
        max_attempts: attempts per request, retries of retryable failures included.
        dry_run: record the request each target would get; send nothing.
        precheck: read each key's versions first (see the module docstring).
        ledger_path: the SQLite ledger to create (default
            ``kms-runs/<run_id>.sqlite``); it must not exist yet.
        on_progress: called with a ``Progress`` about every 0.2 s and at the end.
        stop: set it to end the run cleanly; unsent targets stay ``not_run``.
        progress_bar: show a tqdm bar on stderr.
        stop_grace_seconds: after ``stop``, how long requests in flight may finish.

    Example:
        >>> async def remediate(client):  # doctest: +SKIP
        ...     result = await enable_versions(client, "targets.csv", concurrency=64)
        ...     return result.summary()
    """
    target_set = load_targets(targets, skip_invalid=skip_invalid)
    options = _options(concurrency, max_attempts, dry_run, precheck, stop_grace_seconds)
    limiter = _limiter(rate_limit, adaptive)
    run_id = _new_run_id(clock)
    path = (
        Path(ledger_path)
        if ledger_path
        else DEFAULT_LEDGER_DIRECTORY / f"{run_id}.sqlite"
    )
    parameters = _parameters(client, options, limiter, adaptive, target_set)
    ledger = Ledger.create(
        path,
        run_id=run_id,
        targets=target_set,
        parameters=parameters,
        dry_run=dry_run,
        clock=clock,
    )
    pending = list(enumerate(target_set.targets, start=1))
    session = _Session(client, ledger, options, limiter, retry_policy, clock)
    return await session.run(
        pending,
        read_first=precheck and not dry_run,
        event="started",
        on_progress=on_progress,
        stop=stop,
        progress_bar=progress_bar,
    )


async def resume_run(
    client: VersionClient,
    ledger_path: str | Path,
    *,
    concurrency: int | None = None,
    rate_limit: float | AdaptiveRateLimiter | None = None,
    adaptive: bool | None = None,
    max_attempts: int | None = None,
    retry_failed: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    stop: asyncio.Event | None = None,
    progress_bar: bool = False,
    stop_grace_seconds: float = 5.0,
    retry_policy: RetryPolicy | None = None,
    clock: Callable[[], float] = time.time,
) -> RunResult:
    """Finish a run from its ledger: targets with an outcome are not sent again.

    Unfinished targets are first reconciled: each of their keys' version list
    is read once, versions already ``ENABLE`` (perhaps enabled by the run that
    died before it could record them) are recorded ``already_enabled``
    without a request, and only the rest are enabled. Options left as None are
    taken from the ledger. ``retry_failed`` also sends ``failed`` targets
    again (their old outcome is replaced).

    Example:
        >>> result = await resume_run(client, "kms-runs/run-1.sqlite")  # doctest: +SKIP
    """
    with Ledger.open(ledger_path) as peek:
        info = peek.run_info()
    if info.dry_run:
        raise LedgerError(
            f"{ledger_path} records a dry run, which sends nothing: start a new run"
        )
    stored = info.parameters
    options = _options(
        concurrency or stored.get("concurrency", 32),
        max_attempts or stored.get("max_attempts", 5),
        dry_run=False,
        precheck=True,
        stop_grace_seconds=stop_grace_seconds,
    )
    if adaptive is None:
        adaptive = bool(stored.get("adaptive", True))
    limiter = _limiter(
        rate_limit if rate_limit is not None else stored.get("rate_limit"), adaptive
    )
    # Options are checked; only now is the ledger held open for the session.
    ledger = Ledger.open(ledger_path)
    if retry_failed:
        logger.info(
            "forgot %d failed outcome(s) to send them again", ledger.forget_failures()
        )
    session = _Session(client, ledger, options, limiter, retry_policy, clock)
    return await session.run(
        ledger.unfinished(),
        read_first=True,
        event="resumed",
        on_progress=on_progress,
        stop=stop,
        progress_bar=progress_bar,
    )


def run_enable(
    client_factory: Callable[[], Any], targets: TargetSource, **options: Any
) -> RunResult:
    """Run ``enable_versions`` from synchronous code (a script, not a notebook).

    ``client_factory`` builds the ``AsyncKmsClient`` inside the event loop
    (aiohttp needs one) and the client is closed at the end.

    Example:
        >>> result = run_enable(AsyncKmsClient, "targets.csv")  # doctest: +SKIP
    """

    async def main() -> RunResult:
        client = client_factory()
        try:
            return await enable_versions(client, targets, **options)
        finally:
            await client.aclose()

    return asyncio.run(main())


class _Session:
    """One session of a run: a fresh start or a resume, over one ledger."""

    def __init__(
        self,
        client: VersionClient,
        ledger: Ledger,
        options: _Options,
        limiter: AdaptiveRateLimiter,
        retry_policy: RetryPolicy | None,
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._ledger = ledger
        self._options = options
        self._limiter = limiter
        self._policy = retry_policy or RetryPolicy(
            max_attempts=options.max_attempts, rng=random.Random()
        )
        self._clock = clock
        self._batch: list[OutcomeRow] = []
        self._base_path = _base_path(client)
        # Set by the caller's stop or by a fatal error: no new work starts.
        self._halt = asyncio.Event()
        self._fatal: ApiError | None = None
        self._info = ledger.run_info()
        self._total = ledger.target_count() + ledger.rejected_count()
        self._counts = {Outcome(name): count for name, count in ledger.counts().items()}
        self._started = clock()
        self._done_before = sum(self._counts.values())

    async def run(
        self,
        pending: list[tuple[int, Target]],
        *,
        read_first: bool,
        event: str,
        on_progress: Callable[[Progress], None] | None,
        stop: asyncio.Event | None,
        progress_bar: bool,
    ) -> RunResult:
        """Finish ``pending``, recording outcomes; always leave the ledger flushed."""
        self._ledger.add_event(event, {"pending": len(pending)}, at_ms=self._now_ms())
        reporter = _ProgressReporter(self, on_progress, progress_bar)
        background = [asyncio.create_task(self._tick(reporter))]
        if stop is not None:
            if stop.is_set():
                self._halt.set()
            background.append(asyncio.create_task(self._halt_when(stop)))
        ending = "finished"
        try:
            if read_first and pending:
                pending = await self._read_first(pending)
            work = self._dry_run_one if self._options.dry_run else self._enable_one
            await self._pool(pending, work)
            if self._halt.is_set():
                ending = "stopped"
        except BaseException:
            ending = "cancelled"
            raise
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            self._finish(reporter, ending)
        return self._result(cancelled=ending != "finished")

    async def _pool(
        self, items: Sequence[Item], work: Callable[[Item], Awaitable[None]]
    ) -> None:
        """Run ``work`` over ``items`` with at most ``concurrency`` at once."""
        await run_pool(
            items,
            work,
            concurrency=min(self._options.concurrency, max(len(items), 1)),
            stop=self._halt,
            stop_grace_seconds=self._options.stop_grace_seconds,
        )

    async def _halt_when(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._halt.set()

    def _fail_run(self, error: ApiError) -> None:
        """Stop sending after a fatal error; the first one is the run's."""
        if self._fatal is not None:
            return
        self._fatal = error
        self._halt.set()
        logger.error("stopping the run: %s", error)

    # One target.

    async def _enable_one(self, item: tuple[int, Target]) -> None:
        """Send one enable (with retries) and record what became of it."""
        seq, target = item
        send = _Attempts(self, target)
        started = self._clock()
        try:
            change, attempts = await self._policy.call(send)
        except _Halted:
            return  # stopped by a fatal error before it was sent
        except FATAL_ERRORS as error:
            # Not the target's failure: it stays not_run, so a resume sends it.
            self._fail_run(error)
            return
        except Exception as error:  # a failed target is data, not a crash
            self._record_failure(seq, error, send, started)
            return
        enabled = change.status is KeyVersionStatus.ENABLE
        # NOTE: the facade returns only on a 2xx SUCCESS and does not say which
        # 2xx; NCP documents 200 for this operation, so 200 is recorded.
        self._record(
            seq,
            Outcome.ENABLED if enabled else Outcome.FAILED,
            started,
            version_status=change.status.value,
            status_date_ms=_epoch_ms(change.status_date),
            http_status=200,
            message=None if enabled else f"the answer says {change.status}",
            attempts=attempts,
            latency_ms=send.latency_ms,
        )

    async def _dry_run_one(self, item: tuple[int, Target]) -> None:
        """Record the request this target would get; send nothing."""
        seq, (key_tag, version) = item
        request = enable_request(key_tag, version, self._base_path)
        self._record(seq, Outcome.DRY_RUN, self._clock(), message=request)

    async def _read_first(
        self, pending: list[tuple[int, Target]]
    ) -> list[tuple[int, Target]]:
        """Read each key's versions once; return the targets that need an enable."""
        # NOTE: NCP answers an enable of an enabled version with SUCCESS, like
        # any other: only reading the version first tells already_enabled apart.
        by_key: dict[str, list[tuple[int, int]]] = {}
        for seq, target in pending:
            by_key.setdefault(target.key_tag, []).append((seq, target.version))
        to_send: list[tuple[int, Target]] = []

        async def read(key_tag: str) -> None:
            to_send.extend(await self._sort_by_status(key_tag, by_key[key_tag]))

        await self._pool(list(by_key), read)
        to_send.sort()
        logger.info(
            "read %d key(s): %d of %d target(s) still need an enable",
            len(by_key),
            len(to_send),
            len(pending),
        )
        return to_send

    async def _sort_by_status(
        self, key_tag: str, items: list[tuple[int, int]]
    ) -> list[tuple[int, Target]]:
        """Record enabled or missing versions of one key; return those to send."""
        started = self._clock()
        read = _Attempts(self, Target(key_tag, 0), read=True)
        try:
            listing, attempts = await self._policy.call(read)
        except NotFoundError as error:
            for seq, _ in items:
                self._record_failure(seq, error, read, started)
            return []
        except _Halted:
            return []
        except FATAL_ERRORS as error:
            # Nothing was sent for these targets: they stay not_run.
            self._fail_run(error)
            return []
        except Exception as error:
            # The enable itself will tell; reading first is only a shortcut.
            logger.warning("cannot read versions of %s (%s); enabling", key_tag, error)
            return [(seq, Target(key_tag, version)) for seq, version in items]
        found = {entry.version: entry for entry in listing.versions}
        to_send = []
        for seq, version in items:
            current = found.get(version)
            if current is None:
                message = f"key {key_tag} has no version {version}; nothing was sent"
                self._record(
                    seq, Outcome.FAILED, started, error_type="NotFoundError",
                    message=message, attempts=attempts, latency_ms=read.latency_ms,
                )  # fmt: skip
            elif current.status is KeyVersionStatus.ENABLE:
                self._record(
                    seq, Outcome.ALREADY_ENABLED, started,
                    version_status=current.status.value,
                    status_date_ms=_epoch_ms(current.status_date),
                    message="found ENABLE before sending; no enable was sent",
                    attempts=attempts, latency_ms=read.latency_ms,
                )  # fmt: skip
            else:
                to_send.append((seq, Target(key_tag, version)))
        return to_send

    def _record_failure(
        self, seq: int, error: BaseException, attempts: _Attempts, started: float
    ) -> None:
        """Record a final failure with what the error says, never more."""
        api = error if isinstance(error, ApiError) else None
        self._record(
            seq,
            Outcome.FAILED,
            started,
            http_status=api.status_code if api else None,
            error_code=api.error_code if api else None,
            error_type=type(error).__name__,
            message=str(error)[:MESSAGE_LIMIT] or type(error).__name__,
            attempts=attempts.count,
            latency_ms=attempts.latency_ms,
        )

    def _record(
        self,
        seq: int,
        outcome: Outcome,
        started: float,
        *,
        version_status: str | None = None,
        status_date_ms: int | None = None,
        http_status: int | None = None,
        error_code: str | None = None,
        error_type: str | None = None,
        message: str | None = None,
        attempts: int = 0,
        latency_ms: float | None = None,
    ) -> None:
        """Queue one outcome row (``OUTCOME_COLUMNS`` order) for the ledger."""
        self._batch.append((
            seq, outcome.value, version_status, status_date_ms, http_status,
            error_code, error_type, message, attempts, latency_ms,
            _ms(started), self._now_ms(),
        ))  # fmt: skip
        self._counts[outcome] = self._counts.get(outcome, 0) + 1
        if len(self._batch) >= FLUSH_BATCH:
            self._flush()

    # Off the request path: the ledger and progress.

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        self._ledger.record(batch)

    async def _tick(self, reporter: _ProgressReporter) -> None:
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL)
            self._flush()
            reporter.report(self.progress())

    def progress(self, *, finished: bool = False) -> Progress:
        """A snapshot of the run now."""
        done = sum(self._counts.values())
        counts = dict(self._counts)
        counts[Outcome.NOT_RUN] = self._total - done
        elapsed = max(self._clock() - self._started, 1e-9)
        done_here = done - self._done_before
        return Progress(
            total=self._total,
            done=done,
            counts=counts,
            rate_per_second=done_here / elapsed,
            elapsed_seconds=elapsed,
            current_rate_limit=self._limiter.current_rate,
            finished=finished,
        )

    def _finish(self, reporter: _ProgressReporter, ending: str) -> None:
        self._flush()
        progress = self.progress(finished=True)
        detail: dict[str, Any] = {
            "counts": {str(k): v for k, v in progress.counts.items()},
            "throttled": self._limiter.throttled,
        }
        if self._fatal is not None:
            detail["fatal_error"] = _describe(self._fatal)
        self._ledger.add_event(ending, detail, at_ms=self._now_ms())
        self._ledger.close()
        reporter.report(progress, final=True)
        reporter.close()

    def _result(self, *, cancelled: bool) -> RunResult:
        counts = dict(self._counts)
        counts[Outcome.NOT_RUN] = self._total - sum(self._counts.values())
        return RunResult(
            run_id=self._info.run_id,
            ledger_path=self._ledger.path,
            dry_run=self._info.dry_run,
            cancelled=cancelled or counts[Outcome.NOT_RUN] > 0,
            counts=counts,
            total=self._total,
            elapsed_seconds=self._clock() - self._started,
            parameters=self._info.parameters,
            fatal_error=self._fatal,
        )

    def _now_ms(self) -> int:
        return _ms(self._clock())


class _Halted(Exception):
    """A fatal error elsewhere stopped the run before this request was sent."""


class _Attempts:
    """Makes one request per call, through the limiter, counting attempts."""

    __slots__ = ("count", "latency_ms", "read", "session", "target")

    def __init__(
        self, session: _Session, target: Target, *, read: bool = False
    ) -> None:
        self.session = session
        self.target = target
        self.read = read
        self.count = 0
        self.latency_ms: float | None = None

    async def __call__(self) -> Any:
        session, limiter = self.session, self.session._limiter
        asked_at = await limiter.acquire()
        if session._fatal is not None:
            raise _Halted
        self.count += 1
        started = time.perf_counter()
        try:
            if self.read:
                result: Any = await session._client.list_key_versions(
                    self.target.key_tag
                )
            else:
                result = await session._client.enable_key_version(*self.target)
        except ThrottledError:
            limiter.on_throttled(asked_at)
            raise
        finally:
            self.latency_ms = (time.perf_counter() - started) * 1000
        limiter.on_success()
        return result


class _ProgressReporter:
    """Hands progress to the callback and the terminal bar, at most every tick."""

    def __init__(
        self,
        session: _Session,
        on_progress: Callable[[Progress], None] | None,
        progress_bar: bool,
    ) -> None:
        self._callback = on_progress
        first = session.progress()
        self._bar = tqdm(
            total=first.total,
            initial=first.done,
            unit="target",
            disable=not progress_bar,
            dynamic_ncols=True,
        )

    def report(self, progress: Progress, *, final: bool = False) -> None:
        self._bar.update(progress.done - self._bar.n)
        if progress.current_rate_limit is not None:
            self._bar.set_postfix(
                pace=f"{progress.current_rate_limit:.0f}/s", refresh=False
            )
        if self._callback is None:
            return
        try:
            self._callback(progress)
        except Exception:
            # A broken progress display must not lose the run.
            logger.exception("the progress callback failed")

    def close(self) -> None:
        self._bar.close()


def _options(
    concurrency: object,
    max_attempts: object,
    dry_run: bool,
    precheck: bool,
    stop_grace_seconds: float,
) -> _Options:
    """Checked run options; bad values fail before anything is written or sent."""
    return _Options(
        _positive_integer("concurrency", concurrency),
        _positive_integer("max_attempts", max_attempts),
        dry_run,
        precheck,
        stop_grace_seconds,
    )


def _positive_integer(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(
            f"{name} must be an integer of 1 or more, not {value!r}"
        )
    return value


def _limiter(
    rate_limit: float | AdaptiveRateLimiter | None, adaptive: bool
) -> AdaptiveRateLimiter:
    if isinstance(rate_limit, AdaptiveRateLimiter):
        return rate_limit
    return AdaptiveRateLimiter(rate_limit, adaptive=adaptive)


def _parameters(
    client: object,
    options: _Options,
    limiter: AdaptiveRateLimiter,
    adaptive: bool,
    targets: TargetSet,
) -> dict[str, Any]:
    """What the ledger keeps about a run: options and endpoint, never credentials."""
    return {
        "endpoint": _without_userinfo(getattr(client, "base_url", None)),
        "concurrency": options.concurrency,
        "rate_limit": limiter.ceiling,
        "adaptive": adaptive,
        "max_attempts": options.max_attempts,
        "dry_run": options.dry_run,
        "precheck": options.precheck,
        "targets": len(targets.targets),
        "rejected": len(targets.rejected),
        "duplicates": targets.duplicates,
        "source": targets.source,
    }


def _without_userinfo(url: object) -> str | None:
    """The URL without any ``user:password@`` part, which must not be stored."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


def _base_path(client: object) -> str:
    base_url = getattr(client, "base_url", None)
    return (
        urlsplit(base_url).path.rstrip("/")
        if isinstance(base_url, str)
        else DEFAULT_BASE_PATH
    )


def _describe(error: ApiError) -> dict[str, Any]:
    """What the ledger keeps of a fatal error: codes and the short message."""
    return {
        "error_type": type(error).__name__,
        "http_status": error.status_code,
        "error_code": error.error_code,
        "message": str(error)[:MESSAGE_LIMIT],
    }


def _new_run_id(clock: Callable[[], float]) -> str:
    stamp = datetime.fromtimestamp(clock(), tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"run-{stamp}-{uuid.uuid4().hex[:6]}"


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)
