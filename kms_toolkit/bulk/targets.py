"""Key versions to enable, read from a DataFrame, a CSV file or any pairs.

Every target is checked with the same rules as the client facade before
anything is sent. Bad rows are collected, each with its row number and the
reason, so a person can fix them all at once.

Row numbers: for a CSV file, the line number in the file (the header is
line 1, so the first data row is usually line 2); for a DataFrame or an
iterable, the 1-based position of the item.

Versions given as text (every CSV cell, or a string in a DataFrame or a
pair) are accepted when they are a plain decimal integer, surrounding spaces
allowed (``"3"``, ``" 3 "``); ``"3.5"``, ``""``, ``"true"``, ``"+3"`` and
``"1e2"`` are refused. CSV cells are stripped of surrounding spaces, key tags
included; values of a DataFrame or an iterable are taken as they are.
"""

from __future__ import annotations

import csv
import logging
import numbers
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from kms_toolkit.errors import InvalidInputError
from kms_toolkit.validation import validate_key_tag, validate_version

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "InvalidTargetsError",
    "RejectedTarget",
    "Target",
    "TargetSet",
    "TargetSource",
    "load_targets",
]

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS: Final = ("key_tag", "version")
# How many bad rows an error message lists before it summarises the rest.
MESSAGE_ROW_LIMIT: Final = 20
_VERSION_TEXT: Final = re.compile(r"[0-9]+")

TargetSource = Any  # a DataFrame, a CSV path, a TargetSet or (key_tag, version) pairs


class Target(NamedTuple):
    """One key version to enable."""

    key_tag: str
    version: int


class RejectedTarget(NamedTuple):
    """A row that cannot be a target, with its row number and the reason."""

    row: int
    key_tag: object
    version: object
    reason: str


@dataclass(frozen=True, slots=True)
class TargetSet:
    """Validated targets, unique and in their first order, plus what was refused.

    Attributes:
        targets: the unique valid targets.
        rejected: each refused row with its row number and reason.
        duplicates: how many valid rows repeated an earlier target.
        row_kind: ``"line"`` (CSV file lines) or ``"row"`` (1-based items).
    """

    targets: tuple[Target, ...]
    rejected: tuple[RejectedTarget, ...] = ()
    duplicates: int = 0
    row_kind: str = "row"
    source: str = field(default="pairs")

    def __len__(self) -> int:
        return len(self.targets)


class InvalidTargetsError(InvalidInputError):
    """Some targets are invalid; the message lists each bad row and why."""

    def __init__(self, message: str, rejected: tuple[RejectedTarget, ...] = ()):
        self.rejected = rejected
        super().__init__(message)


def load_targets(source: TargetSource, *, skip_invalid: bool = False) -> TargetSet:
    """Read and validate targets; nothing is sent.

    Args:
        source: a pandas DataFrame with ``key_tag`` and ``version`` columns, a
            CSV file path (``str`` or ``Path``) with the same header, a
            ``TargetSet``, or any iterable of ``(key_tag, version)`` pairs
            (tuples, ``Target`` or mappings with those two keys).
        skip_invalid: keep going without the bad rows (they stay listed in
            ``rejected``) instead of raising.

    Raises:
        InvalidTargetsError: when a row is bad and ``skip_invalid`` is false,
            or when the source itself cannot be read (missing file or column).

    Example:
        >>> targets = load_targets([("key-a", 2), ("key-a", "3"), ("key-a", 2)])
        >>> targets.targets, targets.duplicates
        ((Target(key_tag='key-a', version=2), Target(key_tag='key-a', version=3)), 1)
    """
    if isinstance(source, TargetSet):
        target_set = source
    elif _is_data_frame(source):
        target_set = _collect(_frame_rows(source), row_kind="row", source="DataFrame")
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        target_set = _collect(_csv_rows(path), row_kind="line", source=str(path))
    elif isinstance(source, Iterable) and not isinstance(source, bytes | Mapping):
        target_set = _collect(_pair_rows(source), row_kind="row", source="pairs")
    else:
        raise InvalidTargetsError(
            "targets must be a DataFrame, a CSV file path or an iterable of "
            f"(key_tag, version) pairs, not {type(source).__name__}"
        )
    if target_set.rejected and not skip_invalid:
        raise InvalidTargetsError(_describe_rejected(target_set), target_set.rejected)
    return target_set


def parse_version(value: object) -> int:
    """A version from an integer or clean integer text, else InvalidVersionError."""
    # NOTE: spaces around a number are forgiven (spreadsheets add them); signs,
    # decimals, exponents and non-ASCII digits are not (see the module docstring).
    if isinstance(value, str):
        text = value.strip()
        if _VERSION_TEXT.fullmatch(text):
            return validate_version(int(text))
        return validate_version(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        # numpy and pandas integers are not ``int``; they are still integers.
        return validate_version(int(value))
    return validate_version(value)


def _collect(
    rows: Iterator[tuple[int, object, object]], *, row_kind: str, source: str
) -> TargetSet:
    """Validate every row, collapsing duplicates and keeping the reasons."""
    seen: dict[Target, None] = {}
    rejected: list[RejectedTarget] = []
    duplicates = 0
    for row, key_tag, version in rows:
        try:
            target = _validated(key_tag, version)
        except InvalidInputError as error:
            shown = None if version is _NOT_A_PAIR else version
            rejected.append(RejectedTarget(row, key_tag, shown, str(error)))
            continue
        if target in seen:
            duplicates += 1
        else:
            seen[target] = None
    return TargetSet(tuple(seen), tuple(rejected), duplicates, row_kind, source)


def _validated(key_tag: object, version: object) -> Target:
    """The target for one row, or the first thing wrong with it."""
    if version is _NOT_A_PAIR:
        raise InvalidInputError(
            f"expected a (key_tag, version) pair, got {type(key_tag).__name__}"
        )
    if key_tag is None:
        raise InvalidInputError("key tag is missing")
    if version is None:
        raise InvalidInputError("key version is missing")
    return Target(validate_key_tag(key_tag), parse_version(version))


def _is_data_frame(source: object) -> bool:
    """Whether ``source`` is a DataFrame, without importing pandas to ask.

    Without pandas imported nothing can be a DataFrame, and a run from a CSV
    file or pairs then never pays pandas' memory (about 100 MB).
    """
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(source, pandas.DataFrame)


def _frame_rows(frame: pd.DataFrame) -> Iterator[tuple[int, object, object]]:
    """Rows of a DataFrame, numbered from 1, after checking its columns."""
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise InvalidTargetsError(
            f"the DataFrame has no {', '.join(missing)} column; targets need "
            f"{', '.join(REQUIRED_COLUMNS)} (it has: {_column_list(frame.columns)})"
        )
    key_tags = frame["key_tag"].tolist()
    versions = frame["version"].astype(object).tolist()
    for position, (key_tag, version) in enumerate(
        zip(key_tags, versions, strict=True), start=1
    ):
        yield position, _missing_as_none(key_tag), _missing_as_none(version)


def _csv_rows(path: Path) -> Iterator[tuple[int, object, object]]:
    """Rows of a CSV file, numbered by file line, BOM and blank lines ignored."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise InvalidTargetsError(
            f"cannot read targets from {path}: {error.strerror}"
        ) from None
    with handle:
        try:
            yield from _csv_records(csv.reader(handle), path)
        except UnicodeDecodeError as error:
            raise InvalidTargetsError(
                f"{path} is not UTF-8 text (byte {error.start})"
            ) from None
        except csv.Error as error:
            raise InvalidTargetsError(f"{path} is not valid CSV: {error}") from None


def _csv_records(reader: Any, path: Path) -> Iterator[tuple[int, object, object]]:
    """The key tag and version cells of each non-blank data line."""
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        raise InvalidTargetsError(f"{path} is empty; expected a header key_tag,version")
    names = [cell.strip().lower() for cell in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise InvalidTargetsError(
            f"{path} line {reader.line_num}: the header has no "
            f"{', '.join(missing)} column (it has: {_column_list(names)})"
        )
    tag_at, version_at = names.index("key_tag"), names.index("version")
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        key_tag = row[tag_at].strip() if tag_at < len(row) else None
        version = row[version_at] if version_at < len(row) else None
        yield reader.line_num, key_tag, version


def _pair_rows(items: Iterable[object]) -> Iterator[tuple[int, object, object]]:
    """Key tag and version of each item, numbered from 1; odd items kept as-is."""
    for position, item in enumerate(items, start=1):
        if isinstance(item, Mapping):
            yield position, item.get("key_tag"), item.get("version")
        elif isinstance(item, tuple | list) and len(item) == 2:
            yield position, item[0], item[1]
        else:
            yield position, item, _NOT_A_PAIR


class _NotAPair:
    """Marks an item that is not a (key_tag, version) pair."""

    def __repr__(self) -> str:
        return "<not a pair>"


_NOT_A_PAIR: Final = _NotAPair()


def _missing_as_none(value: object) -> object:
    """None for pandas' missing markers, so the reason says the value is missing."""
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    return value


def _column_list(columns: Iterable[object]) -> str:
    names = [str(name) for name in columns][:10]
    return ", ".join(names) if names else "no columns"


def _describe_rejected(target_set: TargetSet) -> str:
    """One line per bad row (up to a limit), each with its number and reason."""
    rejected = target_set.rejected
    lines = [
        f"{len(rejected)} invalid target(s) in {target_set.source}; nothing was sent:"
    ]
    for item in rejected[:MESSAGE_ROW_LIMIT]:
        lines.append(f"  {target_set.row_kind} {item.row}: {item.reason}")
    if len(rejected) > MESSAGE_ROW_LIMIT:
        lines.append(f"  ... and {len(rejected) - MESSAGE_ROW_LIMIT} more")
    return "\n".join(lines)
