"""The run ledger: one SQLite file per run, written as outcomes arrive.

Schema (``SCHEMA_VERSION`` 1)::

    run       one row: run_id, created_at_ms, dry_run, parameters (JSON),
              schema_version, toolkit_version
    targets   seq (1-based order) PRIMARY KEY, key_tag, version,
              UNIQUE (key_tag, version)
    rejected  input_row, key_tag, version (both as text), reason
    outcomes  seq PRIMARY KEY REFERENCES targets, outcome, version_status,
              status_date_ms, http_status, error_code, error_type, message,
              attempts, latency_ms, started_at_ms, finished_at_ms
    events    at_ms, kind (started, resumed, finished, stopped, cancelled),
              detail (JSON)

A ledger is built whole in a hidden file beside its path (schema, run row,
targets and rejected rows in one transaction) and only then linked into
place, so a run killed while creating it leaves no ledger at all, never a
half-made one; the next creation of that path removes the hidden file it
left. A file is checked on a read-only connection before it is opened for
writing, so one that is not a ledger is refused exactly as it was found.

A target without an ``outcomes`` row is unfinished (``not_run``); the primary
key on ``outcomes.seq`` makes a second outcome for one target impossible.
The file uses WAL journaling with ``synchronous=NORMAL``: a committed batch
survives the process being killed (not a power cut), and readers such as a
notebook can open the file while a run writes to it. Credentials are never
written: the parameters hold the endpoint and the run options only.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import os
import re
import sqlite3
import time
import uuid
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from kms_toolkit.bulk.targets import RejectedTarget, Target, TargetSet
from kms_toolkit.errors import InvalidInputError

__all__ = ["OUTCOME_COLUMNS", "SCHEMA_VERSION", "Ledger", "LedgerError", "RunInfo"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 1
TEXT_LIMIT: Final = 500

#: The columns of one outcome row, in the order ``Ledger.record`` takes them.
OUTCOME_COLUMNS: Final = (
    "seq",
    "outcome",
    "version_status",
    "status_date_ms",
    "http_status",
    "error_code",
    "error_type",
    "message",
    "attempts",
    "latency_ms",
    "started_at_ms",
    "finished_at_ms",
)

OutcomeRow = tuple[Any, ...]

_SCHEMA: Final = """
CREATE TABLE run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    run_id TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    dry_run INTEGER NOT NULL,
    parameters TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    toolkit_version TEXT NOT NULL
);
CREATE TABLE targets (
    seq INTEGER PRIMARY KEY,
    key_tag TEXT NOT NULL,
    version INTEGER NOT NULL,
    UNIQUE (key_tag, version)
);
CREATE TABLE rejected (
    input_row INTEGER NOT NULL,
    key_tag TEXT,
    version TEXT,
    reason TEXT NOT NULL
);
CREATE TABLE outcomes (
    seq INTEGER PRIMARY KEY REFERENCES targets (seq),
    outcome TEXT NOT NULL,
    version_status TEXT,
    status_date_ms INTEGER,
    http_status INTEGER,
    error_code TEXT,
    error_type TEXT,
    message TEXT,
    attempts INTEGER,
    latency_ms REAL,
    started_at_ms INTEGER,
    finished_at_ms INTEGER
);
CREATE TABLE events (
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""

_INSERT_OUTCOME: Final = """
INSERT INTO outcomes (
    seq, outcome, version_status, status_date_ms, http_status, error_code,
    error_type, message, attempts, latency_ms, started_at_ms, finished_at_ms
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (seq) DO NOTHING
"""


class LedgerError(InvalidInputError):
    """A ledger file cannot be created or read as a run ledger."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    """The run a ledger belongs to."""

    run_id: str
    created_at_ms: int
    dry_run: bool
    parameters: dict[str, Any]


class Ledger:
    """A run's SQLite ledger; create one with ``create`` or open one with ``open``.

    Example:
        >>> with Ledger.open("runs/run-1.sqlite") as ledger:  # doctest: +SKIP
        ...     ledger.counts()
        {'enabled': 98, 'failed': 2}
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._connection = connection
        self.path = path

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        run_id: str,
        targets: TargetSet,
        parameters: dict[str, Any],
        dry_run: bool,
        clock: Any = time.time,
    ) -> Ledger:
        """Write a new ledger with the run, its targets and its rejected rows.

        The file appears at ``path`` complete or not at all. Hidden files that
        a killed creation of the same path left beside it are removed first.
        """
        path = Path(path)
        if path.exists():
            raise LedgerError(_exists_message(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_buildings(path)
        building = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.creating")
        try:
            _build(building, run_id, targets, parameters, dry_run, clock)
            _move_into_place(building, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                building.unlink()
        return cls(_connect(path), path)

    @classmethod
    def open(cls, path: str | Path) -> Ledger:
        """Open an existing ledger, checking that it is one."""
        path = Path(path)
        if not path.is_file():
            raise LedgerError(f"no ledger at {path}")
        try:
            version = _schema_version(path)
        except sqlite3.DatabaseError as error:
            raise LedgerError(f"{path} is not a run ledger ({error})") from None
        if version != SCHEMA_VERSION:
            raise LedgerError(
                f"{path} has ledger schema {version}; this toolkit reads "
                f"schema {SCHEMA_VERSION}"
            )
        return cls(_connect(path), path)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file; recorded outcomes are already committed."""
        self._connection.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The open SQLite connection, for readers such as ``results_frame``."""
        return self._connection

    def run_info(self) -> RunInfo:
        """The run's id, creation time, dry-run flag and parameters."""
        run_id, created, dry_run, parameters = self._connection.execute(
            "SELECT run_id, created_at_ms, dry_run, parameters FROM run"
        ).fetchone()
        return RunInfo(run_id, created, bool(dry_run), json.loads(parameters))

    def target_count(self) -> int:
        """How many valid targets the run has."""
        return int(
            self._connection.execute("SELECT count(*) FROM targets").fetchone()[0]
        )

    def rejected_count(self) -> int:
        """How many input rows were rejected."""
        row = self._connection.execute("SELECT count(*) FROM rejected").fetchone()
        return int(row[0])

    def unfinished(self) -> list[tuple[int, Target]]:
        """Targets without an outcome, in run order, with their ``seq``."""
        rows = self._connection.execute(
            "SELECT t.seq, t.key_tag, t.version FROM targets t "
            "LEFT JOIN outcomes o ON o.seq = t.seq WHERE o.seq IS NULL ORDER BY t.seq"
        )
        return [(seq, Target(key_tag, version)) for seq, key_tag, version in rows]

    def counts(self) -> dict[str, int]:
        """Recorded outcomes per outcome name, rejected rows included."""
        rows = self._connection.execute(
            "SELECT outcome, count(*) FROM outcomes GROUP BY outcome"
        )
        counts = {outcome: int(count) for outcome, count in rows}
        rejected = self.rejected_count()
        if rejected:
            counts["rejected"] = counts.get("rejected", 0) + rejected
        return counts

    def record(self, rows: Sequence[OutcomeRow]) -> None:
        """Commit a batch of outcome rows (``OUTCOME_COLUMNS`` order) at once."""
        if not rows:
            return
        with self._connection:
            cursor = self._connection.executemany(_INSERT_OUTCOME, rows)
        if cursor.rowcount != len(rows):
            warnings.warn(
                f"{len(rows) - cursor.rowcount} outcome(s) were already in the "
                f"ledger {self.path} and were kept as first recorded",
                RuntimeWarning,
                stacklevel=2,
            )

    def forget_failures(self) -> int:
        """Delete ``failed`` outcomes so a resume sends those targets again."""
        with self._connection:
            cursor = self._connection.execute(
                "DELETE FROM outcomes WHERE outcome = 'failed'"
            )
        return cursor.rowcount

    def add_event(self, kind: str, detail: dict[str, Any], *, at_ms: int) -> None:
        """Note a session event: started, resumed, finished, stopped, cancelled."""
        with self._connection:
            self._connection.execute(
                "INSERT INTO events (at_ms, kind, detail) VALUES (?, ?, ?)",
                (at_ms, kind, json.dumps(detail, sort_keys=True)),
            )

    def events(self) -> list[tuple[int, str, dict[str, Any]]]:
        """Every session event, oldest first."""
        rows = self._connection.execute(
            "SELECT at_ms, kind, detail FROM events ORDER BY rowid"
        )
        return [(at, kind, json.loads(detail)) for at, kind, detail in rows]


def _build(
    path: Path,
    run_id: str,
    targets: TargetSet,
    parameters: dict[str, Any],
    dry_run: bool,
    clock: Any,
) -> None:
    """Write a whole ledger at ``path`` in one transaction, then close it."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # executescript commits whatever is pending before it runs, so the
        # transaction is opened inside the script and closed by hand.
        connection.executescript("BEGIN;" + _SCHEMA)
        _write_run(connection, run_id, targets, parameters, dry_run, clock)
        connection.execute("COMMIT")
    finally:
        connection.close()


def _write_run(
    connection: sqlite3.Connection,
    run_id: str,
    targets: TargetSet,
    parameters: dict[str, Any],
    dry_run: bool,
    clock: Any,
) -> None:
    connection.execute(
        "INSERT INTO run VALUES (1, ?, ?, ?, ?, ?, ?)",
        (
            run_id,
            int(clock() * 1000),
            int(dry_run),
            json.dumps(parameters, sort_keys=True, default=str),
            SCHEMA_VERSION,
            _toolkit_version(),
        ),
    )
    connection.executemany(
        "INSERT INTO targets (seq, key_tag, version) VALUES (?, ?, ?)",
        ((seq, t.key_tag, t.version) for seq, t in enumerate(targets.targets, 1)),
    )
    connection.executemany(
        "INSERT INTO rejected VALUES (?, ?, ?, ?)", _rejected_rows(targets.rejected)
    )


def _move_into_place(building: Path, path: Path) -> None:
    """Give the finished file its name, never replacing a file found there."""
    try:
        # Unlike a rename, a hard link fails if the name was taken meanwhile
        # (another run given the same path).
        os.link(building, path)
    except FileExistsError:
        raise LedgerError(_exists_message(path)) from None
    except OSError:
        # Some file systems have no hard links; a rename is as atomic, and the
        # window in which another run could take the name is tiny.
        if path.exists():
            raise LedgerError(_exists_message(path)) from None
        os.replace(building, path)


def _schema_version(path: Path) -> int:
    """The ledger's schema version, read without writing a byte.

    A normal connection would switch the file to WAL before anything is known
    about it, so a user's own SQLite file, refused here, would be changed.
    """
    uri = f"{path.absolute().as_uri()}?mode=ro"
    connection = sqlite3.connect(uri, uri=True)
    try:
        tables = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'run'"
        ).fetchall()
        if not tables:
            raise sqlite3.DatabaseError("it has no run table")
        row = connection.execute("SELECT schema_version FROM run").fetchone()
    finally:
        connection.close()
    # Ledgers are created whole, so a run table without its row is not one.
    if row is None or not isinstance(row[0], int):
        raise sqlite3.DatabaseError("its run table holds no schema version")
    return row[0]


def _remove_stale_buildings(path: Path) -> None:
    """Delete the hidden files a creation of ``path`` left when it was killed.

    Only names ``create`` itself gives (``.NAME.<8 hex>.creating`` and its
    ``-journal``) are touched, and only when no live creation holds them.
    """
    pattern = re.compile(re.escape(f".{path.name}.") + r"[0-9a-f]{8}\.creating")
    for leftover in path.parent.iterdir():
        if not pattern.fullmatch(leftover.name) or _in_use(leftover):
            continue
        for stale in (leftover, leftover.with_name(f"{leftover.name}-journal")):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
                logger.info("removed %s, left by a killed creation", stale)


def _in_use(building: Path) -> bool:
    """Whether a live creation holds ``building``: its SQLite lock says so."""
    connection = sqlite3.connect(building, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        return error.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    except sqlite3.DatabaseError:
        return False  # half written: a creation that died before its first commit
    finally:
        connection.close()
    return False


def _exists_message(path: Path) -> str:
    """Why ``path`` cannot become a new ledger, and what to do instead."""
    try:
        Ledger.open(path).close()
    except LedgerError as error:
        return f"{error}; choose another path"
    return (
        f"ledger {path} already exists; resume it with `kms-toolkit resume "
        f"{path}` (or resume_run), or choose another path"
    )


def _rejected_rows(
    rejected: Iterable[RejectedTarget],
) -> Iterable[tuple[int, str | None, str | None, str]]:
    """Rejected rows as bounded text: their values may be anything."""
    for item in rejected:
        yield item.row, _as_text(item.key_tag), _as_text(item.version), item.reason


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text[:TEXT_LIMIT]


def _toolkit_version() -> str:
    try:
        return importlib.metadata.version("ncp-kms-toolkit")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode with commits that survive a killed process."""
    connection = sqlite3.connect(path, isolation_level="DEFERRED")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection
