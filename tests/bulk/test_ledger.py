"""The SQLite ledger: schema, uniqueness, what a resume needs."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kms_toolkit.bulk import Ledger, LedgerError, load_targets, resume_run
from kms_toolkit.bulk import ledger as ledger_module
from tests.bulk.conftest import FakeKms


def new_ledger(path: Path) -> Ledger:
    targets = load_targets(
        [("a", 1), ("a", 2), ("b", 1), ("bad", 0)], skip_invalid=True
    )
    return Ledger.create(
        path,
        run_id="run-1",
        targets=targets,
        parameters={"concurrency": 4},
        dry_run=False,
    )


def outcome_row(seq: int, outcome: str = "enabled") -> tuple[object, ...]:
    return (seq, outcome, "ENABLE", 1, 200, None, None, None, 1, 2.0, 3, 4)


def test_a_new_ledger_holds_the_run_targets_and_rejected_rows(
    ledger_path: Path,
) -> None:
    """Targets are numbered from 1 and all unfinished; rejected rows are counted."""
    with new_ledger(ledger_path) as ledger:
        info = ledger.run_info()
        unfinished = ledger.unfinished()
        counts = ledger.counts()

    assert (info.run_id, info.dry_run, info.parameters) == (
        "run-1",
        False,
        {"concurrency": 4},
    )
    assert [(seq, t.key_tag, t.version) for seq, t in unfinished] == [
        (1, "a", 1),
        (2, "a", 2),
        (3, "b", 1),
    ]
    assert counts == {"rejected": 1}


def test_recorded_targets_are_no_longer_unfinished(ledger_path: Path) -> None:
    """A batch of outcomes is committed and leaves only the rest to do."""
    with new_ledger(ledger_path) as ledger:
        ledger.record([outcome_row(1), outcome_row(3, "failed")])
    with Ledger.open(ledger_path) as reopened:
        assert [seq for seq, _ in reopened.unfinished()] == [2]
        assert reopened.counts() == {"enabled": 1, "failed": 1, "rejected": 1}


def test_a_second_outcome_for_a_target_is_refused(ledger_path: Path) -> None:
    """The first outcome stays; a repeat is dropped with a warning."""
    with new_ledger(ledger_path) as ledger:
        ledger.record([outcome_row(1)])
        with pytest.warns(RuntimeWarning, match="1 outcome\\(s\\) were already"):
            ledger.record([outcome_row(1, "failed"), outcome_row(2)])
        rows = ledger.connection.execute("SELECT seq, outcome FROM outcomes").fetchall()

    assert sorted(rows) == [(1, "enabled"), (2, "enabled")]


def test_the_schema_itself_forbids_two_outcomes_per_target(ledger_path: Path) -> None:
    """Even raw SQL cannot add a second outcome row for one target."""
    with new_ledger(ledger_path) as ledger:
        ledger.record([outcome_row(1)])
    raw = sqlite3.connect(ledger_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed"):
            raw.execute("INSERT INTO outcomes (seq, outcome) VALUES (1, 'failed')")
    finally:
        raw.close()


def test_forgetting_failures_makes_them_unfinished(ledger_path: Path) -> None:
    """resume --retry-failed deletes failed outcomes only."""
    with new_ledger(ledger_path) as ledger:
        ledger.record([outcome_row(1), outcome_row(2, "failed")])
        assert ledger.forget_failures() == 1
        assert [seq for seq, _ in ledger.unfinished()] == [2, 3]


def test_an_existing_ledger_is_not_overwritten(ledger_path: Path) -> None:
    """Creating a ledger where one exists is refused."""
    new_ledger(ledger_path).close()

    with pytest.raises(LedgerError, match="already exists; resume it"):
        new_ledger(ledger_path)


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path: Path) -> None:
    """Opening a random file or a missing one names the problem."""
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database")

    with pytest.raises(LedgerError, match="is not a run ledger"):
        Ledger.open(junk)
    with pytest.raises(LedgerError, match="no ledger at"):
        Ledger.open(tmp_path / "missing.sqlite")


def test_the_ledger_uses_wal_journaling(ledger_path: Path) -> None:
    """WAL keeps committed batches through a killed process and lets readers in."""
    with new_ledger(ledger_path) as ledger:
        mode = ledger.connection.execute("PRAGMA journal_mode").fetchone()[0]

    assert mode == "wal"


def test_a_failure_while_creating_leaves_no_ledger(
    ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error after the schema is written and before the run row is: no file
    is left at the path (nor beside it), and the same path can be used again."""

    def fail() -> str:
        raise RuntimeError("interrupted while writing the run row")

    monkeypatch.setattr(ledger_module, "_toolkit_version", fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        new_ledger(ledger_path)
    monkeypatch.undo()

    assert list(ledger_path.parent.iterdir()) == []
    with new_ledger(ledger_path) as ledger:
        assert ledger.target_count() == 3


def test_a_process_killed_while_creating_leaves_no_ledger(ledger_path: Path) -> None:
    """A process that dies (os._exit) between the schema and the run row leaves
    nothing at the ledger's path, so a new run can take it; that run removes
    the hidden file and journal the dead one left beside it."""
    script = f"""
import os
from kms_toolkit.bulk import ledger
from tests.bulk.test_ledger import new_ledger
ledger._toolkit_version = lambda: os._exit(9)
new_ledger(ledger.Path({str(ledger_path)!r}))
"""
    died = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    leftovers = sorted(p.name for p in ledger_path.parent.iterdir())

    assert died.returncode == 9
    assert not ledger_path.exists()
    assert len(leftovers) == 2
    assert re.fullmatch(r"\.run\.sqlite\.[0-9a-f]{8}\.creating", leftovers[0])
    assert leftovers[1] == f"{leftovers[0]}-journal"
    new_ledger(ledger_path).close()
    assert [p.name for p in ledger_path.parent.iterdir()] == [ledger_path.name]


def test_only_dead_creations_of_the_same_path_are_cleaned(ledger_path: Path) -> None:
    """Creating a ledger keeps hidden files another path's creation, a live
    creation (it holds its SQLite lock) or anything else named alike owns."""
    folder = ledger_path.parent
    kept = [
        ".other.sqlite.0123abcd.creating",
        ".run.sqlite.0123ABCD.creating",
        ".run.sqlite.0123abc.creating",
        ".run.sqlite.notes.creating",
        "run.sqlite.0123abcd.creating",
    ]
    for name in kept:
        (folder / name).write_text("someone else's")
    live = sqlite3.connect(folder / ".run.sqlite.feedf00d.creating")
    live.execute("BEGIN IMMEDIATE")
    live.execute("CREATE TABLE run (id INTEGER)")
    try:
        new_ledger(ledger_path).close()
    finally:
        live.rollback()
        live.close()

    assert sorted(p.name for p in folder.iterdir()) == sorted([
        *kept, ".run.sqlite.feedf00d.creating", ledger_path.name
    ])  # fmt: skip


def test_an_empty_file_is_not_a_ledger_and_not_offered_for_deletion(
    ledger_path: Path,
) -> None:
    """An empty file (which SQLite reads as an empty database) is refused as
    not a run ledger, by open, a resume and a new run alike."""
    ledger_path.touch()

    with pytest.raises(LedgerError, match="is not a run ledger") as opened:
        Ledger.open(ledger_path)
    with pytest.raises(LedgerError, match="is not a run ledger"):
        asyncio.run(resume_run(FakeKms({}), ledger_path))
    with pytest.raises(LedgerError, match=r"not a run ledger .*; choose another path"):
        new_ledger(ledger_path)

    assert "delete" not in str(opened.value)
    assert ledger_path.read_bytes() == b""


def test_a_ledger_schema_without_its_run_row_is_not_a_ledger(
    ledger_path: Path,
) -> None:
    """The ledger's tables without a run row (no creation leaves that) are
    refused as not a run ledger, with no advice to delete the file."""
    raw = sqlite3.connect(ledger_path)
    try:
        raw.executescript(ledger_module._SCHEMA)
    finally:
        raw.close()

    with pytest.raises(LedgerError, match="is not a run ledger") as opened:
        Ledger.open(ledger_path)
    assert "delete" not in str(opened.value)


def test_a_foreign_sqlite_file_is_refused_unchanged(tmp_path: Path) -> None:
    """A user's own SQLite file (delete journal mode) is refused by open and by
    create and is byte-identical afterwards, with no -wal or -shm beside it."""
    notes = tmp_path / "notes #1 ?%.sqlite"
    raw = sqlite3.connect(notes)
    with raw:
        raw.execute("CREATE TABLE notes (body TEXT)")
        raw.execute("INSERT INTO notes VALUES ('keep me')")
    raw.close()
    before = notes.read_bytes()

    with pytest.raises(LedgerError, match="is not a run ledger"):
        Ledger.open(notes)
    with pytest.raises(LedgerError, match="is not a run ledger"):
        new_ledger(notes)

    assert notes.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [notes.name]


def test_a_ledger_whose_path_needs_quoting_opens(tmp_path: Path) -> None:
    """Spaces, '#', '?' and '%' in a ledger's path survive the read-only check."""
    path = tmp_path / "runs #2 ?x=1 %20" / "run 1?.sqlite"
    new_ledger(path).close()

    with Ledger.open(path) as ledger:
        assert ledger.run_info().run_id == "run-1"


def test_another_schema_version_is_named(ledger_path: Path) -> None:
    """A ledger written with another schema version says which."""
    new_ledger(ledger_path).close()
    raw = sqlite3.connect(ledger_path)
    with raw:
        raw.execute("UPDATE run SET schema_version = 7")
    raw.close()

    with pytest.raises(LedgerError, match="has ledger schema 7; this toolkit reads"):
        Ledger.open(ledger_path)


def test_another_sqlite_database_is_not_a_ledger(tmp_path: Path) -> None:
    """A SQLite file with other tables is refused, and never offered for deletion."""
    other = tmp_path / "other.sqlite"
    raw = sqlite3.connect(other)
    with raw:
        raw.execute("CREATE TABLE notes (body TEXT)")
    raw.close()

    with pytest.raises(LedgerError, match="is not a run ledger"):
        Ledger.open(other)
    with pytest.raises(LedgerError, match=r"not a run ledger .*; choose another path"):
        new_ledger(other)
