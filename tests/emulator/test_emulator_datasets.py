"""The named data sets: what they hold and that they are reproducible."""

from __future__ import annotations

import pytest

from kms_toolkit.emulator import build_state
from tests.emulator.emulator_testkit import FrozenClock


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
