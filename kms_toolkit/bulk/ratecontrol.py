"""Client-side pacing that finds the server's rate limit from its 429 answers.

The limiter spaces requests evenly at ``rate`` per second (a token bucket
with a tiny burst, written as "virtual scheduling": each permit gets the next
free slot). It adapts the rate on its own, in the manner of TCP's congestion
control:

- on a 429 for a request paced after the last decrease, the rate drops to
  ``decrease_factor`` times the rate at which the server has recently been
  *accepting* requests (or the current rate, whichever is lower), so one step
  lands just under the limit even when the run started unlimited;
- when too few requests have been accepted to measure that (a run whose very
  first answers are 429s, against a server whose bucket is empty), the rate
  at which requests were *sent* stands in for it; that is only an upper
  bound, since the server refused them, so the pace halves
  (``unmeasured_decrease_factor``) rather than dropping 10 %;
- after a decrease made on such thin evidence the rate climbs
  multiplicatively ("slow start", ``slow_start_growth`` per second), so a
  poor first guess costs seconds, not minutes; the first 429 that can be
  measured properly ends slow start;
- after a decrease made on a proper measurement the rate climbs by a fixed
  step per second, a few percent of the rate it settled on, so it probes the
  limit gently and the 429s it causes stay rare;
- a rate set by the user is a ceiling the climb never passes.

Without a user rate and before the first 429 there is no pacing at all: the
fast path costs a clock read and a counter.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Final

from kms_toolkit.errors import InvalidInputError

__all__ = ["AdaptiveRateLimiter", "check_rate_limit"]

logger = logging.getLogger(__name__)

# NOTE: aiolimiter was considered and not used. Its ``AsyncLimiter`` fixes
# the rate when it is built (the per-second rate is computed once in
# ``__init__`` and kept in a private attribute), reads the event loop's clock
# so tests cannot inject one, and has no unlimited mode; adapting it would
# mean writing its private state on every 429. The pacing here is 20 lines.

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: Rates are never measured over less than this (answers that arrive together
#: have no duration to divide by).
MIN_SPAN_SECONDS: Final = 0.05
#: Slow start stops compounding after this many seconds without a 429 (the
#: pace is then far beyond any server's limit, and a float must not overflow).
SLOW_START_HORIZON: Final = 60.0


def check_rate_limit(rate_limit: object) -> float | None:
    """``rate_limit`` as a float if it is a positive, finite number, else refused.

    None (unpaced) passes. One check for every entry point: a run, a plan,
    the limiter and the CLI's ``--rate-limit``. ``inf`` is refused rather
    than read as "unpaced", which None already says; ``True`` is not a number.

    Raises:
        InvalidInputError: (a ``ValueError``) anything else.
    """
    if rate_limit is None:
        return None
    if (
        isinstance(rate_limit, bool)
        or not isinstance(rate_limit, int | float)
        or not math.isfinite(rate_limit)
        or rate_limit <= 0
    ):
        raise InvalidInputError(
            "rate_limit must be a positive, finite number of requests per "
            f"second, not {rate_limit!r}"
        )
    return float(rate_limit)


class _RateWindow:
    """Events per second over about the last ``seconds``, and how many it rests on.

    The first window opens at the first event, not when the limiter is made:
    answers start arriving one round trip after the first request, and
    counting that wait would understate the rate. Later, the last full window
    is blended with the current partial one, so the figure moves smoothly
    instead of jumping at each window's end.
    """

    __slots__ = ("count", "previous_rate", "seconds", "start")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start: float | None = None
        self.count = 0
        self.previous_rate: float | None = None

    def add(self, now: float) -> None:
        if self.start is None:
            self.start = now
        elif now - self.start >= self.seconds:
            self.roll(now)
        self.count += 1

    def estimate(self, now: float) -> tuple[float, float, float]:
        """Events per second, the events that figure rests on, and over how long."""
        if self.start is None:
            return 0.0, 0.0, 0.0
        if now - self.start >= self.seconds:
            self.roll(now)
        elapsed = max(now - self.start, 1e-3)
        if self.previous_rate is None:
            rate = self.count / max(elapsed, MIN_SPAN_SECONDS)
            return rate, float(self.count), elapsed
        events = self.previous_rate * (self.seconds - elapsed) + self.count
        return max(0.0, events) / self.seconds, events, self.seconds

    def roll(self, now: float) -> None:
        assert self.start is not None
        self.previous_rate = self.count / (now - self.start)
        self.start, self.count = now, 0


class AdaptiveRateLimiter:
    """Paces requests at ``rate`` per second and adapts it to 429 answers.

    Args:
        rate_limit: requests per second to start from and never exceed; None
            starts unpaced and, when adaptive, lets the first 429 set the pace.
        adaptive: lower the rate on 429 and raise it while calls succeed.
        decrease_factor: the share of the accepted rate kept after a 429.
        unmeasured_decrease_factor: the share of the send rate kept after a
            429 when too few requests were accepted to measure their rate.
        increase_fraction: per second of success, the climb as a share of the
            rate settled on at the last decrease.
        slow_start_growth: per second of success in slow start, the factor
            the rate grows by.
        min_samples: accepted requests needed before their rate is trusted
            over the send rate.
        min_rate: the pace never drops below this.
        burst_seconds: how far behind schedule an idle limiter lets requests
            catch up at once.
        window_seconds: the span the accepted and sent rates are measured over.
        clock: a monotonic clock in seconds.
        sleep: an awaitable sleep in seconds.

    Example:
        >>> limiter = AdaptiveRateLimiter(rate_limit=50)
        >>> limiter.current_rate
        50.0
    """

    def __init__(
        self,
        rate_limit: float | None = None,
        *,
        adaptive: bool = True,
        decrease_factor: float = 0.9,
        unmeasured_decrease_factor: float = 0.5,
        increase_fraction: float = 0.03,
        slow_start_growth: float = 2.0,
        min_samples: int = 10,
        min_rate: float = 1.0,
        burst_seconds: float = 0.01,
        window_seconds: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.ceiling = check_rate_limit(rate_limit)
        self.adaptive = adaptive
        self.decrease_factor = decrease_factor
        self.unmeasured_decrease_factor = unmeasured_decrease_factor
        self.increase_fraction = increase_fraction
        self.slow_start_growth = slow_start_growth
        self.min_samples = min_samples
        self.min_rate = min_rate
        self.burst_seconds = burst_seconds
        self.window_seconds = window_seconds
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._base_rate = self.ceiling
        self._step = 0.0
        self._slow_start = False
        self._last_decrease = float("-inf")
        self._base_since = now
        self._next_slot = now
        self._accepted = _RateWindow(window_seconds)
        self._sent = _RateWindow(window_seconds)
        self.throttled = 0

    @property
    def current_rate(self) -> float | None:
        """The pace in requests per second now, or None when unpaced."""
        return self._rate_at(self._clock())

    @property
    def slow_start(self) -> bool:
        """Whether the pace is climbing multiplicatively after a poor estimate."""
        return self._slow_start

    async def acquire(self) -> float:
        """Wait for the next permit; return when it was asked for.

        Hand that moment to ``on_throttled`` if the request meets a 429: a
        permit asked for before the last decrease was paced by the old rate
        (even if it went out later), so its 429 says nothing new.
        """
        now = self._clock()
        self._sent.add(now)
        rate = self._rate_at(now)
        if rate is None:
            return now
        slot = max(self._next_slot, now - self.burst_seconds)
        self._next_slot = slot + 1.0 / rate
        if slot > now:
            await self._sleep(slot - now)
        return now

    def on_success(self) -> None:
        """Count an accepted request, for the accepted-rate estimate."""
        self._accepted.add(self._clock())

    def on_throttled(self, asked_at: float) -> None:
        """Lower the pace after a 429 to a request paced at the current rate.

        ``asked_at`` is what ``acquire`` returned for that request.
        """
        self.throttled += 1
        if not self.adaptive or asked_at <= self._last_decrease:
            # Paced (or sent) before the pace last dropped: nothing new.
            return
        now = self._clock()
        current = self._rate_at(now)
        accepted, samples, span = self._accepted.estimate(now)
        measured = self._measurable(samples, span)
        if measured:
            estimate, factor = accepted, self.decrease_factor
        else:
            # The server refused what was sent, so the send rate is an upper
            # bound on its limit, and perhaps a loose one.
            estimate = self._sent.estimate(now)[0]
            factor = self.unmeasured_decrease_factor
        base = estimate if current is None else min(estimate, current)
        new_rate = max(self.min_rate, base * factor)
        if self.ceiling is not None:
            new_rate = min(new_rate, self.ceiling)
        logger.debug(
            "429 received: pace %s -> %.1f/s (%s)",
            current,
            new_rate,
            "accepted rate" if measured else "send rate, slow start",
        )
        self._base_rate, self._base_since, self._last_decrease = new_rate, now, now
        self._step = max(self.min_rate, new_rate * self.increase_fraction)
        self._slow_start = not measured
        self._next_slot = max(self._next_slot, now)

    def _measurable(self, samples: float, span: float) -> bool:
        """Whether acceptances counted over ``span`` seconds give a usable rate.

        A burst of answers that all arrive together has no duration to divide
        by, whatever its size; a slow server gives few answers, so a full
        window of them is enough.
        """
        if samples <= 0 or span < MIN_SPAN_SECONDS:
            return False
        return samples >= self.min_samples or span >= self.window_seconds

    def accepted_rate(self, now: float | None = None) -> float:
        """Requests per second the server accepted over about the last window."""
        return self._accepted.estimate(self._clock() if now is None else now)[0]

    def _rate_at(self, now: float) -> float | None:
        """The base rate plus the climb since the last decrease, under the ceiling."""
        if self._base_rate is None:
            return None
        if not self.adaptive or self._step == 0.0:
            return self._base_rate
        climbing = now - self._base_since
        if self._slow_start:
            growing = min(climbing, SLOW_START_HORIZON)
            rate = self._base_rate * math.pow(self.slow_start_growth, growing)
        else:
            rate = self._base_rate + self._step * climbing
        return rate if self.ceiling is None else min(rate, self.ceiling)
