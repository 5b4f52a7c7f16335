"""Named, reproducible data sets to seed an emulated account with.

``demo`` is a handful of keys in every state worth showing; ``synthetic`` is
as many keys and versions as a benchmark wants, the same for the same seed
(dates included: they count from a fixed epoch, not from the clock).

Example:
    >>> state = build_state("synthetic", keys=10, versions_per_key=5, seed=7)
    >>> len(state)
    10
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, Final

from kms_toolkit.emulator.state import (
    DAY_MS,
    DELETION_GRACE_MS,
    TAG_ALPHABET,
    KeyStatus,
    KmsState,
    key_tag_for,
)

__all__ = [
    "DATASETS",
    "SYNTHETIC_EPOCH_MS",
    "build_state",
    "load_demo",
    "load_synthetic",
]

KEY_TYPES: Final = ("AES256", "RSA2048", "ECDSA")
PROTECTION_TYPES: Final = ("BASIC", "COMMON_HSM")
#: 2026-01-01T00:00:00Z: synthetic keys were last rotated a month before it.
SYNTHETIC_EPOCH_MS: Final = 1_767_225_600_000
SYNTHETIC_ROTATION_MS: Final = 30 * DAY_MS
#: From this many keys on, a synthetic set has a DISABLE and a REVOKE key.
KEYS_FOR_EVERY_STATUS: Final = 10


def load_demo(state: KmsState) -> None:
    """Add the demo keys: one of each situation a remediation run meets."""
    # Enabled keys with disabled versions: what remediation is for.
    state.add_key("payments-db", versions=5, disabled_versions=[2, 3])
    state.add_key(
        "customer-pii",
        versions=4,
        disabled_versions=[1],
        key_type="RSA2048",
        protection_type="COMMON_HSM",
    )
    state.add_key("archive-encryption", versions=12, disabled_versions=[1, 4, 5, 9])
    # Nothing to do here: every version is enabled, or there is only one.
    state.add_key("audit-log-signing", versions=3, key_type="ECDSA")
    state.add_key("session-tokens", versions=1)
    # Disabled versions that cannot be enabled, because their key cannot.
    state.add_key(
        "legacy-reports", versions=3, disabled_versions=[1], status=KeyStatus.DISABLE
    )
    state.add_key(
        "retired-backups", versions=2, disabled_versions=[1], status=KeyStatus.REVOKE
    )
    # A KR-isolated key: NCP serves it from ocapi-kr, with a longer tag.
    # NOTE: [one-url-for-regions] the emulator serves every key at one URL,
    # whatever its region.
    state.add_key(
        "kr-residency-data",
        versions=3,
        disabled_versions=[1],
        key_tag=key_tag_for("kr-residency-data", prefix="kr-") + "a1b2c3d4e",
    )


def load_synthetic(
    state: KmsState, *, keys: int = 1000, versions_per_key: int = 10, seed: int = 0
) -> None:
    """Add ``keys`` keys of ``versions_per_key`` versions each, chosen by ``seed``.

    About a third of the non-current versions of enabled keys are disabled;
    about one key in twenty is disabled and one in twenty pending deletion,
    and a set of 10 keys or more has at least one of each. Keys are
    registered a second apart, ``versions_per_key`` months before
    ``SYNTHETIC_EPOCH_MS``; keys pending deletion go 72 hours after it.
    """
    if keys < 0:
        raise ValueError(f"keys must be 0 or more, not {keys}")
    rng = random.Random(seed)
    specs = [synthetic_key(rng, seed, index, versions_per_key) for index in range(keys)]
    if keys >= KEYS_FOR_EVERY_STATUS:
        for status in (KeyStatus.DISABLE, KeyStatus.REVOKE):
            ensure_status(specs, status, rng)

    first_registered = SYNTHETIC_EPOCH_MS - versions_per_key * SYNTHETIC_ROTATION_MS
    for index, spec in enumerate(specs):
        state.add_key(
            **spec,
            register_date=first_registered + index * 1000,
            destroy_date=SYNTHETIC_EPOCH_MS + DELETION_GRACE_MS,
            rotation_interval_ms=SYNTHETIC_ROTATION_MS,
        )


def synthetic_key(
    rng: random.Random, seed: int, index: int, versions: int
) -> dict[str, Any]:
    """The ``add_key`` arguments of synthetic key number ``index``, dates aside."""
    roll = rng.random()
    status = KeyStatus.ENABLE
    if roll < 0.05:
        status = KeyStatus.DISABLE
    elif roll < 0.10:
        status = KeyStatus.REVOKE
    disabled = [v for v in range(1, versions) if rng.random() < 1 / 3]
    return {
        "name": f"synthetic-{seed}-{index:06d}",
        "versions": versions,
        "disabled_versions": disabled,
        "key_tag": "".join(rng.choices(TAG_ALPHABET, k=52)),
        "key_type": rng.choice(KEY_TYPES),
        "protection_type": rng.choice(PROTECTION_TYPES),
        "status": status,
    }


def ensure_status(
    specs: list[dict[str, Any]], status: KeyStatus, rng: random.Random
) -> None:
    """Give one enabled key ``status`` when no key has it yet."""
    if any(spec["status"] is status for spec in specs):
        return
    enabled = [spec for spec in specs if spec["status"] is KeyStatus.ENABLE]
    if enabled:
        rng.choice(enabled)["status"] = status


DATASETS: Final = ("demo", "synthetic", "empty")


def build_state(
    dataset: str = "demo",
    *,
    keys: int = 1000,
    versions_per_key: int = 10,
    seed: int = 0,
    clock: Callable[[], float] = time.time,
) -> KmsState:
    """A new state seeded with the named data set (``demo``, ``synthetic``, ``empty``).

    ``keys``, ``versions_per_key`` and ``seed`` shape ``synthetic`` only.
    """
    state = KmsState(clock=clock)
    if dataset == "demo":
        load_demo(state)
    elif dataset == "synthetic":
        load_synthetic(state, keys=keys, versions_per_key=versions_per_key, seed=seed)
    elif dataset != "empty":
        raise ValueError(f"unknown data set {dataset!r}; choose one of {DATASETS}")
    return state
