"""Key versions to enable, read from a DataFrame, a CSV file or any pairs.

Every target is checked with the same rules as the client facade before
anything is sent. Bad rows are collected, each with its row number and the
reason, so a person can fix them all at once.

Row numbers: for a CSV file, the line number in the file (the header is
line 1, so the first data row is usually line 2); for a DataFrame or an
iterable, the 1-based position of the item.

Versions given as text (every CSV cell, or a string in a DataFrame or a
pair) are accepted when they are a plain decimal integer, surrounding spaces
allowed (``"3"``, ``" 3 "``); ``"3.5"``, ``"true"``, ``"+3"`` and ``"1e2"``
are refused, a blank one is missing, and ``"-1"`` is out of range. CSV cells
are stripped of surrounding spaces, key tags included, and an empty cell is a
missing value; values of a DataFrame or an iterable are taken as they are.

An ``action`` column (as a plan written with ``--all`` has) chooses the rows:
``enable`` rows are targets, ``skip`` rows are left out and counted with the
plan's ``reason``, and any other action is a bad row (case and surrounding
spaces do not matter). Without the column every row is a target.
"""

from __future__ import annotations

import csv
import logging
import numbers
import os
import re
import sys
from collections import Counter
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
    "enable_request",
    "load_targets",
]

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS: Final = ("key_tag", "version")
#: Optional columns: the row's action (a plan's ``enable`` or ``skip``), and why.
ACTION_COLUMN: Final = "action"
REASON_COLUMN: Final = "reason"
ENABLE_ACTION: Final = "enable"
SKIP_ACTION: Final = "skip"
_READ_COLUMNS: Final = (*REQUIRED_COLUMNS, ACTION_COLUMN, REASON_COLUMN)
# How many bad rows an error message lists before it summarises the rest.
MESSAGE_ROW_LIMIT: Final = 20
# A minus sign is read so that "-1" is reported out of range, not as text.
_VERSION_TEXT: Final = re.compile(r"-?[0-9]+")

TargetSource = Any  # a DataFrame, a CSV path, a TargetSet or (key_tag, version) pairs


class _Row(NamedTuple):
    """One input row as read: its number, its cells, its action and why."""

    number: int
    key_tag: object
    version: object
    action: object
    note: object


class Target(NamedTuple):
    """One key version to enable."""

    key_tag: str
    version: int


#: The API's base path, under which the enable paths sit.
DEFAULT_BASE_PATH: Final = "/kms/v1"


def enable_request(
    key_tag: str, version: int, base_path: str = DEFAULT_BASE_PATH
) -> str:
    """The request line that enables one target, as a dry run shows it.

    A valid key tag holds only unreserved characters, so it stands in the
    path as it is.
    """
    return f"POST {base_path}/keys/{key_tag}/versions/{version}/enable"


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
        source: where the targets came from, for messages.
        left_out: rows whose ``action`` is ``skip``, counted per reason, in
            the order the reasons first occur.
    """

    targets: tuple[Target, ...]
    rejected: tuple[RejectedTarget, ...] = ()
    duplicates: int = 0
    row_kind: str = "row"
    source: str = field(default="pairs")
    left_out: tuple[tuple[str, int], ...] = ()

    def __len__(self) -> int:
        return len(self.targets)

    def rejected_lines(self) -> list[str]:
        """One line per bad row with its number and reason, the rest counted.

        The first ``MESSAGE_ROW_LIMIT`` rows are listed; ``rejected`` holds all.
        """
        lines = [
            f"{self.row_kind} {item.row}: {item.reason}"
            for item in self.rejected[:MESSAGE_ROW_LIMIT]
        ]
        if len(self.rejected) > MESSAGE_ROW_LIMIT:
            lines.append(f"... and {len(self.rejected) - MESSAGE_ROW_LIMIT} more")
        return lines

    @property
    def left_out_count(self) -> int:
        """How many rows the ``action`` column left out."""
        return sum(count for _, count in self.left_out)


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
            (tuples, ``Target`` or mappings with those two keys). A frame or
            file with an ``action`` column keeps only its ``enable`` rows.
        skip_invalid: keep going without the bad rows (they stay listed in
            ``rejected``) instead of raising.

    Raises:
        InvalidTargetsError: when a row is bad and ``skip_invalid`` is false,
            or when the source itself cannot be read (missing file, missing or
            repeated column, CSV syntax error).

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


def _collect(rows: Iterator[_Row], *, row_kind: str, source: str) -> TargetSet:
    """Validate every row, collapsing duplicates and keeping the reasons."""
    seen: dict[Target, None] = {}
    rejected: list[RejectedTarget] = []
    left_out: dict[str, int] = {}
    duplicates = 0
    for row, key_tag, version, action, note in rows:
        try:
            skipped_because = _left_out_because(action, note)
            if skipped_because is not None:
                left_out[skipped_because] = left_out.get(skipped_because, 0) + 1
                continue
            target = _validated(key_tag, version)
        except InvalidInputError as error:
            shown = None if version is _NOT_A_PAIR else version
            rejected.append(RejectedTarget(row, key_tag, shown, str(error)))
            continue
        if target in seen:
            duplicates += 1
        else:
            seen[target] = None
    if left_out:
        logger.info(
            "left out %d row(s) of %s whose action is skip",
            sum(left_out.values()),
            source,
        )
    return TargetSet(
        tuple(seen),
        tuple(rejected),
        duplicates,
        row_kind,
        source,
        tuple(left_out.items()),
    )


def _left_out_because(action: object, note: object) -> str | None:
    """None for a row to enable, why it is left out for a skip, else raise."""
    text = action.strip().lower() if isinstance(action, str) else action
    if text == ENABLE_ACTION:
        return None
    if text == SKIP_ACTION:
        reason = note.strip() if isinstance(note, str) else ""
        return f"{SKIP_ACTION}: {reason}" if reason else SKIP_ACTION
    if text is None or text == "":
        raise InvalidInputError("action is missing; it must be enable or skip")
    raise InvalidInputError(f"action must be enable or skip, not {str(action)[:40]!r}")


def _validated(key_tag: object, version: object) -> Target:
    """The target for one row, or the first thing wrong with it."""
    if version is _NOT_A_PAIR:
        raise InvalidInputError(
            f"expected a (key_tag, version) pair, got {type(key_tag).__name__}"
        )
    if key_tag is None:
        raise InvalidInputError("key tag is missing")
    if version is None or (isinstance(version, str) and not version.strip()):
        raise InvalidInputError("key version is missing")
    return Target(validate_key_tag(key_tag), parse_version(version))


def _is_data_frame(source: object) -> bool:
    """Whether ``source`` is a DataFrame, without importing pandas to ask.

    Without pandas imported nothing can be a DataFrame, and a run from a CSV
    file or pairs then never pays pandas' memory (about 100 MB).
    """
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(source, pandas.DataFrame)


def _frame_rows(frame: pd.DataFrame) -> Iterator[_Row]:
    """Rows of a DataFrame, numbered from 1, after checking its columns."""
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise InvalidTargetsError(
            f"the DataFrame has no {', '.join(missing)} column; targets need "
            f"{', '.join(REQUIRED_COLUMNS)} (it has: {_column_list(frame.columns)})"
        )
    repeated = _repeated(str(name) for name in frame.columns)
    if repeated:
        raise InvalidTargetsError(
            f"the DataFrame has more than one {', '.join(repeated)} column; "
            "which one holds the targets would be a guess"
        )
    count = len(frame)
    key_tags = _frame_column(frame, "key_tag")
    versions = _frame_column(frame, "version")
    actions = (
        _frame_column(frame, ACTION_COLUMN)
        if ACTION_COLUMN in frame.columns
        else [ENABLE_ACTION] * count
    )
    notes = (
        _frame_column(frame, REASON_COLUMN)
        if REASON_COLUMN in frame.columns
        else [None] * count
    )
    for position, values in enumerate(
        zip(key_tags, versions, actions, notes, strict=True), start=1
    ):
        yield _Row(position, *(_missing_as_none(value) for value in values))


def _frame_column(frame: pd.DataFrame, name: str) -> list[object]:
    """A column's values as Python objects (missing markers kept)."""
    values: list[object] = frame[name].astype(object).tolist()
    return values


def _csv_rows(path: Path) -> Iterator[_Row]:
    """Rows of a CSV file, numbered by file line, BOM and blank lines ignored."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise InvalidTargetsError(
            f"cannot read targets from {path}: {error.strerror}"
        ) from None
    with handle:
        try:
            # strict: an unclosed quote is a syntax error, not a cell that
            # swallows the rest of the file.
            yield from _csv_records(csv.reader(handle, strict=True), path)
        except UnicodeDecodeError as error:
            raise InvalidTargetsError(
                f"{path} is not UTF-8 text (byte {error.start})"
            ) from None


def _csv_records(reader: Any, path: Path) -> Iterator[_Row]:
    """The cells this module reads of each non-blank data line."""
    lines = _csv_lines(reader, path)
    header = next((row for _, row in lines if _has_text(row)), None)
    if header is None:
        raise InvalidTargetsError(f"{path} is empty; expected a header key_tag,version")
    names = [cell.strip().lower() for cell in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise InvalidTargetsError(
            f"{path} line {reader.line_num}: the header has no "
            f"{', '.join(missing)} column (it has: {_column_list(names)})"
        )
    repeated = _repeated(names)
    if repeated:
        raise InvalidTargetsError(
            f"{path} line {reader.line_num}: the header names "
            f"{', '.join(repeated)} more than once; which column holds the "
            "targets would be a guess"
        )
    at = [names.index(name) if name in names else None for name in _READ_COLUMNS]
    for line, row in lines:
        if not _has_text(row):
            continue
        tag, version, action, note = (_cell(row, index) for index in at)
        yield _Row(line, tag, version, ENABLE_ACTION if at[2] is None else action, note)


def _csv_lines(reader: Any, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each record with its (last) line number; a syntax error names its line."""
    line = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            hint = (
                " (a quoted cell is never closed)"
                if "end of data" in str(error)
                else ""
            )
            raise InvalidTargetsError(
                f"{path} line {line + 1}: CSV syntax error: {error}{hint}; "
                "nothing was sent"
            ) from None
        line = reader.line_num
        yield line, row


def _has_text(row: list[str]) -> bool:
    return any(cell.strip() for cell in row)


def _cell(row: list[str], index: int | None) -> str | None:
    """A stripped cell; None when the row is too short or the cell is empty."""
    if index is None or index >= len(row):
        return None
    return row[index].strip() or None


def _repeated(names: Iterable[str]) -> list[str]:
    """The columns this module reads that the names hold more than once."""
    counts = Counter(names)
    return [name for name in _READ_COLUMNS if counts[name] > 1]


def _pair_rows(items: Iterable[object]) -> Iterator[_Row]:
    """Key tag and version of each item, numbered from 1; odd items kept as-is."""
    for position, item in enumerate(items, start=1):
        if isinstance(item, Mapping):
            key_tag, version = item.get("key_tag"), item.get("version")
        elif isinstance(item, tuple | list) and len(item) == 2:
            key_tag, version = item[0], item[1]
        else:
            key_tag, version = item, _NOT_A_PAIR
        yield _Row(position, key_tag, version, ENABLE_ACTION, None)


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
    count, source = len(target_set.rejected), target_set.source
    lines = [f"{count} invalid target(s) in {source}; nothing was sent:"]
    lines += [f"  {line}" for line in target_set.rejected_lines()]
    return "\n".join(lines)
