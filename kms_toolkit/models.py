"""Typed results of the KMS operations, independent of the generated client.

Dates arrive from NCP as milliseconds since the epoch; here they are
timezone-aware UTC datetimes. Statuses are enums whose values are NCP's words.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "KeyInfo",
    "KeyPage",
    "KeyStatus",
    "KeySummary",
    "KeyVersion",
    "KeyVersionChange",
    "KeyVersionList",
    "KeyVersionStatus",
    "datetime_from_epoch_ms",
]


class KeyStatus(enum.StrEnum):
    """A key's status; ``REVOKE`` means deletion was requested (72 h grace)."""

    ENABLE = "ENABLE"
    DISABLE = "DISABLE"
    REVOKE = "REVOKE"


class KeyVersionStatus(enum.StrEnum):
    """A key version's status; a disabled version cannot decrypt."""

    ENABLE = "ENABLE"
    DISABLE = "DISABLE"


def datetime_from_epoch_ms(value: int | None) -> datetime | None:
    """A UTC datetime from NCP's milliseconds since the epoch (None stays None)."""
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class KeyVersionChange:
    """The answer to enabling or disabling one key version."""

    key_tag: str
    version: int
    status: KeyVersionStatus
    status_date: datetime

    def _repr_html_(self) -> str:
        from kms_toolkit.notebook.display import key_version_change_html

        return key_version_change_html(self)


@dataclass(frozen=True, slots=True)
class KeyVersion:
    """One version of a key as the version list shows it."""

    version: int
    status: KeyVersionStatus
    status_date: datetime | None = None
    rotated_date: datetime | None = None

    def _repr_html_(self) -> str:
        from kms_toolkit.notebook.display import key_version_html

        return key_version_html(self)


@dataclass(frozen=True, slots=True)
class KeyVersionList:
    """All versions of one key."""

    key_tag: str
    current_version: int | None
    versions: tuple[KeyVersion, ...]

    def _repr_html_(self) -> str:
        from kms_toolkit.notebook.display import key_version_list_html

        return key_version_list_html(self)


@dataclass(frozen=True, slots=True)
class KeySummary:
    """One key as the key list shows it."""

    key_tag: str
    status: KeyStatus
    key_id: int | None = None
    key_name: str | None = None
    key_type: str | None = None
    protection_type: str | None = None
    is_convergent: bool | None = None
    register_date: datetime | None = None
    destroy_date: datetime | None = None

    def _repr_html_(self) -> str:
        from kms_toolkit.notebook.display import key_summary_html

        return key_summary_html(self)


@dataclass(frozen=True, slots=True)
class KeyPage:
    """One page of the key list, with NCP's paging counters."""

    keys: tuple[KeySummary, ...]
    page_no: int
    total_pages: int
    total_count: int

    def _repr_html_(self) -> str:
        from kms_toolkit.notebook.display import key_page_html

        return key_page_html(self)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """One key in full."""

    key_tag: str
    status: KeyStatus
    key_id: int | None = None
    key_name: str | None = None
    key_type: str | None = None
    protection_type: str | None = None
    current_version: int | None = None
    keystore_id: str | None = None
    nrn: str | None = None
    register_date: datetime | None = None

    def _repr_html_(self) -> str:
        from kms_toolkit.notebook.display import key_info_html

        return key_info_html(self)
