"""Results as DataFrames: stable dtypes, summaries, exports, the HTML report."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest

from kms_toolkit.bulk import (
    RESULT_COLUMNS,
    Ledger,
    Outcome,
    enable_versions,
    export_csv,
    export_parquet,
    load_targets,
    report,
    results_frame,
    summarize,
    write_report,
)
from kms_toolkit.emulator import EmulatorApp, Fault
from tests.bulk.conftest import emulator_client, ledger_files
from tests.conftest import CANARY_SECRET


def ledger_with_every_outcome(path: Path) -> Path:
    """One target per recorded outcome, one unrecorded, one rejected row."""
    names = ["enabled", "already_enabled", "failed", "dry_run", "unrecorded"]
    targets = load_targets(
        [(f"key-{name}", 1) for name in names] + [("bad key", 1)], skip_invalid=True
    )
    with Ledger.create(
        path, run_id="run-x", targets=targets, parameters={}, dry_run=False
    ) as ledger:
        ledger.record(
            [
                (
                    seq,
                    name,
                    "ENABLE",
                    1733460541703,
                    200,
                    None,
                    None,
                    None,
                    1,
                    5.5,
                    10,
                    20,
                )
                for seq, name in enumerate(names[:4], start=1)
            ]
        )
    return path


def test_frame_columns_and_dtypes_are_the_documented_ones(tmp_path: Path) -> None:
    """Every column of RESULT_COLUMNS, in order, with its dtype."""
    frame = results_frame(ledger_with_every_outcome(tmp_path / "l.sqlite"))

    assert list(frame.columns) == list(RESULT_COLUMNS)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {
        name: dtype for name, (dtype, _) in RESULT_COLUMNS.items()
    }


def test_outcome_codes_follow_the_outcome_enum(tmp_path: Path) -> None:
    """Each recorded outcome reads back as itself; no record reads not_run."""
    frame = results_frame(ledger_with_every_outcome(tmp_path / "l.sqlite"))

    assert frame["outcome"].tolist() == [
        "enabled",
        "already_enabled",
        "failed",
        "dry_run",
        "not_run",
        "rejected",
    ]
    assert list(frame["outcome"].cat.categories) == [o.value for o in Outcome]


def test_frame_values_are_typed(tmp_path: Path) -> None:
    """Dates are UTC, missing numbers are NA, rejected rows keep their input row."""
    frame = results_frame(ledger_with_every_outcome(tmp_path / "l.sqlite"))

    first, unrecorded, rejected = frame.iloc[0], frame.iloc[4], frame.iloc[5]
    assert first.status_date == pd.Timestamp("2024-12-06 04:49:01.703", tz="UTC")
    assert (first.http_status, first.latency_ms, first.seq) == (200, 5.5, 1)
    assert pd.isna(unrecorded.http_status)
    assert pd.isna(unrecorded.started_at)
    assert (rejected.input_row, rejected.key_tag) == (6, "bad key")
    assert pd.isna(rejected.seq)


def test_an_empty_run_gives_an_empty_typed_frame(tmp_path: Path) -> None:
    """No targets at all still yields every column with its dtype."""
    path = tmp_path / "empty.sqlite"
    Ledger.create(
        path, run_id="r", targets=load_targets([]), parameters={}, dry_run=False
    ).close()

    frame = results_frame(path)

    assert frame.empty
    assert str(frame["latency_ms"].dtype) == "Float64"


def test_summary_lists_failures_first_with_shares(tmp_path: Path) -> None:
    """Failures, then rejected and not run, then successes."""
    summary = summarize(results_frame(ledger_with_every_outcome(tmp_path / "l.sqlite")))

    assert summary["outcome"].tolist()[:3] == ["failed", "rejected", "not_run"]
    assert summary["targets"].sum() == 6
    assert summary["share"].sum() == pytest.approx(1.0)


def test_parquet_export_keeps_the_dtypes(tmp_path: Path) -> None:
    """A Parquet round trip gives back the same frame."""
    frame = results_frame(ledger_with_every_outcome(tmp_path / "l.sqlite"))

    back = pd.read_parquet(export_parquet(frame, tmp_path / "r.parquet"))

    pd.testing.assert_frame_equal(back, frame)


def test_csv_export_has_a_row_per_target(tmp_path: Path) -> None:
    """The CSV holds every row with ISO UTC times."""
    path = export_csv(
        ledger_with_every_outcome(tmp_path / "l.sqlite"), tmp_path / "r.csv"
    )

    text = path.read_text()
    assert len(pd.read_csv(path)) == 6
    assert "2024-12-06T04:49:01.703000Z" in text


def table_rows(page: str, heading: str) -> list[list[str]]:
    """The body cells of the first HTML table after ``heading``, row by row."""
    after = page.split(heading, 1)[1]
    body = after.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_report_lists_every_target_with_problems_first(tmp_path: Path) -> None:
    """The report's last table holds every target, failures before successes."""
    ledger = ledger_with_every_outcome(tmp_path / "l.sqlite")

    page = write_report(ledger, tmp_path / "r.html").read_text()

    rows = table_rows(page, "<h2>Every target (6)</h2>")
    outcome = report.TARGET_COLUMNS.index("outcome")
    key_tag = report.TARGET_COLUMNS.index("key_tag")
    assert [row[outcome] for row in rows] == [
        "failed",
        "rejected",
        "not_run",
        "dry_run",
        "already_enabled",
        "enabled",
    ]
    assert rows[0][key_tag] == "key-failed"
    assert rows[-1][key_tag] == "key-enabled"
    # The dry-run row carries no request message: its enable path is derived.
    assert "/kms/v1/keys/key-dry_run/versions/1/enable" in page


def test_report_caps_the_every_target_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the row limit the table is cut and says where the rest is."""
    monkeypatch.setattr(report, "TARGET_ROW_LIMIT", 2)
    ledger = ledger_with_every_outcome(tmp_path / "l.sqlite")

    page = write_report(ledger, tmp_path / "r.html").read_text()

    every = page.split("<h2>Every target (6)</h2>")[1]
    assert every.startswith('<p class="note">First 2 of 6; export the results')
    assert len(table_rows(page, "<h2>Every target (6)</h2>")) == 2


async def test_report_and_exports_hold_no_secret_and_no_link(
    emulator: EmulatorApp, tmp_path: Path
) -> None:
    """A run through a real client signing with a canary secret, with a failure
    in it: the secret reaches none of the ledger's bytes, the frame, CSV,
    Parquet or the report; the report names no other host and fetches nothing."""
    ledger = tmp_path / "run.sqlite"
    targets = emulator.state.disabled_versions(enabled_keys_only=True)[:3]
    failing_tag, failing_version = targets[1]
    emulator.injector.schedule(
        Fault.ENDPOINT_ERROR,
        operation="enableKeyVersion",
        key_tag=failing_tag,
        version=failing_version,
        times=5,
    )
    client, _ = emulator_client(emulator, secret=CANARY_SECRET)
    async with client:
        result = await enable_versions(
            client, targets, max_attempts=5, ledger_path=ledger
        )

    report = write_report(result, tmp_path / "report.html").read_text()
    files = [
        *ledger_files(ledger),
        export_csv(result, tmp_path / "r.csv"),
        export_parquet(result, tmp_path / "r.parquet"),
    ]
    assert result.counts[Outcome.FAILED] == 1
    assert all(CANARY_SECRET.encode() not in path.read_bytes() for path in files)
    assert CANARY_SECRET not in report
    assert CANARY_SECRET not in result.frame().to_csv()
    assert re.findall(r"https?://", report) == []
    assert re.findall(r"<(?:script|link|img|iframe)\b", report) == []
    assert report.index("Failures (1)") < report.index("Summary by outcome")
    assert "<svg" in report
    assert "ocapi.ncloud.com/kms/v1" in report
