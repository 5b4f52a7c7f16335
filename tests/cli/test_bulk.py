"""``kms-toolkit plan | run | resume | report | demo`` against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from kms_toolkit.cli import main
from kms_toolkit.emulator import serve
from kms_toolkit.emulator.server import RunningEmulator


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningEmulator]:
    """The demo emulator, its key pair in the environment; always stopped."""
    with serve(dataset="demo") as running:
        monkeypatch.setenv("NCLOUD_ACCESS_KEY_ID", running.credentials.access_key)
        monkeypatch.setenv("NCLOUD_SECRET_ACCESS_KEY", running.credentials.secret_key)
        monkeypatch.setenv("HOME", "/nonexistent")
        yield running


def targets_csv(tmp_path: Path, rows: list[tuple[str, object]]) -> Path:
    path = tmp_path / "targets.csv"
    pd.DataFrame(rows, columns=["key_tag", "version"]).to_csv(path, index=False)
    return path


def enable_requests(emulator: RunningEmulator) -> int:
    return emulator.counters.requests(operation="enableKeyVersion")


def test_plan_then_run_enables_everything_and_exits_0(
    emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """plan writes a targets CSV that run accepts; all enabled: exit 0."""
    plan = tmp_path / "plan.csv"
    report = tmp_path / "report.html"

    assert main(["plan", "--out", str(plan), "--endpoint", emulator.url]) == 0
    status = main(
        ["run", "--targets", str(plan), "--ledger", str(tmp_path / "l.sqlite"),
         "--report", str(report), "--endpoint", emulator.url]
    )  # fmt: skip

    out = capsys.readouterr().out
    assert status == 0
    assert "8 version(s) of 4 key(s) to enable" in out
    assert emulator.state.disabled_versions(enabled_keys_only=True) == []
    assert report.exists()
    assert "report:" in out


def test_a_failed_target_exits_1(emulator: RunningEmulator, tmp_path: Path) -> None:
    """A version that does not exist fails its row: exit 1."""
    tag = emulator.state.disabled_versions(enabled_keys_only=True)[0][0]
    path = targets_csv(tmp_path, [(tag, 99)])

    status = main(
        ["run", "--targets", str(path), "--ledger", str(tmp_path / "l.sqlite"),
         "--endpoint", emulator.url]
    )  # fmt: skip

    assert status == 1


def test_bad_input_exits_2_and_sends_nothing(
    emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad row stops the run before any request: exit 2, the line named."""
    tag, version = emulator.state.disabled_versions(enabled_keys_only=True)[0]
    path = targets_csv(tmp_path, [(tag, version), (tag, "3.5")])

    status = main(["run", "--targets", str(path), "--endpoint", emulator.url])

    assert status == 2
    assert "line 3: key version must be an integer" in capsys.readouterr().err
    assert emulator.counters.requests() == 0


def test_skip_invalid_runs_the_rest_and_exits_1(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """--skip-invalid enables the good rows; the rejected row makes it exit 1."""
    tag, version = emulator.state.disabled_versions(enabled_keys_only=True)[0]
    path = targets_csv(tmp_path, [(tag, version), ("bad/tag", 1)])

    status = main(
        ["run", "--targets", str(path), "--skip-invalid", "--ledger",
         str(tmp_path / "l.sqlite"), "--endpoint", emulator.url]
    )  # fmt: skip

    assert status == 1
    assert emulator.state.version_status(tag, version) == "ENABLE"


def test_dry_run_sends_nothing_and_exits_0(
    emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run prints the plan of requests and sends none."""
    pairs = emulator.state.disabled_versions(enabled_keys_only=True)
    path = targets_csv(tmp_path, list(pairs))

    status = main(
        ["run", "--targets", str(path), "--dry-run", "--ledger",
         str(tmp_path / "l.sqlite"), "--endpoint", emulator.url]
    )  # fmt: skip

    assert status == 0
    assert emulator.counters.requests() == 0
    assert "dry_run" in capsys.readouterr().out


def test_resume_of_a_finished_run_sends_nothing(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Resuming a complete ledger exits 0 without a single enable."""
    pairs = emulator.state.disabled_versions(enabled_keys_only=True)
    ledger = tmp_path / "l.sqlite"
    main(["run", "--targets", str(targets_csv(tmp_path, list(pairs))),
          "--ledger", str(ledger), "--endpoint", emulator.url])  # fmt: skip
    before = enable_requests(emulator)

    assert main(["resume", str(ledger), "--endpoint", emulator.url]) == 0
    assert enable_requests(emulator) == before


def test_resume_of_a_missing_ledger_exits_2(tmp_path: Path) -> None:
    """No ledger at the path is bad input."""
    assert main(["resume", str(tmp_path / "missing.sqlite"), "--endpoint",
                 "http://127.0.0.1:9/kms/v1"]) == 2  # fmt: skip


@pytest.mark.parametrize("suffix", [".html", ".csv", ".parquet"])
def test_report_writes_the_format_of_the_extension(
    emulator: RunningEmulator, tmp_path: Path, suffix: str
) -> None:
    """report --out picks HTML, CSV or Parquet by extension."""
    pairs = emulator.state.disabled_versions(enabled_keys_only=True)
    ledger = tmp_path / "l.sqlite"
    main(["run", "--targets", str(targets_csv(tmp_path, list(pairs))),
          "--ledger", str(ledger), "--endpoint", emulator.url])  # fmt: skip
    out = tmp_path / f"results{suffix}"

    assert main(["report", str(ledger), "--out", str(out)]) == 0
    assert out.stat().st_size > 0


def test_report_refuses_an_unknown_extension(tmp_path: Path) -> None:
    """--out results.txt is bad input."""
    assert main(["report", str(tmp_path / "l.sqlite"), "--out", "results.txt"]) == 2


def test_demo_needs_no_credentials_and_writes_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """kms-toolkit demo: emulator, plan, run, ledger, CSV and report; exit 0."""
    for name in ("NCLOUD_ACCESS_KEY_ID", "NCLOUD_SECRET_ACCESS_KEY",
                 "NCLOUD_ACCESS_KEY", "NCLOUD_SECRET_KEY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))

    status = main(["demo", "--out-dir", str(tmp_path / "out"), "--latency-ms", "0"])

    out = capsys.readouterr().out
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert status == 0
    assert {"demo-ledger.sqlite", "demo-plan.csv", "demo-report.html",
            "demo-results.csv"} <= set(names)  # fmt: skip
    assert "report: " in out
    assert "enabled" in out
