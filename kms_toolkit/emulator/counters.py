"""Counts of what the emulator answered, for tests, benchmarks and the admin route.

Requests are counted by operation and outcome (the HTTP status as text, or
``dropped``); successful enables are also counted per target, which lets a
bulk test prove that no target was sent again once it had succeeded.

Example:
    >>> counters = Counters()
    >>> counters.record("enableKeyVersion", "200", key_tag="abc", version=2)
    >>> counters.enables("abc", 2)
    1
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

__all__ = ["ENABLE_OPERATION", "Counters"]

ENABLE_OPERATION = "enableKeyVersion"


class Counters:
    """Thread-safe request counters, read while the emulator runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str]] = Counter()
        self._enables: Counter[tuple[str, int]] = Counter()

    def __repr__(self) -> str:
        return f"Counters(requests={self.requests()})"

    def record(
        self,
        operation: str,
        outcome: str,
        *,
        key_tag: str | None = None,
        version: int | None = None,
    ) -> None:
        """Count one answered request; a 200 enable also counts for its target."""
        with self._lock:
            self._requests[operation, outcome] += 1
            if operation == ENABLE_OPERATION and outcome == "200" and key_tag:
                self._enables[key_tag, version or 0] += 1

    def requests(self, operation: str | None = None, outcome: str | None = None) -> int:
        """How many requests had this operation and outcome (None: any)."""
        with self._lock:
            return sum(
                count
                for (op, out), count in self._requests.items()
                if operation in (None, op) and outcome in (None, out)
            )

    def enables(self, key_tag: str, version: int) -> int:
        """How many times enabling this version was answered 200."""
        with self._lock:
            return self._enables[key_tag, version]

    def enabled_targets(self) -> dict[tuple[str, int], int]:
        """Every target enabled with a 200 answer, with how many times."""
        with self._lock:
            return dict(self._enables)

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._requests.clear()
            self._enables.clear()

    def snapshot(self) -> dict[str, Any]:
        """All counts as JSON-ready values (what the admin route returns)."""
        with self._lock:
            by_operation: dict[str, dict[str, int]] = {}
            for (operation, outcome), count in sorted(self._requests.items()):
                by_operation.setdefault(operation, {})[outcome] = count
            enables = [
                {"keyTag": tag, "version": version, "count": count}
                for (tag, version), count in sorted(self._enables.items())
            ]
            total = sum(self._requests.values())
        return {"total": total, "requests": by_operation, "enables": enables}
