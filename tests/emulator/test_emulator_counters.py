"""Request counters by operation, outcome and enabled target."""

from __future__ import annotations

from kms_toolkit.emulator import Counters


def test_counts_by_operation_and_outcome() -> None:
    """Requests are summed by any combination of operation and outcome."""
    counters = Counters()
    counters.record("getKeyList", "200")
    counters.record("getKeyList", "429")
    counters.record("enableKeyVersion", "200", key_tag="t", version=1)

    assert counters.requests() == 3
    assert counters.requests("getKeyList") == 2
    assert counters.requests(outcome="200") == 2
    assert counters.requests("enableKeyVersion", "429") == 0


def test_only_successful_enables_count_per_target() -> None:
    """A 200 enable counts for its target; failures and disables do not."""
    counters = Counters()
    counters.record("enableKeyVersion", "200", key_tag="t", version=2)
    counters.record("enableKeyVersion", "503", key_tag="t", version=2)
    counters.record("disableKeyVersion", "200", key_tag="t", version=2)

    assert counters.enables("t", 2) == 1
    assert counters.enabled_targets() == {("t", 2): 1}


def test_snapshot_is_json_ready_and_reset_clears_it() -> None:
    """The snapshot nests outcomes under operations; reset zeroes everything."""
    counters = Counters()
    counters.record("enableKeyVersion", "200", key_tag="t", version=2)

    snapshot = counters.snapshot()
    counters.reset()

    assert snapshot == {
        "total": 1,
        "requests": {"enableKeyVersion": {"200": 1}},
        "enables": [{"keyTag": "t", "version": 2, "count": 1}],
    }
    assert counters.snapshot() == {"total": 0, "requests": {}, "enables": []}
