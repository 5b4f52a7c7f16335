"""Injected trouble: latency with jitter, a rate limit, random and scheduled faults.

Everything is set when the emulator starts and can be changed while it runs
(from another thread, or over the admin route). Randomness is seeded and the
clock injectable, so a test gets the same faults on every run.

Example:
    >>> injector = Injector(seed=1)
    >>> settings = injector.configure(latency_ms=20, jitter_ms=5, rate_limit=100)
    >>> rule = injector.schedule(Fault.ENDPOINT_ERROR, operation="enableKeyVersion",
    ...                          key_tag="abc", version=3, call=2)
"""

from __future__ import annotations

import dataclasses
import enum
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from kms_toolkit.emulator.errors import GatewayError, rate_limited

__all__ = [
    "GATEWAY_FAULTS",
    "Fault",
    "FaultRule",
    "InjectionSettings",
    "Injector",
    "TokenBucket",
]


class Fault(enum.StrEnum):
    """One kind of failure the emulator can answer with instead of the service."""

    BAD_REQUEST = "bad_request"
    PERMISSION_DENIED = "permission_denied"
    FORBIDDEN = "forbidden"
    TOO_LARGE = "too_large"
    QUOTA_EXCEEDED = "quota_exceeded"
    THROTTLE_LIMITED = "throttle_limited"
    RATE_LIMITED = "rate_limited"
    ENDPOINT_ERROR = "endpoint_error"
    ENDPOINT_TIMEOUT = "endpoint_timeout"
    UNEXPECTED_ERROR = "unexpected_error"
    #: Close the connection without answering.
    DROP = "drop"
    #: 200 with a body that is not JSON (outside the spec, on request only).
    MALFORMED_BODY = "malformed_body"
    #: 200 whose ``code`` is not SUCCESS (outside the spec, on request only).
    UNSUCCESSFUL_CODE = "unsuccessful_code"


#: Status, errorCode and message of each gateway fault, from NCP's table.
GATEWAY_FAULTS: Final[Mapping[Fault, tuple[int, str, str]]] = {
    Fault.BAD_REQUEST: (400, "100", "Bad Request Exception"),
    Fault.PERMISSION_DENIED: (401, "210", "Permission Denied"),
    Fault.FORBIDDEN: (403, "230", "Forbidden"),
    Fault.TOO_LARGE: (413, "430", "Request Entity Too Large"),
    Fault.QUOTA_EXCEEDED: (429, "400", "Quota Exceeded"),
    Fault.THROTTLE_LIMITED: (429, "410", "Throttle Limited"),
    Fault.RATE_LIMITED: (429, "420", "Rate Limited"),
    Fault.ENDPOINT_ERROR: (503, "500", "Endpoint Error"),
    Fault.ENDPOINT_TIMEOUT: (504, "510", "Endpoint Timeout"),
    Fault.UNEXPECTED_ERROR: (500, "900", "Unexpected Error"),
}

RANDOM_FAULTS: Final = (Fault.ENDPOINT_ERROR, Fault.ENDPOINT_TIMEOUT, Fault.DROP)


def gateway_error_for(fault: Fault, details: str) -> GatewayError:
    """The gateway error an injected ``fault`` answers with."""
    status, code, message = GATEWAY_FAULTS[fault]
    # NOTE: [injected-retry-after] NCP's Retry-After behaviour is
    # undocumented; injected throttling asks for one second.
    retry_after = 1 if status == 429 and code != "400" else None
    return GatewayError(status, code, message, details, retry_after_seconds=retry_after)


@dataclass(frozen=True, slots=True)
class InjectionSettings:
    """What the emulator injects into every KMS request.

    Args:
        latency_ms: added before the service answers.
        jitter_ms: up to this much more, drawn from the seeded random source.
        rate_limit: requests per second across all keys; None for no limit.
        fault_rate: the share of requests (0-1) answered by a random fault.
        fault_kinds: the faults ``fault_rate`` draws from, equally likely.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_limit: float | None = None
    fault_rate: float = 0.0
    fault_kinds: tuple[Fault, ...] = RANDOM_FAULTS

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be 0 or more")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError(
                f"rate_limit must be above 0 or None, not {self.rate_limit}"
            )
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be from 0 to 1, not {self.fault_rate}")
        if not self.fault_kinds:
            raise ValueError("fault_kinds must name at least one fault")
        object.__setattr__(
            self, "fault_kinds", tuple(Fault(k) for k in self.fault_kinds)
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values."""
        values = dataclasses.asdict(self)
        values["fault_kinds"] = [str(kind) for kind in self.fault_kinds]
        return values


@dataclass(frozen=True, slots=True)
class FaultRule:
    """Answer matching requests number ``call`` to ``call + times - 1`` with ``fault``.

    A request matches when it has the rule's operation, key tag and version
    (each None matches anything). With ``after_apply`` the change is made
    first and the answer fails afterwards: the case where a retry must be safe.
    """

    fault: Fault
    call: int = 1
    times: int = 1
    operation: str | None = None
    key_tag: str | None = None
    version: int | None = None
    after_apply: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "fault", Fault(self.fault))
        if self.call < 1 or self.times < 1:
            raise ValueError("call and times count from 1")

    def matches(self, operation: str, key_tag: str | None, version: int | None) -> bool:
        """Whether a request for this operation and target counts toward the rule."""
        return (
            (self.operation is None or self.operation == operation)
            and (self.key_tag is None or self.key_tag == key_tag)
            and (self.version is None or self.version == version)
        )

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON-ready values."""
        values = dataclasses.asdict(self)
        values["fault"] = str(self.fault)
        return values


class TokenBucket:
    """Admits ``rate`` requests per second on average, bursts up to ``capacity``."""

    def __init__(
        self,
        rate: float,
        *,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        # NOTE: [burst-size] NCP does not publish its burst size; one second's
        # worth it is.
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._clock = clock
        self._updated = clock()

    def take(self) -> float:
        """Take a token: 0.0 when admitted, else seconds until one is free."""
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


class Injector:
    """Decides, per request, the delay, the rate-limit verdict and any fault.

    Args:
        settings: the starting settings.
        seed: seeds jitter and random faults.
        clock: monotonic seconds, for the rate limit.
    """

    def __init__(
        self,
        settings: InjectionSettings | None = None,
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._clock = clock
        self._rules: list[list[Any]] = []
        self._bucket: TokenBucket | None = None
        self._apply(settings or InjectionSettings())

    def __repr__(self) -> str:
        return f"Injector({self._settings!r}, rules={len(self._rules)})"

    @property
    def settings(self) -> InjectionSettings:
        """The settings in force."""
        return self._settings

    @property
    def active(self) -> bool:
        """Whether anything at all is injected (the fast path skips it all)."""
        return self._active

    def configure(self, **changes: Any) -> InjectionSettings:
        """Change some settings, keep the rest; returns the settings now in force.

        The rate limit's bucket is kept unless ``rate_limit`` itself changes,
        so changing the latency does not hand out a fresh burst.
        """
        with self._lock:
            settings = dataclasses.replace(self._settings, **changes)
            self._apply(settings)
        return settings

    def _apply(self, settings: InjectionSettings) -> None:
        """Put ``settings`` in force (the caller holds the lock, or is ``__init__``)."""
        rate = settings.rate_limit
        if rate is None:
            self._bucket = None
        elif self._bucket is None or self._bucket.rate != rate:
            self._bucket = TokenBucket(rate, clock=self._clock)
        self._settings = settings
        self._refresh_active()

    def _refresh_active(self) -> None:
        settings = self._settings
        self._active = bool(
            settings.latency_ms
            or settings.jitter_ms
            or settings.rate_limit
            or settings.fault_rate
            or self._rules
        )

    def schedule(self, fault: Fault | str | FaultRule, **match: Any) -> FaultRule:
        """Add a rule: ``schedule(Fault.DROP, operation=..., key_tag=..., call=2)``."""
        rule = (
            fault if isinstance(fault, FaultRule) else FaultRule(Fault(fault), **match)
        )
        with self._lock:
            # Each rule counts its own matching requests: [rule, seen so far].
            self._rules.append([rule, 0])
            self._refresh_active()
        return rule

    def clear_schedule(self) -> None:
        """Remove every scheduled rule."""
        with self._lock:
            self._rules.clear()
            self._refresh_active()

    @property
    def rules(self) -> list[FaultRule]:
        """The scheduled rules, in the order they were added."""
        with self._lock:
            return [rule for rule, _ in self._rules]

    def admit(self) -> None:
        """Take a rate-limit token, or raise 429/420 with ``Retry-After``."""
        with self._lock:
            # The bucket and its rate are read together: another thread may
            # lift the limit the moment the lock is released.
            bucket = self._bucket
            wait = bucket.take() if bucket else 0.0
        if bucket is not None and wait > 0.0:
            # NOTE: [retry-after] Retry-After is the wait for the next token,
            # rounded up to whole seconds (at least 1); NCP does not document
            # its value.
            raise rate_limited(
                max(1, math.ceil(wait)),
                f"more than {bucket.rate:g} requests per second",
            )

    def delay_seconds(self) -> float:
        """The latency to add to this request: the base plus seeded jitter."""
        settings = self._settings
        if not settings.latency_ms and not settings.jitter_ms:
            return 0.0
        with self._lock:
            jitter = self._random.uniform(0.0, settings.jitter_ms)
        return (settings.latency_ms + jitter) / 1000

    def choose_fault(
        self, operation: str, key_tag: str | None, version: int | None
    ) -> FaultRule | None:
        """The fault this request gets: a scheduled one first, then a random one."""
        chosen: FaultRule | None = None
        with self._lock:
            # Every matching rule counts the request, even when an earlier
            # rule already claims it, so "the 2nd call" means the 2nd call.
            for entry in self._rules:
                rule: FaultRule = entry[0]
                if rule.matches(operation, key_tag, version):
                    entry[1] += 1
                    if (
                        chosen is None
                        and rule.call <= entry[1] < rule.call + rule.times
                    ):
                        chosen = rule
            if chosen is not None:
                return chosen
            settings = self._settings
            if settings.fault_rate and self._random.random() < settings.fault_rate:
                return FaultRule(self._random.choice(settings.fault_kinds))
        return None

    def describe(self) -> dict[str, Any]:
        """Settings and scheduled rules (with how many matches each has seen)."""
        with self._lock:
            rules = [rule.to_dict() | {"seen": seen} for rule, seen in self._rules]
        return {"settings": self._settings.to_dict(), "schedule": rules}
