"""The SQLite ledger: schema, uniqueness, what a resume needs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kms_toolkit.bulk import Ledger, LedgerError, load_targets


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
