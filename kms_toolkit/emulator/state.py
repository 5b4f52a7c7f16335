"""The emulated KMS account: keys, their versions, and the rules that guard them.

Plain Python with no HTTP in sight, so tests, notebooks and benchmarks can
build a state, act on it and read it back directly. One lock makes every
operation atomic; the clock is injectable so dates are exact in tests.

Example:
    >>> state = KmsState(clock=lambda: 1_700_000_000.0)
    >>> key = state.add_key("orders", versions=3, disabled_versions=[1])
    >>> state.version_status(key.key_tag, 1)
    'DISABLE'
    >>> state.enable_version(key.key_tag, 1).status
    'ENABLE'
"""

from __future__ import annotations

import enum
import hashlib
import itertools
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from kms_toolkit.emulator.errors import (
    CurrentVersionError,
    InvalidParameterError,
    KeyNotEnabledError,
    KeyNotFoundError,
    VersionNotFoundError,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DELETION_GRACE_MS",
    "MAX_PAGE_SIZE",
    "MAX_VERSION",
    "KeyPage",
    "KeyRecord",
    "KeyStatus",
    "KmsState",
    "VersionRecord",
    "VersionStatus",
    "key_tag_for",
]

MAX_VERSION: Final = 100
DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 200
#: NCP deletes a key 72 hours after deletion is requested.
DELETION_GRACE_MS: Final = 72 * 3600 * 1000
DAY_MS: Final = 24 * 3600 * 1000
KEY_TAG_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")
TAG_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz0123456789"


class KeyStatus(enum.StrEnum):
    """A key's status; ``REVOKE`` means deletion is pending."""

    ENABLE = "ENABLE"
    DISABLE = "DISABLE"
    REVOKE = "REVOKE"


class VersionStatus(enum.StrEnum):
    """A key version's status."""

    ENABLE = "ENABLE"
    DISABLE = "DISABLE"


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One key version as the emulator last stored it (dates in epoch ms)."""

    version: int
    status: VersionStatus
    status_date: int
    rotated_date: int


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One key as the emulator last stored it (dates in epoch ms)."""

    key_id: int
    key_tag: str
    key_name: str
    key_type: str
    protection_type: str
    status: KeyStatus
    is_convergent: bool
    keystore_id: str
    register_date: int
    destroy_date: int | None
    current_version: int


@dataclass(frozen=True, slots=True)
class KeyPage:
    """One page of the key list with NCP's paging fields."""

    keys: tuple[KeyRecord, ...]
    current_page_no: int
    total_page_no: int
    total_count: int


@dataclass(slots=True)
class _StoredVersion:
    status: VersionStatus
    status_date: int
    rotated_date: int


@dataclass(slots=True)
class _StoredKey:
    key_id: int
    key_tag: str
    key_name: str
    key_type: str
    protection_type: str
    status: KeyStatus
    is_convergent: bool
    register_date: int
    destroy_date: int | None = None
    versions: list[_StoredVersion] = field(default_factory=list)

    def record(self) -> KeyRecord:
        # NOTE: [keystore-id] NCP does not document the keystoreId format; the
        # emulator makes ``ks-`` plus the key id in 8 digits.
        return KeyRecord(
            key_id=self.key_id,
            key_tag=self.key_tag,
            key_name=self.key_name,
            key_type=self.key_type,
            protection_type=self.protection_type,
            status=self.status,
            is_convergent=self.is_convergent,
            keystore_id=f"ks-{self.key_id:08d}",
            register_date=self.register_date,
            destroy_date=self.destroy_date,
            current_version=len(self.versions),
        )


def key_tag_for(name: str, prefix: str = "") -> str:
    """A 52-character lowercase alphanumeric tag derived from ``name``, like NCP's.

    NCP derives tags from key names by a method it does not publish; a hash
    gives the same shape and keeps data sets reproducible.
    """
    digest = int.from_bytes(hashlib.sha256(name.encode()).digest() * 2, "big")
    characters = []
    for _ in range(52):
        digest, index = divmod(digest, len(TAG_ALPHABET))
        characters.append(TAG_ALPHABET[index])
    return prefix + "".join(characters)


def stored_versions(
    registered: int, count: int, disabled: set[int], interval_ms: int
) -> list[_StoredVersion]:
    """Versions 1 to ``count``, rotated ``interval_ms`` apart from ``registered``."""
    versions = []
    for number in range(1, count + 1):
        rotated = registered + (number - 1) * interval_ms
        if number in disabled:
            # Disabled a day after its successor arrived, say.
            changed = rotated + interval_ms + DAY_MS
            versions.append(_StoredVersion(VersionStatus.DISABLE, changed, rotated))
        else:
            versions.append(_StoredVersion(VersionStatus.ENABLE, rotated, rotated))
    return versions


class KmsState:
    """Keys and versions of one emulated account, guarded by KMS's rules.

    Args:
        clock: seconds since the epoch; ``statusDate`` and dates of new keys
            come from it.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, _StoredKey] = {}
        self._next_key_id = itertools.count(1)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KmsState(keys={len(self._keys)})"

    def now_ms(self) -> int:
        """The state's clock in epoch milliseconds."""
        return int(self._clock() * 1000)

    # -- building -----------------------------------------------------------

    def add_key(
        self,
        name: str,
        *,
        versions: int = 1,
        disabled_versions: Iterable[int] = (),
        key_tag: str | None = None,
        key_type: str = "AES256",
        protection_type: str = "BASIC",
        status: KeyStatus | str = KeyStatus.ENABLE,
        is_convergent: bool = False,
        register_date: int | None = None,
        destroy_date: int | None = None,
        rotation_interval_ms: int = 30 * DAY_MS,
    ) -> KeyRecord:
        """Add a key with ``versions`` versions, rotated ``rotation_interval_ms`` apart.

        Dates default to the state's clock: registered ``versions`` rotation
        intervals ago and, for ``REVOKE``, destroyed 72 hours from now.

        Raises:
            ValueError: the tag is taken or malformed, or the versions break a rule.
        """
        tag = key_tag if key_tag is not None else key_tag_for(name)
        disabled = set(disabled_versions)
        self._check_new_key(tag, versions, disabled)
        registered = self.now_ms() - versions * rotation_interval_ms
        if register_date is not None:
            registered = register_date
        key = _StoredKey(
            key_id=next(self._next_key_id),
            key_tag=tag,
            key_name=name,
            key_type=key_type,
            protection_type=protection_type,
            status=KeyStatus(status),
            is_convergent=is_convergent,
            register_date=registered,
            versions=stored_versions(
                registered, versions, disabled, rotation_interval_ms
            ),
        )
        if key.status is KeyStatus.REVOKE:
            key.destroy_date = (
                destroy_date
                if destroy_date is not None
                else self.now_ms() + DELETION_GRACE_MS
            )
        with self._lock:
            if tag in self._keys:
                raise ValueError(f"key tag {tag!r} already exists")
            self._keys[tag] = key
        return key.record()

    def _check_new_key(self, tag: str, versions: int, disabled: set[int]) -> None:
        if not KEY_TAG_PATTERN.fullmatch(tag):
            raise ValueError(f"key tag {tag!r} is not 1-128 letters, digits, - or _")
        if not 1 <= versions <= MAX_VERSION:
            raise ValueError(f"a key has 1 to {MAX_VERSION} versions, not {versions}")
        outside = sorted(v for v in disabled if not 1 <= v < versions)
        if outside:
            raise ValueError(
                f"disabled versions {outside} are not non-current versions "
                f"1-{versions - 1} of key {tag!r}"
            )

    def rotate_key(self, key_tag: str) -> VersionRecord:
        """Add a new current version to an enabled key, as NCP's rotation does."""
        with self._lock:
            key = self._enabled_key(key_tag)
            if len(key.versions) >= MAX_VERSION:
                raise InvalidParameterError(
                    f"key {key_tag} already has {MAX_VERSION} versions"
                )
            now = self.now_ms()
            key.versions.append(_StoredVersion(VersionStatus.ENABLE, now, now))
            return self._version_record(key, len(key.versions))

    def set_key_status(self, key_tag: str, status: KeyStatus | str) -> KeyRecord:
        """Enable or disable a key, or request its deletion (``REVOKE``, 72 h)."""
        with self._lock:
            key = self._key(key_tag)
            key.status = KeyStatus(status)
            revoked = key.status is KeyStatus.REVOKE
            key.destroy_date = self.now_ms() + DELETION_GRACE_MS if revoked else None
            return key.record()

    # -- the five operations --------------------------------------------------

    def list_keys(
        self, page_no: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> KeyPage:
        """One page of keys in registration order; a page past the last is empty."""
        if page_no < 1:
            raise InvalidParameterError(f"pageNo must be 1 or more, not {page_no}")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidParameterError(
                f"pageSize must be from 1 to {MAX_PAGE_SIZE}, not {page_size}"
            )
        with self._lock:
            total = len(self._keys)
            # NOTE: [page-past-end] a page past the last one is empty rather
            # than an error; NCP does not say which it answers.
            start = (page_no - 1) * page_size
            chosen = itertools.islice(self._keys.values(), start, start + page_size)
            keys = tuple(key.record() for key in chosen)
        # NOTE: [empty-account-pages] an empty account has 0 pages; NCP does not
        # say whether it answers 0 or 1 here.
        return KeyPage(keys, page_no, math.ceil(total / page_size), total)

    def key_info(self, key_tag: str) -> KeyRecord:
        """The key with this tag."""
        with self._lock:
            return self._key(key_tag).record()

    def key_versions(self, key_tag: str) -> tuple[VersionRecord, ...]:
        """Every version of the key, oldest first."""
        with self._lock:
            key = self._key(key_tag)
            return tuple(
                self._version_record(key, number)
                for number in range(1, len(key.versions) + 1)
            )

    def enable_version(self, key_tag: str, version: int) -> VersionRecord:
        """Enable one version of an enabled key."""
        with self._lock:
            _, stored = self._changeable_version(key_tag, version)
            # NOTE: [enable-enabled] enabling an enabled version succeeds and
            # leaves its statusDate alone, so the answer still says when it
            # was really enabled. NCP documents neither; retries stay
            # idempotent.
            if stored.status is not VersionStatus.ENABLE:
                stored.status = VersionStatus.ENABLE
                stored.status_date = self.now_ms()
            return VersionRecord(
                version, stored.status, stored.status_date, stored.rotated_date
            )

    def disable_version(self, key_tag: str, version: int) -> VersionRecord:
        """Disable one non-current version of an enabled key."""
        with self._lock:
            key, stored = self._changeable_version(key_tag, version)
            if version == len(key.versions):
                raise CurrentVersionError(
                    f"version {version} is the current version of key {key_tag}"
                )
            # NOTE: [disable-disabled] disabling a disabled version succeeds
            # without changing its statusDate, mirroring enable_version.
            if stored.status is not VersionStatus.DISABLE:
                stored.status = VersionStatus.DISABLE
                stored.status_date = self.now_ms()
            return VersionRecord(
                version, stored.status, stored.status_date, stored.rotated_date
            )

    # -- reading back for tests and benchmarks ------------------------------

    def version_status(self, key_tag: str, version: int) -> str:
        """``ENABLE`` or ``DISABLE`` for one version."""
        with self._lock:
            return str(self._version(self._key(key_tag), version).status)

    def key_tags(self) -> list[str]:
        """Every key tag, in registration order."""
        with self._lock:
            return list(self._keys)

    def disabled_versions(
        self, *, enabled_keys_only: bool = False
    ) -> list[tuple[str, int]]:
        """``(key_tag, version)`` of every disabled version.

        With ``enabled_keys_only``, only those that can be enabled right now.
        """
        with self._lock:
            return [
                (key.key_tag, number)
                for key in self._keys.values()
                if not enabled_keys_only or key.status is KeyStatus.ENABLE
                for number, stored in enumerate(key.versions, start=1)
                if stored.status is VersionStatus.DISABLE
            ]

    def count_disabled_versions(self, *, enabled_keys_only: bool = False) -> int:
        """How many versions are disabled (optionally only in enabled keys)."""
        return len(self.disabled_versions(enabled_keys_only=enabled_keys_only))

    def summary(self) -> dict[str, int]:
        """Counts of keys by status and versions by status, for a quick look."""
        with self._lock:
            keys = list(self._keys.values())
            counts = {f"keys_{status.lower()}": 0 for status in KeyStatus}
            counts |= {f"versions_{status.lower()}": 0 for status in VersionStatus}
            for key in keys:
                counts[f"keys_{key.status.lower()}"] += 1
                for stored in key.versions:
                    counts[f"versions_{stored.status.lower()}"] += 1
        return counts

    # -- lookups (the caller holds the lock) ----------------------------------

    def _key(self, key_tag: str) -> _StoredKey:
        key = self._keys.get(key_tag)
        if key is None:
            raise KeyNotFoundError(f"no key has tag {key_tag}")
        return key

    def _enabled_key(self, key_tag: str) -> _StoredKey:
        key = self._key(key_tag)
        check_enabled(key)
        return key

    def _changeable_version(
        self, key_tag: str, version: int
    ) -> tuple[_StoredKey, _StoredVersion]:
        """The key and version an enable or disable may change, or the refusal."""
        # NOTE: [rule-order] NCP does not say which refusal wins when several
        # apply. The emulator checks the version's range (400), then that the
        # key exists (404), then the version (404), then the key's status
        # (400); disabling checks the current version last.
        check_version_range(version)
        key = self._key(key_tag)
        stored = self._version(key, version)
        check_enabled(key)
        return key, stored

    def _version(self, key: _StoredKey, version: int) -> _StoredVersion:
        check_version_range(version)
        if version > len(key.versions):
            raise VersionNotFoundError(
                f"key {key.key_tag} has versions 1-{len(key.versions)}, not {version}"
            )
        return key.versions[version - 1]

    def _version_record(self, key: _StoredKey, version: int) -> VersionRecord:
        stored = key.versions[version - 1]
        return VersionRecord(
            version, stored.status, stored.status_date, stored.rotated_date
        )


def check_version_range(version: int) -> None:
    """Refuse a version number outside 1-100 with 400 INVALID_PARAMETER."""
    if not 1 <= version <= MAX_VERSION:
        raise InvalidParameterError(
            f"version must be from 1 to {MAX_VERSION}, not {version}"
        )


def check_enabled(key: _StoredKey) -> None:
    """Refuse to change a version of a key that is not enabled (400)."""
    # NOTE: [revoke-like-disable] NCP documents this rule for DISABLE; a key
    # pending deletion (REVOKE) is treated the same, since it cannot be used
    # either.
    if key.status is not KeyStatus.ENABLE:
        raise KeyNotEnabledError(f"key {key.key_tag} is {key.status}")
