"""Retry policy: which failures are retried, how often, how long it waits."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest
import stamina
import stamina.instrumentation

from kms_toolkit.bulk import RetryPolicy, enable_versions, results_frame
from kms_toolkit.errors import (
    AuthenticationError,
    EndpointError,
    EndpointTimeoutError,
    InvalidKeyTagError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RequestTimeoutError,
    ThrottledError,
    TransportError,
)
from tests.bulk.conftest import FakeKms, RecordingSleep, disabled


class Flaky:
    """Fails with the given errors, then returns 'done'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


RETRYABLE = [
    ThrottledError(status_code=429, error_code="420", retry_after=1.0),
    EndpointError(status_code=503, error_code="500"),
    EndpointTimeoutError(status_code=504, error_code="510"),
    TransportError("connection reset"),
    RequestTimeoutError("read timeout"),
]
FINAL = [
    AuthenticationError(status_code=401, error_code="200"),
    PermissionDeniedError(status_code=401, error_code="210"),
    NotFoundError(status_code=404, error_code="300"),
    QuotaExceededError(status_code=429, error_code="400"),
    InvalidKeyTagError("key tag is empty"),
]


@pytest.mark.parametrize("error", RETRYABLE, ids=lambda e: type(e).__name__)
async def test_retryable_failures_are_retried(error: Exception) -> None:
    """Throttling, 503, 504, dropped connections and timeouts are sent again."""
    operation = Flaky(error, error)

    result, attempts = await RetryPolicy(max_attempts=5).call(operation)

    assert (result, attempts, operation.calls) == ("done", 3, 3)


@pytest.mark.parametrize("error", FINAL, ids=lambda e: type(e).__name__)
async def test_final_failures_are_not_retried(error: Exception) -> None:
    """Auth, permission, not found, quota and bad input fail at once."""
    operation = Flaky(error)

    with pytest.raises(type(error)) as caught:
        await RetryPolicy(max_attempts=5).call(operation)

    assert caught.value is error
    assert operation.calls == 1


async def test_attempts_are_bounded() -> None:
    """After max_attempts the last error is raised."""
    errors = [EndpointError(status_code=503, error_code="500") for _ in range(9)]
    operation = Flaky(*errors)

    with pytest.raises(EndpointError) as caught:
        await RetryPolicy(max_attempts=4).call(operation)

    assert caught.value is errors[3]
    assert operation.calls == 4


async def test_a_final_failure_after_a_retry_stops_the_retries() -> None:
    """A 503 then a 404: the 404 ends it."""
    operation = Flaky(
        EndpointError(status_code=503, error_code="500"),
        NotFoundError(status_code=404, error_code="300"),
    )

    with pytest.raises(NotFoundError):
        await RetryPolicy(max_attempts=5).call(operation)

    assert operation.calls == 2


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    """Wait n is uniform in [0, min(max_delay, base * 2**(n-1))], seeded."""
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0, rng=random.Random(3))
    expected = random.Random(3)

    waits = [policy.backoff(attempt) for attempt in range(1, 7)]

    ceilings = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert waits == [expected.uniform(0, ceiling) for ceiling in ceilings]


def test_retry_after_is_a_floor_under_the_wait() -> None:
    """A Retry-After longer than the jitter is honoured, up to a cap."""
    policy = RetryPolicy(base_delay=0.1, max_retry_after=30, rng=random.Random(1))

    told = ThrottledError(status_code=429, error_code="420", retry_after=2.5)
    too_long = ThrottledError(status_code=429, error_code="420", retry_after=3600)

    assert policy.backoff(1, told) == 2.5
    assert policy.backoff(1, too_long) == 30


@pytest.mark.usefixtures("real_retry_waits")
async def test_each_retry_waits_its_backoff_and_the_retry_after() -> None:
    """The policy really sleeps: the jittered backoffs, and a Retry-After over them."""
    sleep = RecordingSleep()
    policy = RetryPolicy(
        max_attempts=5, base_delay=0.1, rng=random.Random(11), sleep=sleep
    )
    operation = Flaky(
        EndpointError(status_code=503, error_code="500"),
        ThrottledError(status_code=429, error_code="420", retry_after=2.5),
        TransportError("connection reset"),
    )

    result, attempts = await policy.call(operation)

    expected = random.Random(11)
    first, _, third = (expected.uniform(0, ceiling) for ceiling in (0.1, 0.2, 0.4))
    assert (result, attempts) == ("done", 4)
    assert sleep.waits == [first, 2.5, third]


@pytest.mark.usefixtures("real_retry_waits")
async def test_a_run_waits_before_each_retry(ledger_path: Path) -> None:
    """Through the engine, a throttled target waits its Retry-After before the
    next attempt, and a final failure waits for nothing."""
    sleep = RecordingSleep()
    kms = FakeKms(
        disabled(("key-a", 1), ("key-b", 1)),
        failures={
            ("key-a", 1): [
                ThrottledError(status_code=429, error_code="420", retry_after=1.0)
            ],
            ("key-b", 1): [NotFoundError(status_code=404, error_code="300")],
        },
    )
    policy = RetryPolicy(max_attempts=3, rng=random.Random(5), sleep=sleep)

    await enable_versions(
        kms,
        [("key-a", 1), ("key-b", 1)],
        precheck=False,
        retry_policy=policy,
        ledger_path=ledger_path,
    )

    frame = results_frame(ledger_path).set_index("key_tag")
    assert sleep.waits == [1.0]
    assert frame.loc["key-a", "attempts"] == 2
    assert frame.loc["key-b", "outcome"] == "failed"


@pytest.mark.usefixtures("real_retry_waits")
async def test_stamina_hooks_report_no_wait_because_the_policy_sleeps(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """stamina's retry hooks see wait_for=0; the policy sleeps the real backoff
    on its own sleep and logs it at DEBUG."""
    sleep = RecordingSleep()
    policy = RetryPolicy(max_attempts=3, rng=random.Random(2), sleep=sleep)
    seen: list[float] = []
    hooks = stamina.instrumentation.get_on_retry_hooks()
    stamina.instrumentation.set_on_retry_hooks([lambda d: seen.append(d.wait_for)])
    try:
        with caplog.at_level(logging.DEBUG, logger="kms_toolkit.bulk.retry"):
            await policy.call(Flaky(EndpointError(status_code=503, error_code="500")))
    finally:
        stamina.instrumentation.set_on_retry_hooks(hooks)

    wait = random.Random(2).uniform(0, 0.1)
    assert seen == [0.0]
    assert sleep.waits == [wait]
    assert caplog.messages == [f"waiting {wait:.3f} s before attempt 2"]


async def test_stamina_test_mode_removes_the_waits() -> None:
    """Under stamina.set_testing (this suite's default) nothing is slept:
    stamina zeroes only its own waits, so the policy checks the mode itself."""
    sleep = RecordingSleep()
    policy = RetryPolicy(max_attempts=3, sleep=sleep)

    await policy.call(Flaky(EndpointError(status_code=503, error_code="500")))

    assert sleep.waits == []


def test_max_attempts_must_be_positive() -> None:
    """Zero attempts is refused."""
    with pytest.raises(ValueError, match="max_attempts must be at least 1, not 0"):
        RetryPolicy(max_attempts=0)
