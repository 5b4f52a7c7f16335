"""Injected latency, rate limits and faults, decided deterministically."""

from __future__ import annotations

import contextlib
import threading
import time

import httpx
import pytest

from kms_toolkit.emulator import (
    ConnectionDropped,
    EmulatorApp,
    Fault,
    FaultRule,
    InjectionSettings,
    Injector,
    KmsState,
)
from kms_toolkit.emulator.errors import GatewayError
from kms_toolkit.emulator.faults import TokenBucket
from tests.emulator.emulator_testkit import (
    FrozenClock,
    RecordingSleep,
    assert_error,
    disabled_target,
    run_together,
)


def test_token_bucket_admits_a_burst_then_the_rate(clock: FrozenClock) -> None:
    """A full bucket admits ``rate`` at once, then one more per 1/rate seconds."""
    bucket = TokenBucket(4, clock=clock)

    burst = [bucket.take() for _ in range(5)]
    clock.advance(0.25)
    refilled = bucket.take()

    assert burst[:4] == [0.0] * 4
    assert burst[4] == pytest.approx(0.25)
    assert refilled == 0.0


async def test_latency_and_jitter_are_awaited_with_seeded_randomness(
    client: httpx.AsyncClient, app: EmulatorApp, sleep: RecordingSleep
) -> None:
    """Each request sleeps latency plus a jitter drawn from the seeded source."""
    app.injector.configure(latency_ms=100, jitter_ms=20)

    for _ in range(3):
        assert (await client.get("/keys")).status_code == 200

    again = Injector(InjectionSettings(latency_ms=100, jitter_ms=20), seed=3)
    expected = [again.delay_seconds() for _ in range(3)]
    assert sleep.delays == expected
    assert all(0.1 <= delay <= 0.12 for delay in sleep.delays)


async def test_rate_limit_answers_429_420_with_retry_after(
    client: httpx.AsyncClient, app: EmulatorApp, clock: FrozenClock
) -> None:
    """Past the per-second budget the gateway answers 429 Rate Limited."""
    app.injector.configure(rate_limit=2)

    statuses = [(await client.get("/keys")).status_code for _ in range(2)]
    limited = await client.get("/keys")
    clock.advance(0.5)
    recovered = await client.get("/keys")

    assert statuses == [200, 200]
    error = assert_error(limited, 429, "420")
    assert error["message"] == "Rate Limited"
    assert limited.headers["retry-after"] == "1"
    assert recovered.status_code == 200
    assert app.counters.requests("getKeyList", "429") == 1


async def test_rate_limit_spans_all_keys(
    client: httpx.AsyncClient, app: EmulatorApp, state: KmsState
) -> None:
    """The limit counts requests to every key and operation together."""
    app.injector.configure(rate_limit=1)
    tags = state.key_tags()

    first = await client.get(f"/keys/{tags[0]}")
    second = await client.get(f"/keys/{tags[1]}/versions")

    assert first.status_code == 200
    assert_error(second, 429, "420")


async def test_only_signed_requests_for_known_operations_take_a_token(
    client: httpx.AsyncClient, unsigned: httpx.AsyncClient, app: EmulatorApp
) -> None:
    """Unsigned requests, unknown paths and admin routes leave the budget alone."""
    app.injector.configure(rate_limit=1)

    refused = [
        await unsigned.get("/kms/v1/keys"),
        await client.get("/nothing"),
        await unsigned.get("/_emulator/health"),
    ]
    first = await client.get("/keys")
    second = await client.get("/keys")

    assert [answer.status_code for answer in refused] == [401, 404, 200]
    assert first.status_code == 200
    assert_error(second, 429, "420")


def test_changing_other_settings_keeps_the_rate_limit_bucket(
    clock: FrozenClock,
) -> None:
    """A new latency or fault rate hands out no fresh burst; a new limit does."""
    injector = Injector(InjectionSettings(rate_limit=2), clock=clock)
    injector.admit()
    injector.admit()

    injector.configure(latency_ms=5, jitter_ms=1, fault_rate=0.1)
    with pytest.raises(GatewayError) as caught:
        injector.admit()
    injector.configure(rate_limit=3)
    injector.admit()

    assert (caught.value.status, caught.value.error_code) == (429, "420")
    assert "more than 2 requests per second" in caught.value.details


class YieldingLock:
    """A lock that hands the interpreter to another thread after each release.

    Whatever a method reads after releasing its lock is then read after
    another thread has had its turn, so a race there shows on every run.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()
        time.sleep(0)


def test_configure_while_requests_are_served_never_breaks_one(
    clock: FrozenClock,
) -> None:
    """Setting and lifting the limit from another thread leaves requests intact."""
    injector = Injector(InjectionSettings(rate_limit=1.0), seed=1, clock=clock)
    injector._lock = YieldingLock()  # type: ignore[assignment]
    done = threading.Event()
    refusals: list[tuple[int, str]] = []
    known_answers: list[tuple[int, str]] = []

    def serve_requests() -> None:
        while not done.is_set():
            try:
                injector.admit()
            except GatewayError as error:
                refusals.append((error.status, error.error_code))
            injector.delay_seconds()
            injector.choose_fault("enableKeyVersion", "tag", 1)

    def reconfigure() -> None:
        try:
            for turn in range(500):
                limit = None if turn % 2 else 1.0
                injector.configure(rate_limit=limit, latency_ms=turn % 3)
                if limit is not None:
                    known_answers.append(second_request_under_a_fresh_limit())
        finally:
            done.set()

    def second_request_under_a_fresh_limit() -> tuple[int, str]:
        # The clock stands still, so the fresh bucket's one token never comes
        # back: whoever took it, this thread's second request is refused.
        with contextlib.suppress(GatewayError):
            injector.admit()
        try:
            injector.admit()
        except GatewayError as error:
            return error.status, error.error_code
        return 200, "admitted"

    run_together([reconfigure] + [serve_requests] * 3)

    assert known_answers == [(429, "420")] * 250
    assert set(refusals) <= {(429, "420")}
    assert injector.settings.rate_limit is None


async def test_a_scheduled_fault_hits_exactly_the_nth_matching_call(
    client: httpx.AsyncClient, app: EmulatorApp, state: KmsState
) -> None:
    """ "Fail the 2nd enable of this target with 503" fails that call only."""
    tag, version = disabled_target(state)
    app.injector.schedule(
        Fault.ENDPOINT_ERROR,
        operation="enableKeyVersion",
        key_tag=tag,
        version=version,
        call=2,
    )
    path = f"/keys/{tag}/versions/{version}/enable"

    answers = [await client.post(path) for _ in range(3)]
    other = await client.get(f"/keys/{tag}")

    assert [a.status_code for a in answers] == [200, 503, 200]
    assert_error(answers[1], 503, "500")
    assert other.status_code == 200
    assert app.counters.enables(tag, version) == 2


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (Fault.BAD_REQUEST, 400, "100"),
        (Fault.PERMISSION_DENIED, 401, "210"),
        (Fault.FORBIDDEN, 403, "230"),
        (Fault.TOO_LARGE, 413, "430"),
        (Fault.QUOTA_EXCEEDED, 429, "400"),
        (Fault.THROTTLE_LIMITED, 429, "410"),
        (Fault.RATE_LIMITED, 429, "420"),
        (Fault.ENDPOINT_ERROR, 503, "500"),
        (Fault.ENDPOINT_TIMEOUT, 504, "510"),
        (Fault.UNEXPECTED_ERROR, 500, "900"),
    ],
)
async def test_every_gateway_error_can_be_injected(
    client: httpx.AsyncClient, app: EmulatorApp, fault: Fault, status: int, code: str
) -> None:
    """Each row of NCP's gateway error table can be produced on demand."""
    app.injector.schedule(fault)

    response = await client.get("/keys")

    assert_error(response, status, code)
    throttled = status == 429 and code != "400"
    assert ("retry-after" in response.headers) == throttled


async def test_a_fault_before_the_service_changes_nothing(
    client: httpx.AsyncClient, app: EmulatorApp, state: KmsState
) -> None:
    """An injected 504 that comes before the service leaves the version disabled."""
    tag, version = disabled_target(state)
    app.injector.schedule(Fault.ENDPOINT_TIMEOUT, key_tag=tag)

    response = await client.post(f"/keys/{tag}/versions/{version}/enable")

    assert_error(response, 504, "510")
    assert state.version_status(tag, version) == "DISABLE"


async def test_a_fault_after_apply_changes_the_state_but_fails_the_answer(
    client: httpx.AsyncClient, app: EmulatorApp, state: KmsState
) -> None:
    """With after_apply the version is enabled although the client sees a 504."""
    tag, version = disabled_target(state)
    app.injector.schedule(Fault.ENDPOINT_TIMEOUT, key_tag=tag, after_apply=True)

    response = await client.post(f"/keys/{tag}/versions/{version}/enable")
    retry = await client.post(f"/keys/{tag}/versions/{version}/enable")

    assert_error(response, 504, "510")
    assert state.version_status(tag, version) == "ENABLE"
    assert retry.status_code == 200
    assert app.counters.enables(tag, version) == 1


async def test_a_dropped_request_in_process_raises_like_a_hang_up(
    client: httpx.AsyncClient, app: EmulatorApp, state: KmsState
) -> None:
    """In process, a drop surfaces as httpx.RemoteProtocolError and is counted."""
    tag, version = disabled_target(state)
    app.injector.schedule(Fault.DROP, operation="enableKeyVersion")

    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await client.post(f"/keys/{tag}/versions/{version}/enable")

    assert isinstance(caught.value, ConnectionDropped)
    assert app.counters.requests("enableKeyVersion", "dropped") == 1
    assert state.version_status(tag, version) == "DISABLE"


async def test_malformed_and_unsuccessful_answers_can_be_injected(
    client: httpx.AsyncClient, app: EmulatorApp
) -> None:
    """On request only: a 200 that is not JSON, and a 200 whose code is not SUCCESS."""
    app.injector.schedule(Fault.MALFORMED_BODY, call=1)
    app.injector.schedule(Fault.UNSUCCESSFUL_CODE, call=2)

    malformed = await client.get("/keys")
    unsuccessful = await client.get("/keys")

    assert malformed.status_code == 200
    assert malformed.headers["content-type"] == "text/html"
    assert unsuccessful.json()["code"] == "FAIL"


@pytest.mark.parametrize("fault", [Fault.MALFORMED_BODY, Fault.UNSUCCESSFUL_CODE])
@pytest.mark.parametrize("after_apply", [False, True])
async def test_an_injected_200_that_is_no_success_is_never_counted_as_an_enable(
    client: httpx.AsyncClient,
    app: EmulatorApp,
    state: KmsState,
    fault: Fault,
    after_apply: bool,
) -> None:
    """Such answers are counted under the fault's name, not as 200 or an enable."""
    tag, version = disabled_target(state)
    app.injector.schedule(fault, key_tag=tag, after_apply=after_apply)

    response = await client.post(f"/keys/{tag}/versions/{version}/enable")

    assert response.status_code == 200
    assert app.counters.requests("enableKeyVersion", str(fault)) == 1
    assert app.counters.requests(outcome="200") == 0
    assert app.counters.enables(tag, version) == 0
    assert app.counters.snapshot()["enables"] == []
    expected = "ENABLE" if after_apply else "DISABLE"
    assert state.version_status(tag, version) == expected


async def test_random_faults_follow_the_rate_and_the_seed(
    state: KmsState, app: EmulatorApp
) -> None:
    """With fault_rate 0.5 about half the requests fail, the same ones per seed."""

    def outcomes(seed: int) -> list[str]:
        injector = Injector(
            InjectionSettings(fault_rate=0.5, fault_kinds=(Fault.ENDPOINT_ERROR,)),
            seed=seed,
        )
        return [
            str(rule.fault)
            if (rule := injector.choose_fault("getKeyList", None, None))
            else "ok"
            for _ in range(200)
        ]

    first = outcomes(5)

    assert first == outcomes(5)
    assert first != outcomes(6)
    assert 70 < first.count("endpoint_error") < 130


def test_injection_settings_refuse_nonsense() -> None:
    """Negative latency, a zero rate limit or a fault rate above 1 are refused."""
    with pytest.raises(ValueError, match="latency_ms"):
        InjectionSettings(latency_ms=-1)
    with pytest.raises(ValueError, match="rate_limit"):
        InjectionSettings(rate_limit=0)
    with pytest.raises(ValueError, match="fault_rate"):
        InjectionSettings(fault_rate=1.5)
    with pytest.raises(ValueError, match="'explode'"):
        InjectionSettings(fault_kinds=("explode",))  # type: ignore[arg-type]


def test_fault_rules_count_from_1() -> None:
    """A rule for call 0 is a mistake."""
    with pytest.raises(ValueError, match="count from 1"):
        FaultRule(Fault.DROP, call=0)


def test_nothing_injected_means_the_fast_path() -> None:
    """An injector with default settings and no rules reports itself inactive."""
    injector = Injector()
    assert not injector.active

    injector.schedule("drop")
    assert injector.active
    injector.clear_schedule()
    assert not injector.active
