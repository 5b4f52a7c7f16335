"""The adaptive rate limiter, on a simulated clock: no real waiting."""

from __future__ import annotations

import asyncio
import itertools
import math

import pytest

from kms_toolkit.bulk import AdaptiveRateLimiter
from kms_toolkit.bulk.ratecontrol import check_rate_limit
from kms_toolkit.errors import InvalidInputError


class SimulatedTime:
    """A clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class ServerBucket:
    """The server side: a token bucket admitting ``rate``/s, bursting one second."""

    def __init__(
        self, time: SimulatedTime, rate: float, *, empty: bool = False
    ) -> None:
        self.time, self.rate = time, rate
        self.tokens, self.updated = 0.0 if empty else rate, time.now

    def admit(self) -> bool:
        elapsed = self.time.now - self.updated
        self.tokens = min(self.rate, self.tokens + elapsed * self.rate)
        self.updated = self.time.now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def limiter_on(time: SimulatedTime, rate: float | None = None) -> AdaptiveRateLimiter:
    return AdaptiveRateLimiter(rate, clock=time.clock, sleep=time.sleep)


def test_unpaced_limiter_never_sleeps() -> None:
    """Without a rate and without 429s, permits are immediate."""
    time = SimulatedTime()
    limiter = limiter_on(time)

    async def take_many() -> None:
        for _ in range(1000):
            await limiter.acquire()

    asyncio.run(take_many())

    assert time.slept == []
    assert limiter.current_rate is None


def test_paced_limiter_spaces_requests_evenly() -> None:
    """At 10/s, ten permits take about a second of simulated time."""
    time = SimulatedTime()
    limiter = limiter_on(time, rate=10)

    async def take(count: int) -> list[float]:
        stamps = []
        for _ in range(count):
            await limiter.acquire()
            stamps.append(time.now)
        return stamps

    stamps = asyncio.run(take(11))

    gaps = [round(b - a, 6) for a, b in itertools.pairwise(stamps)]
    assert gaps == [0.1] * 10
    assert stamps[-1] - stamps[0] == pytest.approx(1.0, abs=0.02)


def test_first_429_sets_the_pace_from_the_accepted_rate() -> None:
    """An unpaced run that meets a 429 drops to 0.9 x what the server accepted."""
    time = SimulatedTime()
    limiter = limiter_on(time)
    for _ in range(200):
        time.now += 0.005  # 200 accepted over one second
        limiter.on_success()

    limiter.on_throttled(time.now)

    assert limiter.current_rate == pytest.approx(0.9 * 200, rel=0.02)


def send_unanswered(
    time: SimulatedTime, limiter: AdaptiveRateLimiter, count: int
) -> float:
    """Take ``count`` permits 1 ms apart (1,000/s); return the last one."""

    async def send() -> float:
        ticket = time.now
        for _ in range(count):
            ticket = await limiter.acquire()
            time.now += 0.001
        return ticket

    return asyncio.run(send())


def test_a_first_429_without_accepted_requests_halves_the_send_rate() -> None:
    """With nothing accepted yet, the send rate stands in for the accepted rate:
    the pace halves it and climbs by slow start, instead of dropping to the
    minimum."""
    time = SimulatedTime()
    limiter = limiter_on(time)

    limiter.on_throttled(send_unanswered(time, limiter, 100))

    assert limiter.current_rate == pytest.approx(0.5 * 1000, rel=0.02)
    assert limiter.slow_start
    time.now += 2
    assert limiter.current_rate == pytest.approx(4 * 0.5 * 1000, rel=0.02)


def test_a_measured_429_ends_slow_start() -> None:
    """Once enough requests were accepted to measure their rate, the next 429
    sets the pace from it and the climb becomes additive."""
    time = SimulatedTime()
    limiter = limiter_on(time)
    limiter.on_throttled(send_unanswered(time, limiter, 100))
    assert limiter.slow_start
    for _ in range(100):
        time.now += 0.01  # 100 accepted over one second
        limiter.on_success()

    limiter.on_throttled(asyncio.run(limiter.acquire()))

    assert not limiter.slow_start
    lowered = limiter.current_rate
    assert lowered == pytest.approx(0.9 * 100, rel=0.03)
    time.now += 10
    assert limiter.current_rate == pytest.approx(lowered + 10 * 0.03 * lowered)


def test_429s_paced_before_a_decrease_are_ignored() -> None:
    """Permits asked for before the pace dropped do not lower it again, even
    when they went out after the drop: no cascade from one burst of 429s."""
    time = SimulatedTime()
    limiter = limiter_on(time, rate=100)

    async def queue_permits() -> list[float]:
        return [await limiter.acquire() for _ in range(20)]

    tickets = asyncio.run(queue_permits())
    limiter.on_throttled(tickets[0])
    lowered = limiter.current_rate
    for ticket in tickets[1:]:
        limiter.on_throttled(ticket)

    assert limiter.current_rate == lowered
    assert limiter.throttled == 20


def test_pace_climbs_after_a_decrease_but_not_past_the_ceiling() -> None:
    """While calls succeed the pace rises again, up to the user's rate."""
    time = SimulatedTime()
    limiter = limiter_on(time, rate=50)
    for _ in range(50):
        time.now += 0.02
        limiter.on_success()
    limiter.on_throttled(time.now)
    lowered = limiter.current_rate
    assert lowered is not None
    assert lowered < 50

    time.now += 2
    assert lowered < (limiter.current_rate or 0) < 50
    time.now += 500
    assert limiter.current_rate == 50


def test_non_adaptive_limiter_keeps_its_rate() -> None:
    """adaptive=False paces at the given rate whatever the server says."""
    time = SimulatedTime()
    limiter = AdaptiveRateLimiter(
        20, adaptive=False, clock=time.clock, sleep=time.sleep
    )

    limiter.on_throttled(time.now)

    assert limiter.current_rate == 20


BAD_RATES = [math.inf, math.nan, 0, -1, True]


@pytest.mark.parametrize("rate_limit", BAD_RATES)
def test_a_rate_that_is_not_positive_and_finite_is_refused(rate_limit: object) -> None:
    """The limiter and the shared check refuse inf, nan, 0, -1 and True with
    InvalidInputError, which callers may catch as ValueError."""
    for check in (AdaptiveRateLimiter, check_rate_limit):
        with pytest.raises(InvalidInputError, match="rate_limit must be a positive"):
            check(rate_limit)  # type: ignore[operator]
    assert issubclass(InvalidInputError, ValueError)


def test_the_rate_check_passes_none_and_numbers_as_floats() -> None:
    """None means unpaced; an int rate becomes a float ceiling."""
    assert check_rate_limit(None) is None
    assert check_rate_limit(5) == 5.0
    assert AdaptiveRateLimiter(5).ceiling == 5.0


def run_against(server: ServerBucket, seconds: float) -> tuple[list[int], int, int]:
    """Send back to back for ``seconds`` of simulated time through a fresh
    limiter; return the requests accepted in each second, all 429s, all sent."""
    time = server.time
    limiter = limiter_on(time)
    accepted = [0] * int(seconds)
    throttled = sent = 0

    async def run() -> None:
        nonlocal throttled, sent
        start = time.now
        while time.now - start < seconds:
            ticket = await limiter.acquire()
            time.now += 0.0005  # each request costs a little time even unpaced
            sent += 1
            if server.admit():
                limiter.on_success()
                accepted[min(int(time.now - start), len(accepted) - 1)] += 1
            else:
                throttled += 1
                limiter.on_throttled(ticket)

    asyncio.run(run())
    return accepted, throttled, sent


def test_converges_on_an_unknown_server_limit() -> None:
    """Against a 200/s server limit it is not told, it settles at >= 90% of it
    with <= 5% of requests answered 429 (one minute, simulated)."""
    accepted, throttled, sent = run_against(ServerBucket(SimulatedTime(), 200), 60)

    assert sum(accepted[30:]) / 30 >= 0.9 * 200
    assert throttled / sent <= 0.05


def test_finds_the_limit_fast_when_the_first_answer_is_a_429() -> None:
    """Against a 200/s limit whose bucket is empty at the start (the very first
    request is refused), the accepted rate reaches >= 80% of the limit within
    10 s and stays there."""
    server = ServerBucket(SimulatedTime(), 200, empty=True)

    accepted, throttled, sent = run_against(server, 30)

    assert max(accepted[:10]) >= 0.8 * 200
    assert min(accepted[10:]) >= 0.8 * 200
    assert throttled / sent <= 0.05
