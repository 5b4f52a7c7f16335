"""What can become of one target, and how a run reports its progress."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["FINISHED_OUTCOMES", "SUCCESS_OUTCOMES", "Outcome", "Progress"]


class Outcome(enum.StrEnum):
    """The end of one target in a run.

    - ``enabled``: NCP answered that the version is now ``ENABLE``.
    - ``already_enabled``: the version was found ``ENABLE`` before an enable
      was sent (by the pre-read of the key's versions), so none was sent.
    - ``failed``: a final error, or retries used up; the row says which.
    - ``rejected``: the input row was invalid and skipped; nothing was sent.
    - ``dry_run``: the request that would have been sent; nothing was sent.
    - ``not_run``: the run stopped before this target was finished.
    """

    ENABLED = "enabled"
    ALREADY_ENABLED = "already_enabled"
    FAILED = "failed"
    REJECTED = "rejected"
    DRY_RUN = "dry_run"
    NOT_RUN = "not_run"


#: Outcomes that leave the version enabled.
SUCCESS_OUTCOMES = frozenset({Outcome.ENABLED, Outcome.ALREADY_ENABLED})
#: Outcomes the ledger records; ``not_run`` is the absence of a record.
FINISHED_OUTCOMES = frozenset(Outcome) - {Outcome.NOT_RUN}


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot of a run, handed to ``on_progress`` about every 0.2 s.

    Attributes:
        total: targets in the run (rejected rows included).
        done: targets with an outcome so far, earlier sessions included.
        counts: targets per outcome so far; ``not_run`` holds the rest.
        rate_per_second: targets finished per second in this session.
        elapsed_seconds: time since this session started.
        current_rate_limit: the pace of the rate limiter, None when unpaced.
        finished: True in the last snapshot of a session.
    """

    total: int
    done: int
    counts: dict[Outcome, int] = field(default_factory=dict)
    rate_per_second: float = 0.0
    elapsed_seconds: float = 0.0
    current_rate_limit: float | None = None
    finished: bool = False
