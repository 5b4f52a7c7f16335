"""The run engine against a fake client: outcomes, pre-reads, dry run, stops."""

from __future__ import annotations

import asyncio
import math
import sqlite3
from pathlib import Path

import pytest

from kms_toolkit.bulk import (
    InvalidTargetsError,
    Ledger,
    Outcome,
    Progress,
    RetryPolicy,
    enable_versions,
    results_frame,
    resume_run,
    run_enable,
)
from kms_toolkit.emulator import EmulatorApp, Fault
from kms_toolkit.errors import (
    AuthenticationError,
    BadRequestError,
    EndpointError,
    InvalidInputError,
    PermissionDeniedError,
    ThrottledError,
    TransportError,
)
from kms_toolkit.models import KeyVersionStatus
from tests.bulk.conftest import FakeKms, disabled, emulator_client, ledger_files
from tests.conftest import CANARY_SECRET

TARGETS = [("key-a", 1), ("key-a", 2), ("key-b", 1), ("key-c", 3)]


def outcomes(path: Path) -> dict[tuple[str, int], str]:
    frame = results_frame(path)
    return {
        (row.key_tag, row.version): row.outcome
        for row in frame.itertuples()
        if row.outcome != "rejected"
    }


def ledger_rows(path: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT seq, count(*) FROM outcomes GROUP BY seq"
        ).fetchall()
    connection.close()
    return rows


async def test_every_target_is_enabled_and_recorded_once(ledger_path: Path) -> None:
    """A clean run enables each target once and records one row each."""
    kms = FakeKms(disabled(*TARGETS))

    result = await enable_versions(kms, TARGETS, ledger_path=ledger_path)

    assert result.counts[Outcome.ENABLED] == 4
    assert result.all_enabled
    assert not result.cancelled
    assert set(kms.enables.values()) == {1}
    assert ledger_rows(ledger_path) == [(1, 1), (2, 1), (3, 1), (4, 1)]


async def test_already_enabled_versions_are_not_sent(ledger_path: Path) -> None:
    """The pre-read finds ENABLE versions and records them without an enable."""
    statuses = disabled(*TARGETS)
    statuses["key-a", 2] = KeyVersionStatus.ENABLE

    result = await enable_versions(FakeKms(statuses), TARGETS, ledger_path=ledger_path)

    assert result.counts[Outcome.ALREADY_ENABLED] == 1
    assert outcomes(ledger_path)["key-a", 2] == "already_enabled"


async def test_the_pre_read_is_one_read_per_key(ledger_path: Path) -> None:
    """Three keys, four targets: three reads."""
    kms = FakeKms(disabled(*TARGETS))

    await enable_versions(kms, TARGETS, ledger_path=ledger_path)

    assert dict(kms.reads) == {"key-a": 1, "key-b": 1, "key-c": 1}


async def test_a_missing_version_fails_without_a_request(ledger_path: Path) -> None:
    """A version the key does not list fails and no enable is sent for it."""
    kms = FakeKms(disabled(("key-a", 1)))

    result = await enable_versions(
        kms, [("key-a", 1), ("key-a", 7)], ledger_path=ledger_path
    )

    frame = results_frame(ledger_path).set_index("version")
    assert result.counts[Outcome.FAILED] == 1
    assert kms.enables[("key-a", 7)] == 0
    assert frame.loc[7, "message"] == "key key-a has no version 7; nothing was sent"


async def test_without_precheck_every_target_is_sent(ledger_path: Path) -> None:
    """precheck=False: no reads, every target enabled by request."""
    kms = FakeKms(disabled(*TARGETS))

    result = await enable_versions(
        kms, TARGETS, precheck=False, ledger_path=ledger_path
    )

    assert not kms.reads
    assert sum(kms.enables.values()) == 4
    assert result.counts[Outcome.ENABLED] == 4


async def test_dry_run_sends_nothing_and_shows_each_request(ledger_path: Path) -> None:
    """A dry run neither reads nor enables; each row holds method and path."""
    kms = FakeKms(disabled(*TARGETS))

    result = await enable_versions(kms, TARGETS, dry_run=True, ledger_path=ledger_path)

    frame = results_frame(ledger_path)
    assert not kms.reads
    assert not kms.enables
    assert result.dry_run
    assert result.counts[Outcome.DRY_RUN] == 4
    assert frame["message"].tolist()[0] == "POST /kms/v1/keys/key-a/versions/1/enable"


async def test_a_final_error_is_a_failed_row_with_its_codes(ledger_path: Path) -> None:
    """A 400 is recorded with status, code and type, after one attempt; the
    other targets go on."""
    error = BadRequestError(
        status_code=400, error_code="100", message="Bad Request Exception"
    )
    kms = FakeKms(disabled(*TARGETS), failures={("key-b", 1): [error]})

    result = await enable_versions(kms, TARGETS, ledger_path=ledger_path)

    row = results_frame(ledger_path).set_index("key_tag").loc["key-b"]
    assert result.counts[Outcome.FAILED] == 1
    assert result.counts[Outcome.ENABLED] == 3
    assert not result.all_enabled
    assert result.fatal_error is None
    assert (row.http_status, row.error_code, row.error_type, row.attempts) == (
        400,
        "100",
        "BadRequestError",
        1,
    )
    assert row.message == "HTTP 400 errorCode 100: Bad Request Exception"


def event_count(path: Path) -> int:
    with Ledger.open(path) as ledger:
        return len(ledger.events())


def last_event(path: Path) -> tuple[str, dict[str, object]]:
    with Ledger.open(path) as ledger:
        _, kind, detail = ledger.events()[-1]
    return kind, detail


async def test_a_wrong_secret_stops_the_run_at_the_first_answer(
    emulator: EmulatorApp, ledger_path: Path
) -> None:
    """precheck=False with a wrong secret: no more than one request per worker is
    sent and every target stays not_run, the one that met the 401/200 too."""
    targets = emulator.state.disabled_versions(enabled_keys_only=True)
    client, transport = emulator_client(emulator, secret="not-the-secret")

    async with client:
        result = await enable_versions(
            client, targets, concurrency=4, precheck=False, ledger_path=ledger_path
        )

    assert isinstance(result.fatal_error, AuthenticationError)
    assert result.fatal_error.error_code == "200"
    assert transport.sent <= 4
    assert result.counts.get(Outcome.FAILED, 0) == 0
    assert result.counts[Outcome.NOT_RUN] == len(targets)
    assert not result.all_enabled
    assert result.cancelled
    assert ledger_rows(ledger_path) == []
    kind, detail = last_event(ledger_path)
    assert kind == "stopped"
    assert detail["fatal_error"] == {
        "error_type": "AuthenticationError",
        "http_status": 401,
        "error_code": "200",
        "message": str(result.fatal_error),
    }


async def test_a_wrong_secret_in_the_pre_read_sends_no_enable_and_resumes(
    emulator: EmulatorApp, ledger_path: Path
) -> None:
    """The version reads meet the 401 first: no enable is sent, every target
    stays not_run, and a resume with the right secret enables them all."""
    targets = emulator.state.disabled_versions(enabled_keys_only=True)
    wrong, transport = emulator_client(emulator, secret="not-the-secret")
    async with wrong:
        result = await enable_versions(
            wrong, targets, concurrency=4, ledger_path=ledger_path
        )

    assert isinstance(result.fatal_error, AuthenticationError)
    assert transport.sent <= 4
    assert emulator.counters.requests("enableKeyVersion") == 0
    assert result.counts[Outcome.NOT_RUN] == len(targets)

    right, _ = emulator_client(emulator, secret=CANARY_SECRET)
    async with right:
        resumed = await resume_run(right, ledger_path)

    assert resumed.all_enabled
    assert resumed.fatal_error is None
    assert resumed.counts[Outcome.ENABLED] == len(targets)


async def test_a_wrong_secret_without_precheck_is_finished_by_a_resume(
    emulator: EmulatorApp, ledger_path: Path
) -> None:
    """precheck=False with a wrong secret, then a plain resume with the right
    one: every target ends enabled, none left failed or disabled."""
    targets = emulator.state.disabled_versions(enabled_keys_only=True)
    wrong, _ = emulator_client(emulator, secret="not-the-secret")
    async with wrong:
        stopped = await enable_versions(
            wrong, targets, concurrency=4, precheck=False, ledger_path=ledger_path
        )
    right, _ = emulator_client(emulator, secret=CANARY_SECRET)
    async with right:
        resumed = await resume_run(right, ledger_path)

    assert isinstance(stopped.fatal_error, AuthenticationError)
    assert resumed.fatal_error is None
    assert resumed.all_enabled
    assert resumed.counts.get(Outcome.FAILED, 0) == 0
    assert emulator.state.disabled_versions(enabled_keys_only=True) == []


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [(Fault.PERMISSION_DENIED, 401, "210"), (Fault.FORBIDDEN, 403, "230")],
)
async def test_a_permission_failure_stops_the_run(
    emulator: EmulatorApp, ledger_path: Path, fault: Fault, status: int, code: str
) -> None:
    """The third enable is refused for want of permission: two enabled, the
    rest not_run, the gateway's codes in fatal_error, nothing more sent."""
    targets = emulator.state.disabled_versions(enabled_keys_only=True)
    emulator.injector.schedule(fault, operation="enableKeyVersion", call=3)
    client, transport = emulator_client(emulator)

    async with client:
        result = await enable_versions(
            client, targets, concurrency=1, precheck=False, ledger_path=ledger_path
        )

    assert isinstance(result.fatal_error, PermissionDeniedError)
    assert (result.fatal_error.status_code, result.fatal_error.error_code) == (
        status,
        code,
    )
    assert transport.sent == 3
    assert result.counts[Outcome.ENABLED] == 2
    assert result.counts.get(Outcome.FAILED, 0) == 0
    assert result.counts[Outcome.NOT_RUN] == len(targets) - 2


@pytest.mark.usefixtures("real_retry_waits")
async def test_requests_waiting_to_be_retried_are_not_sent_after_a_fatal_error(
    ledger_path: Path,
) -> None:
    """A target waiting for its retry when another meets a 401 is not sent
    again and stays not_run."""

    async def long_wait(_: float) -> None:
        await asyncio.sleep(0.05)

    auth = AuthenticationError(status_code=401, error_code="200")
    kms = FakeKms(
        disabled(("key-a", 1), ("key-b", 1)),
        failures={
            ("key-a", 1): [EndpointError(status_code=503, error_code="500")],
            ("key-b", 1): [auth],
        },
    )

    result = await enable_versions(
        kms,
        [("key-a", 1), ("key-b", 1)],
        precheck=False,
        retry_policy=RetryPolicy(sleep=long_wait),
        ledger_path=ledger_path,
    )

    assert result.fatal_error is auth
    assert kms.enables[("key-a", 1)] == 1
    assert result.counts[Outcome.NOT_RUN] == 2


async def test_retryable_errors_are_retried_and_counted(ledger_path: Path) -> None:
    """A 429, a 503 and a dropped connection, then success: enabled after 4 attempts."""
    failures = [
        ThrottledError(status_code=429, error_code="420", retry_after=0.0),
        EndpointError(status_code=503, error_code="500"),
        TransportError("connection dropped"),
    ]
    kms = FakeKms(disabled(*TARGETS), failures={("key-c", 3): failures})

    await enable_versions(kms, TARGETS, ledger_path=ledger_path)

    row = results_frame(ledger_path).set_index("key_tag").loc["key-c"]
    assert (row.outcome, row.attempts) == ("enabled", 4)


async def test_concurrency_bounds_requests_in_flight(ledger_path: Path) -> None:
    """A pool of 3 workers never has more than 3 enables in flight."""
    targets = [(f"key-{i}", 1) for i in range(30)]
    kms = FakeKms(disabled(*targets), delay=0.001)

    await enable_versions(kms, targets, concurrency=3, ledger_path=ledger_path)

    assert kms.most_in_flight == 3


async def test_invalid_targets_stop_the_run_before_anything(ledger_path: Path) -> None:
    """One bad row: no read, no enable, no ledger."""
    kms = FakeKms(disabled(*TARGETS))

    with pytest.raises(
        InvalidTargetsError, match="row 2: key version 0 is out of range"
    ):
        await enable_versions(
            kms, [("key-a", 1), ("key-a", 0)], ledger_path=ledger_path
        )

    assert not kms.reads
    assert not kms.enables
    assert not ledger_path.exists()  # noqa: ASYNC240 (a test's own tmp file)


async def test_skipped_invalid_rows_are_recorded_as_rejected(ledger_path: Path) -> None:
    """With skip_invalid the good rows run and the bad ones are rejected rows."""
    kms = FakeKms(disabled(("key-a", 1)))

    result = await enable_versions(
        kms, [("key-a", 1), ("bad/tag", 1)], skip_invalid=True, ledger_path=ledger_path
    )

    frame = results_frame(ledger_path)
    rejected = frame[frame["outcome"] == "rejected"].iloc[0]
    assert result.counts[Outcome.REJECTED] == 1
    assert not result.all_enabled
    assert (rejected.key_tag, rejected.input_row) == ("bad/tag", 2)
    assert "contains '/'" in rejected.message


async def test_bad_options_are_refused_before_anything(ledger_path: Path) -> None:
    """concurrency 0 and a negative rate are bad input."""
    kms = FakeKms(disabled(*TARGETS))

    with pytest.raises(InvalidInputError, match="concurrency must be an integer of 1"):
        await enable_versions(kms, TARGETS, concurrency=0, ledger_path=ledger_path)
    with pytest.raises(InvalidInputError, match="rate_limit must be a positive"):
        await enable_versions(kms, TARGETS, rate_limit=-1, ledger_path=ledger_path)
    assert not ledger_path.exists()  # noqa: ASYNC240 (a test's own tmp file)


@pytest.mark.parametrize("rate_limit", [math.inf, math.nan, 0, -1, True])
async def test_bad_rate_limits_are_refused_by_run_and_resume(
    ledger_path: Path, rate_limit: float
) -> None:
    """inf, nan, 0, -1 and True are bad input for a run (no ledger is made) and
    for a resume (nothing is sent, the ledger gets no event)."""
    kms = FakeKms(disabled(*TARGETS))

    with pytest.raises(InvalidInputError, match="rate_limit must be a positive"):
        await enable_versions(
            kms, TARGETS, rate_limit=rate_limit, ledger_path=ledger_path
        )
    assert not ledger_path.exists()  # noqa: ASYNC240 (a test's own tmp file)
    stop = asyncio.Event()
    stop.set()
    await enable_versions(kms, TARGETS, stop=stop, ledger_path=ledger_path)
    events = event_count(ledger_path)
    with pytest.raises(InvalidInputError, match="rate_limit must be a positive"):
        await resume_run(kms, ledger_path, rate_limit=rate_limit)
    assert event_count(ledger_path) == events
    assert sum(kms.enables.values()) == 0


async def test_progress_is_reported_and_ends_finished(ledger_path: Path) -> None:
    """The callback's last snapshot is final and complete."""
    seen: list[Progress] = []

    await enable_versions(
        FakeKms(disabled(*TARGETS)),
        TARGETS,
        ledger_path=ledger_path,
        on_progress=seen.append,
    )

    last = seen[-1]
    assert last.finished
    assert (last.total, last.done) == (4, 4)
    assert last.counts[Outcome.ENABLED] == 4
    assert last.counts[Outcome.NOT_RUN] == 0


async def test_stop_ends_the_run_and_resume_finishes_it(ledger_path: Path) -> None:
    """Setting stop leaves unsent targets not_run; resume sends only those."""
    targets = [(f"key-{i}", 1) for i in range(40)]
    kms = FakeKms(disabled(*targets), delay=0.001)
    stop = asyncio.Event()
    kms.on_enable = lambda target: (
        stop.set() if sum(kms.enables.values()) >= 10 else None
    )

    first = await enable_versions(
        kms, targets, concurrency=2, precheck=False, stop=stop, ledger_path=ledger_path
    )

    assert first.cancelled
    assert 0 < first.counts[Outcome.NOT_RUN] < 40
    second = await resume_run(kms, ledger_path)
    assert second.all_enabled
    assert not second.cancelled
    assert set(kms.enables.values()) == {1}
    assert len(ledger_rows(ledger_path)) == 40


async def test_cancelling_the_task_keeps_what_finished(ledger_path: Path) -> None:
    """Task cancellation propagates; finished outcomes are in the ledger."""
    targets = [(f"key-{i}", 1) for i in range(200)]
    kms = FakeKms(disabled(*targets), delay=0.002)
    run = asyncio.create_task(
        enable_versions(
            kms, targets, concurrency=4, precheck=False, ledger_path=ledger_path
        )
    )
    twenty_sent = asyncio.Event()
    kms.on_enable = lambda _: (
        twenty_sent.set() if sum(kms.enables.values()) >= 20 else None
    )
    await twenty_sent.wait()

    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run

    recorded = len(ledger_rows(ledger_path))
    assert 20 - 4 <= recorded < 200
    await resume_run(kms, ledger_path)
    assert len(ledger_rows(ledger_path)) == 200
    # Abandoned in-flight enables had reached the fake server: the resume's
    # pre-read found them ENABLE and did not send them again.
    assert set(kms.enables.values()) == {1}


async def test_resume_reconciles_unrecorded_successes(ledger_path: Path) -> None:
    """Targets enabled at the server but not recorded are not enabled again."""
    targets = [(f"key-{i}", 1) for i in range(6)]
    kms = FakeKms(disabled(*targets))
    dry = ledger_path.with_name("dry.sqlite")
    await enable_versions(kms, targets, dry_run=True, ledger_path=dry)
    with pytest.raises(InvalidInputError, match="records a dry run"):
        await resume_run(kms, dry)

    stop = asyncio.Event()
    stop.set()
    first = await enable_versions(kms, targets, stop=stop, ledger_path=ledger_path)
    assert first.counts[Outcome.NOT_RUN] == 6
    # As if a killed run had enabled two of them without recording it.
    kms.statuses["key-0", 1] = kms.statuses["key-3", 1] = KeyVersionStatus.ENABLE

    result = await resume_run(kms, ledger_path)

    assert result.counts[Outcome.ALREADY_ENABLED] == 2
    assert result.counts[Outcome.ENABLED] == 4
    assert kms.enables[("key-0", 1)] == kms.enables[("key-3", 1)] == 0


async def test_resume_can_send_failed_targets_again(ledger_path: Path) -> None:
    """retry_failed replaces a failure with the new outcome."""
    error = EndpointError(status_code=503, error_code="500")
    kms = FakeKms(disabled(*TARGETS), failures={("key-b", 1): [error] * 5})
    first = await enable_versions(kms, TARGETS, max_attempts=5, ledger_path=ledger_path)
    assert first.counts[Outcome.FAILED] == 1

    again = await resume_run(kms, ledger_path, retry_failed=True)

    assert again.all_enabled
    assert ledger_rows(ledger_path) == [(1, 1), (2, 1), (3, 1), (4, 1)]


async def test_the_ledger_never_holds_credentials(
    emulator: EmulatorApp, ledger_path: Path
) -> None:
    """A real client signing with a canary secret: the ledger's bytes hold the
    endpoint and never the secret (nor the access key's partner)."""
    targets = emulator.state.disabled_versions(enabled_keys_only=True)[:20]
    client, _ = emulator_client(emulator, secret=CANARY_SECRET)

    async with client:
        result = await enable_versions(client, targets, ledger_path=ledger_path)

    assert result.all_enabled
    content = b"".join(path.read_bytes() for path in ledger_files(ledger_path))
    assert CANARY_SECRET.encode() not in content
    assert b"ocapi.ncloud.com/kms/v1" in content


async def test_an_endpoint_with_a_user_part_is_stored_without_it(
    ledger_path: Path,
) -> None:
    """A client whose base URL carries ``user:password@`` (AsyncKmsClient refuses
    one; other clients may not) is recorded with host and path only."""
    kms = FakeKms(disabled(*TARGETS))
    kms.base_url = "http://user:hunter2@127.0.0.1:9/kms/v1"

    await enable_versions(kms, TARGETS, ledger_path=ledger_path)

    with Ledger.open(ledger_path) as ledger:
        endpoint = ledger.run_info().parameters["endpoint"]
    assert endpoint == "http://127.0.0.1:9/kms/v1"


def test_run_enable_runs_from_synchronous_code(ledger_path: Path) -> None:
    """run_enable builds the client in the loop, runs, and closes the client."""
    kms = FakeKms(disabled(*TARGETS))

    result = run_enable(lambda: kms, TARGETS, ledger_path=ledger_path)

    assert result.all_enabled
    assert kms.closed


async def test_progress_bar_draws_on_stderr(
    ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """progress_bar=True shows a tqdm bar that ends at the total."""
    await enable_versions(
        FakeKms(disabled(*TARGETS)), TARGETS, progress_bar=True, ledger_path=ledger_path
    )

    assert "4/4" in capsys.readouterr().err
