"""Client-side pacing that finds the server's rate limit from its 429 answers.

The limiter spaces requests evenly at ``rate`` per second (a token bucket
with a tiny burst, written as "virtual scheduling": each permit gets the next
free slot). It adapts the rate on its own, AIMD-style:

- on a 429 for a request paced after the last decrease, the rate drops to
  ``decrease_factor`` times the rate at which the server has recently been
  *accepting* requests (or the current rate, whichever is lower), so one step
  lands just under the limit even when the run started unlimited;
- while calls succeed, it climbs again by a fixed step per second, a few
  percent of the rate it settled on, so it probes the limit gently and the
  429s it causes stay rare;
- a rate set by the user is a ceiling the climb never passes.

Without a user rate and before the first 429 there is no pacing at all: the
fast path costs one clock read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

__all__ = ["AdaptiveRateLimiter"]

logger = logging.getLogger(__name__)

# NOTE: aiolimiter was considered and not used. Its ``AsyncLimiter`` fixes
# the rate when it is built (the per-second rate is computed once in
# ``__init__`` and kept in a private attribute), reads the event loop's clock
# so tests cannot inject one, and has no unlimited mode; adapting it would
# mean writing its private state on every 429. The pacing here is 20 lines.

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class AdaptiveRateLimiter:
    """Paces requests at ``rate`` per second and adapts it to 429 answers.

    Args:
        rate_limit: requests per second to start from and never exceed; None
            starts unpaced and, when adaptive, lets the first 429 set the pace.
        adaptive: lower the rate on 429 and raise it while calls succeed.
        decrease_factor: the share of the accepted rate kept after a 429.
        increase_fraction: per second of success, the climb as a share of the
            rate settled on at the last decrease.
        min_rate: the pace never drops below this.
        burst_seconds: how far behind schedule an idle limiter lets requests
            catch up at once.
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
        increase_fraction: float = 0.03,
        min_rate: float = 1.0,
        burst_seconds: float = 0.01,
        window_seconds: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate_limit is not None and rate_limit <= 0:
            raise ValueError(f"rate_limit must be positive, not {rate_limit}")
        self.ceiling = float(rate_limit) if rate_limit is not None else None
        self.adaptive = adaptive
        self.decrease_factor = decrease_factor
        self.increase_fraction = increase_fraction
        self.min_rate = min_rate
        self.burst_seconds = burst_seconds
        self.window_seconds = window_seconds
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._base_rate = self.ceiling
        self._step = 0.0
        self._last_decrease = float("-inf")
        self._base_since = now
        self._next_slot = now
        self._window_start = now
        self._window_successes = 0
        self._previous_window_rate: float | None = None
        self.throttled = 0

    @property
    def current_rate(self) -> float | None:
        """The pace in requests per second now, or None when unpaced."""
        return self._rate_at(self._clock())

    async def acquire(self) -> float:
        """Wait for the next permit; return when it was asked for.

        Hand that moment to ``on_throttled`` if the request meets a 429: a
        permit asked for before the last decrease was paced by the old rate
        (even if it went out later), so its 429 says nothing new.
        """
        now = self._clock()
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
        now = self._clock()
        if now - self._window_start >= self.window_seconds:
            self._roll_window(now)
        self._window_successes += 1

    def on_throttled(self, asked_at: float) -> None:
        """Lower the pace after a 429 to a request paced at the current rate.

        ``asked_at`` is what ``acquire`` returned for that request.
        """
        self.throttled += 1
        if not self.adaptive or asked_at <= self._last_decrease:
            # Paced (or sent) before the pace last dropped: nothing new.
            return
        now = self._clock()
        accepted = self.accepted_rate(now)
        current = self._rate_at(now)
        base = accepted if current is None else min(accepted, current)
        new_rate = max(self.min_rate, base * self.decrease_factor)
        if self.ceiling is not None:
            new_rate = min(new_rate, self.ceiling)
        logger.debug("429 received: pace %s -> %.1f/s", current, new_rate)
        self._base_rate, self._base_since, self._last_decrease = new_rate, now, now
        self._step = max(self.min_rate, new_rate * self.increase_fraction)
        self._next_slot = max(self._next_slot, now)

    def accepted_rate(self, now: float | None = None) -> float:
        """Requests per second the server accepted over about the last window."""
        now = self._clock() if now is None else now
        if now - self._window_start >= self.window_seconds:
            self._roll_window(now)
        elapsed = max(now - self._window_start, 1e-3)
        if self._previous_window_rate is None:
            return self._window_successes / max(elapsed, 0.05)
        # Blend the last full window with the current partial one.
        earlier = self._previous_window_rate * (self.window_seconds - elapsed)
        return max(0.0, earlier + self._window_successes) / self.window_seconds

    def _rate_at(self, now: float) -> float | None:
        """The base rate plus the climb since the last decrease, under the ceiling."""
        if self._base_rate is None:
            return None
        if not self.adaptive or self._step == 0.0:
            return self._base_rate
        rate = self._base_rate + self._step * (now - self._base_since)
        return rate if self.ceiling is None else min(rate, self.ceiling)

    def _roll_window(self, now: float) -> None:
        elapsed = now - self._window_start
        self._previous_window_rate = self._window_successes / elapsed
        self._window_start, self._window_successes = now, 0
