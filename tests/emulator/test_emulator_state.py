"""The emulated account's rules, without HTTP."""

from __future__ import annotations

import time

import pytest

from kms_toolkit.emulator import Counters, KeyStatus, KmsState
from kms_toolkit.emulator.errors import (
    CurrentVersionError,
    InvalidParameterError,
    KeyNotEnabledError,
    KeyNotFoundError,
    VersionNotFoundError,
)
from kms_toolkit.emulator.state import DELETION_GRACE_MS, key_tag_for
from tests.emulator.emulator_testkit import FROZEN_NOW, FrozenClock, run_together

NOW_MS = int(FROZEN_NOW * 1000)


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock."""
    return FrozenClock()


@pytest.fixture
def state(clock: FrozenClock) -> KmsState:
    """An empty account on the frozen clock."""
    return KmsState(clock=clock)


def test_enable_turns_a_disabled_version_on_and_dates_it(
    state: KmsState, clock: FrozenClock
) -> None:
    """Enabling a disabled version sets ENABLE and statusDate to the clock."""
    key = state.add_key("orders", versions=3, disabled_versions=[1])
    clock.advance(5)

    change = state.enable_version(key.key_tag, 1)

    assert (change.version, change.status, change.status_date) == (
        1,
        "ENABLE",
        NOW_MS + 5000,
    )
    assert state.version_status(key.key_tag, 1) == "ENABLE"


def test_enabling_an_enabled_version_keeps_its_status_date(
    state: KmsState, clock: FrozenClock
) -> None:
    """A repeated enable succeeds and leaves statusDate where it was."""
    key = state.add_key("orders", versions=3, disabled_versions=[1])
    first = state.enable_version(key.key_tag, 1)
    clock.advance(60)

    again = state.enable_version(key.key_tag, 1)

    assert again == first


def test_disable_turns_a_version_off(state: KmsState) -> None:
    """Disabling a non-current version of an enabled key sets DISABLE."""
    key = state.add_key("orders", versions=3)

    change = state.disable_version(key.key_tag, 2)

    assert change.status == "DISABLE"
    assert state.count_disabled_versions() == 1


def test_current_version_cannot_be_disabled(state: KmsState) -> None:
    """The latest version refuses to be disabled with 400 and its own code."""
    key = state.add_key("orders", versions=3)

    with pytest.raises(CurrentVersionError) as caught:
        state.disable_version(key.key_tag, 3)

    assert caught.value.status == 400
    assert caught.value.error_code == "CURRENT_VERSION_CANNOT_BE_DISABLED"
    assert state.version_status(key.key_tag, 3) == "ENABLE"


@pytest.mark.parametrize("status", [KeyStatus.DISABLE, KeyStatus.REVOKE])
def test_versions_of_a_key_that_is_not_enabled_cannot_change(
    state: KmsState, status: KeyStatus
) -> None:
    """Neither enable nor disable touches a version of a disabled or revoked key."""
    key = state.add_key("old", versions=3, disabled_versions=[1], status=status)

    with pytest.raises(KeyNotEnabledError) as enabling:
        state.enable_version(key.key_tag, 1)
    with pytest.raises(KeyNotEnabledError) as disabling:
        state.disable_version(key.key_tag, 2)

    assert enabling.value.error_code == disabling.value.error_code == "KEY_NOT_ENABLED"
    assert str(status) in enabling.value.details
    assert state.version_status(key.key_tag, 1) == "DISABLE"
    assert state.version_status(key.key_tag, 2) == "ENABLE"


def test_unknown_key_is_not_found(state: KmsState) -> None:
    """Every operation on an unknown tag raises 404 KEY_NOT_FOUND."""
    for action in (
        lambda: state.key_info("nope"),
        lambda: state.key_versions("nope"),
        lambda: state.enable_version("nope", 1),
        lambda: state.disable_version("nope", 1),
    ):
        with pytest.raises(KeyNotFoundError) as caught:
            action()
        assert (caught.value.status, caught.value.error_code) == (404, "KEY_NOT_FOUND")


def test_unknown_version_is_not_found(state: KmsState) -> None:
    """A version above the current one raises 404 KEY_VERSION_NOT_FOUND."""
    key = state.add_key("orders", versions=3)

    with pytest.raises(VersionNotFoundError) as caught:
        state.enable_version(key.key_tag, 4)

    assert caught.value.status == 404
    assert caught.value.error_code == "KEY_VERSION_NOT_FOUND"


@pytest.mark.parametrize("version", [0, 101, -1])
def test_versions_outside_1_to_100_are_invalid(state: KmsState, version: int) -> None:
    """Version numbers outside 1-100 raise 400 INVALID_PARAMETER."""
    key = state.add_key("orders", versions=3)

    with pytest.raises(InvalidParameterError) as caught:
        state.enable_version(key.key_tag, version)

    assert (caught.value.status, caught.value.error_code) == (400, "INVALID_PARAMETER")


def test_keys_hold_at_most_100_versions(state: KmsState) -> None:
    """A key can be built with 100 versions but not 101, nor rotated past 100."""
    key = state.add_key("full", versions=100)

    with pytest.raises(ValueError, match="1 to 100 versions"):
        state.add_key("too-many", versions=101)
    with pytest.raises(InvalidParameterError, match="already has 100"):
        state.rotate_key(key.key_tag)


def test_rotation_adds_a_new_current_version(state: KmsState) -> None:
    """Rotating makes a new current version, so the old one can be disabled."""
    key = state.add_key("orders", versions=2)

    state.rotate_key(key.key_tag)
    state.disable_version(key.key_tag, 2)

    assert state.key_info(key.key_tag).current_version == 3
    assert state.version_status(key.key_tag, 2) == "DISABLE"


def test_building_refuses_a_disabled_current_version(state: KmsState) -> None:
    """A key cannot be built with its current version disabled."""
    with pytest.raises(ValueError, match=r"disabled versions \[3\]"):
        state.add_key("orders", versions=3, disabled_versions=[3])


def test_building_refuses_a_duplicate_tag(state: KmsState) -> None:
    """Two keys cannot share a tag."""
    state.add_key("orders")

    with pytest.raises(ValueError, match="already exists"):
        state.add_key("orders")


def test_revoked_keys_are_destroyed_72_hours_later(state: KmsState) -> None:
    """Requesting deletion sets destroyDate to the clock plus 72 hours."""
    key = state.add_key("orders")

    revoked = state.set_key_status(key.key_tag, "REVOKE")

    assert revoked.status == "REVOKE"
    assert revoked.destroy_date == NOW_MS + DELETION_GRACE_MS
    assert state.set_key_status(key.key_tag, "ENABLE").destroy_date is None


@pytest.mark.parametrize(
    ("page_no", "page_size", "expected"),
    [
        (1, 2, ["k0", "k1"]),
        (3, 2, ["k4"]),
        (4, 2, []),
        (1, 200, ["k0", "k1", "k2", "k3", "k4"]),
    ],
)
def test_key_list_pages_in_registration_order(
    state: KmsState, page_no: int, page_size: int, expected: list[str]
) -> None:
    """Pages hold pageSize keys in order; a page past the end is empty."""
    for index in range(5):
        state.add_key(f"k{index}")

    page = state.list_keys(page_no, page_size)

    assert [key.key_name for key in page.keys] == expected
    assert (page.current_page_no, page.total_count) == (page_no, 5)
    assert page.total_page_no == -(-5 // page_size)


@pytest.mark.parametrize(("page_no", "page_size"), [(0, 10), (1, 0), (1, 201)])
def test_key_list_refuses_paging_outside_the_documented_range(
    state: KmsState, page_no: int, page_size: int
) -> None:
    """pageNo below 1 or pageSize outside 1-200 raises 400 INVALID_PARAMETER."""
    with pytest.raises(InvalidParameterError) as caught:
        state.list_keys(page_no, page_size)

    assert caught.value.error_code == "INVALID_PARAMETER"
    assert "page" in caught.value.details


def test_empty_account_has_no_pages(state: KmsState) -> None:
    """An empty account lists no keys on 0 pages."""
    page = state.list_keys()

    assert (page.keys, page.total_page_no, page.total_count) == ((), 0, 0)


def test_key_tags_look_like_ncp_tags() -> None:
    """Derived tags are 52 lowercase letters and digits, stable per name."""
    tag = key_tag_for("orders")

    assert len(tag) == 52
    assert tag.isalnum()
    assert tag == tag.lower()
    assert tag == key_tag_for("orders") != key_tag_for("orders2")


@pytest.mark.parametrize(
    ("status", "version", "refusal"),
    [
        (KeyStatus.DISABLE, 0, InvalidParameterError),
        (KeyStatus.DISABLE, 101, InvalidParameterError),
        (KeyStatus.REVOKE, 101, InvalidParameterError),
        (KeyStatus.DISABLE, 50, VersionNotFoundError),
        (KeyStatus.REVOKE, 4, VersionNotFoundError),
        (KeyStatus.DISABLE, 3, KeyNotEnabledError),
        (KeyStatus.REVOKE, 3, KeyNotEnabledError),
    ],
)
def test_refusals_come_in_range_key_version_status_order(
    state: KmsState, status: KeyStatus, version: int, refusal: type[Exception]
) -> None:
    """A bad range beats a bad key status, and so does an unknown version."""
    key = state.add_key("old", versions=3, disabled_versions=[1], status=status)

    for change in (state.enable_version, state.disable_version):
        with pytest.raises(refusal):
            change(key.key_tag, version)


def test_a_bad_range_is_refused_before_the_key_is_looked_up(state: KmsState) -> None:
    """Version 0 of an unknown key is 400 INVALID_PARAMETER, not 404."""
    with pytest.raises(InvalidParameterError):
        state.enable_version("nope", 0)


def yielding_clock() -> float:
    """The frozen instant, handing the interpreter to another thread first.

    The state reads its clock in the middle of a change, so a lock that does
    not cover the whole change lets another thread in right there.
    """
    time.sleep(0)
    return FROZEN_NOW


@pytest.mark.usefixtures("busy_threads")
def test_concurrent_enables_and_disables_answer_and_count_exactly() -> None:
    """Threads flipping the same versions get the status they asked for, every time."""
    state = KmsState(clock=yielding_clock)
    counters = Counters()
    key = state.add_key("orders", versions=100)
    threads, rounds = 8, 2
    wrong: list[tuple[str, int, str]] = []

    def flip_every_version() -> None:
        for _ in range(rounds):
            for version in range(1, 100):
                for change, operation, wanted in (
                    (state.disable_version, "disableKeyVersion", "DISABLE"),
                    (state.enable_version, "enableKeyVersion", "ENABLE"),
                ):
                    answer = change(key.key_tag, version)
                    if answer.status != wanted:
                        wrong.append((operation, version, answer.status))
                    counters.record(
                        operation, "200", key_tag=key.key_tag, version=version
                    )

    run_together([flip_every_version] * threads)

    assert wrong == []
    # Each thread enables a version right after disabling it, so the last
    # change to every version is an enable.
    assert state.count_disabled_versions() == 0
    calls = threads * rounds
    assert counters.requests("disableKeyVersion", "200") == calls * 99
    assert counters.requests("enableKeyVersion", "200") == calls * 99
    assert counters.enabled_targets() == {
        (key.key_tag, version): calls for version in range(1, 100)
    }


@pytest.mark.usefixtures("busy_threads")
def test_concurrent_rotations_stop_at_exactly_100_versions() -> None:
    """Threads rotating the same keys together get exactly the rotations left."""
    state = KmsState(clock=yielding_clock)
    tags = [state.add_key(f"k{index}", versions=95).key_tag for index in range(20)]
    rotations = Counters()
    threads, attempts = 8, 2

    def rotate_every_key() -> None:
        for tag in tags:
            for _ in range(attempts):
                try:
                    state.rotate_key(tag)
                except InvalidParameterError:
                    rotations.record("rotateKey", "400", key_tag=tag)
                else:
                    rotations.record("rotateKey", "200", key_tag=tag)

    run_together([rotate_every_key] * threads)

    assert rotations.requests("rotateKey", "200") == 5 * len(tags)
    assert rotations.requests() == threads * attempts * len(tags)
    assert {state.key_info(tag).current_version for tag in tags} == {100}
    assert {len(state.key_versions(tag)) for tag in tags} == {100}
