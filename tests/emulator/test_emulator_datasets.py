"""The named data sets: what they hold and that they are reproducible."""

from __future__ import annotations

import pytest

from kms_toolkit.emulator import KmsState, build_state
from kms_toolkit.emulator.datasets import SYNTHETIC_EPOCH_MS
from kms_toolkit.emulator.state import DELETION_GRACE_MS
from tests.emulator.emulator_testkit import FROZEN_NOW, FrozenClock


def test_demo_has_every_interesting_situation() -> None:
    """Demo holds remediable versions, clean keys, a disabled, a revoked, a KR key."""
    state = build_state("demo", clock=FrozenClock())
    keys = [state.key_info(tag) for tag in state.key_tags()]
    statuses = {key.status for key in keys}
    remediable = state.disabled_versions(enabled_keys_only=True)

    assert statuses == {"ENABLE", "DISABLE", "REVOKE"}
    assert len({tag for tag, _ in remediable}) >= 3
    assert state.count_disabled_versions() > len(remediable)
    clean = [
        key
        for key in keys
        if key.status == "ENABLE"
        and all(v.status == "ENABLE" for v in state.key_versions(key.key_tag))
    ]
    assert clean
    assert any(key.current_version == 1 for key in keys)
    kr = [key for key in keys if key.key_tag.startswith("kr-")]
    assert len(kr) == 1
    assert len(kr[0].key_tag) == 64
    revoked = next(key for key in keys if key.status == "REVOKE")
    assert revoked.destroy_date is not None


def test_demo_tags_are_52_lowercase_alphanumerics() -> None:
    """Every non-regional demo tag has NCP's documented shape."""
    state = build_state("demo")

    for tag in state.key_tags():
        if not tag.startswith("kr-"):
            assert len(tag) == 52
            assert tag.isalnum()
            assert tag.islower() or tag.isdigit()


def test_synthetic_is_reproducible_from_its_seed() -> None:
    """The same seed gives the same keys and disabled versions; another differs."""
    clock = FrozenClock()
    first = build_state("synthetic", keys=40, versions_per_key=6, seed=11, clock=clock)
    again = build_state("synthetic", keys=40, versions_per_key=6, seed=11, clock=clock)
    other = build_state("synthetic", keys=40, versions_per_key=6, seed=12, clock=clock)

    assert first.key_tags() == again.key_tags()
    assert first.disabled_versions() == again.disabled_versions()
    assert first.key_tags() != other.key_tags()


def everything_in(state: KmsState) -> list[object]:
    """Every key record and version record of ``state``, in order."""
    return [(state.key_info(tag), state.key_versions(tag)) for tag in state.key_tags()]


def test_synthetic_data_is_the_same_on_any_clock() -> None:
    """One seed gives identical keys and versions, dates included, on any day."""
    today = build_state("synthetic", keys=30, versions_per_key=4, seed=3)
    frozen = build_state(
        "synthetic", keys=30, versions_per_key=4, seed=3, clock=FrozenClock()
    )
    later = FrozenClock(FROZEN_NOW + 400 * 86_400)
    next_year = build_state(
        "synthetic", keys=30, versions_per_key=4, seed=3, clock=later
    )

    assert everything_in(today) == everything_in(frozen) == everything_in(next_year)
    keys = [key for key, _ in everything_in(today)]
    assert all(key.register_date < SYNTHETIC_EPOCH_MS for key in keys)
    revoked = [key for key in keys if key.status == "REVOKE"]
    assert revoked
    assert {key.destroy_date for key in revoked} == {
        SYNTHETIC_EPOCH_MS + DELETION_GRACE_MS
    }


def test_synthetic_sets_of_10_keys_have_a_disabled_and_a_revoked_key() -> None:
    """From 10 keys on, every seed yields at least one DISABLE and one REVOKE key."""
    for seed in range(40):
        summary = build_state(
            "synthetic", keys=10, versions_per_key=2, seed=seed
        ).summary()

        assert summary["keys_disable"] >= 1, seed
        assert summary["keys_revoke"] >= 1, seed
        assert summary["keys_enable"] >= 1, seed


def test_synthetic_disables_about_a_third_of_old_versions() -> None:
    """About a third of non-current versions of enabled keys are disabled."""
    state = build_state("synthetic", keys=600, versions_per_key=10, seed=1)
    enabled = [t for t in state.key_tags() if state.key_info(t).status == "ENABLE"]
    disabled = state.count_disabled_versions(enabled_keys_only=True)
    share = disabled / (len(enabled) * 9)

    assert 0.28 < share < 0.39
    assert len(state) == 600
    summary = state.summary()
    assert summary["keys_disable"] > 0
    assert summary["keys_revoke"] > 0
    assert summary["keys_enable"] > 500


def test_unknown_data_set_is_refused() -> None:
    """A data set name that does not exist is a ValueError naming the choices."""
    with pytest.raises(ValueError, match="unknown data set 'prod'"):
        build_state("prod")
