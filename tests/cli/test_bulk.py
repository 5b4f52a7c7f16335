"""``kms-toolkit plan | run | resume | report | demo`` against the emulator."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from kms_toolkit.bulk import Outcome, RunResult, results_frame
from kms_toolkit.cli import bulk as bulk_cli
from kms_toolkit.cli import main
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator import serve
from kms_toolkit.emulator.faults import Fault
from kms_toolkit.emulator.server import RunningEmulator
from kms_toolkit.errors import AuthenticationError
from tests.bulk.test_targets import HostileCsv, hostile_csv

CREDENTIAL_VARIABLES = (
    "NCLOUD_ACCESS_KEY_ID",
    "NCLOUD_SECRET_ACCESS_KEY",
    "NCLOUD_ACCESS_KEY",
    "NCLOUD_SECRET_KEY",
)


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


def without_credentials(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No key pair in the environment and no configure file."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))


def section(out: str, first: str, last: str) -> list[str]:
    """The output lines from the one starting with ``first`` to ``last``'s."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = next(i for i, line in enumerate(lines) if line.startswith(last))
    return lines[start : end + 1]


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


# Dry runs: exactly what would be sent, without credentials.


def test_dry_run_prints_every_request_without_credentials(
    emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--dry-run lists each key's read, then each enable; no credentials, no request."""
    pairs = emulator.state.disabled_versions(enabled_keys_only=True)[:4]
    path = targets_csv(tmp_path, list(pairs))
    without_credentials(monkeypatch, tmp_path)

    status = main(
        ["run", "--targets", str(path), "--dry-run", "--ledger",
         str(tmp_path / "l.sqlite"), "--endpoint", emulator.url]
    )  # fmt: skip

    out = capsys.readouterr().out
    tags = list(dict.fromkeys(tag for tag, _ in pairs))
    assert status == 0
    assert emulator.counters.requests() == 0
    assert "dry run: no credentials are read and nothing is sent" in out.splitlines()
    assert section(out, "a real run would send", "ledger:") == [
        f"a real run would send {len(tags) + 4} request(s): {len(tags)} read(s) of "
        "a key's versions, then at most 4 enable(s) (none for versions the reads "
        "find ENABLE):",
        *(f"  GET /kms/v1/keys/{tag}/versions" for tag in tags),
        *(f"  POST /kms/v1/keys/{tag}/versions/{v}/enable" for tag, v in pairs),
        f"ledger: {tmp_path / 'l.sqlite'}",
    ]


def test_dry_run_without_precheck_lists_only_enables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--no-precheck: one enable per target, on the chosen site's path."""
    path = targets_csv(tmp_path, [("key-a", 3), ("key-b", 1)])
    without_credentials(monkeypatch, tmp_path)

    status = main(["run", "--targets", str(path), "--dry-run", "--no-precheck",
                   "--ledger", str(tmp_path / "l.sqlite"),
                   "--site", "gov"])  # fmt: skip

    assert status == 0
    assert section(
        capsys.readouterr().out, "a real run", "  POST /kms/v1/keys/key-b"
    ) == [
        "a real run would send 2 enable(s) (precheck off):",
        "  POST /kms/v1/keys/key-a/versions/3/enable",
        "  POST /kms/v1/keys/key-b/versions/1/enable",
    ]


def test_dry_run_of_many_targets_shows_the_first_and_counts_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Past DRY_RUN_SHOWN requests the list ends with how many more there are."""
    rows = [(f"key-{n // 10}", n % 10 + 1) for n in range(70)]  # 7 keys, 70 enables
    ledger = tmp_path / "l.sqlite"
    without_credentials(monkeypatch, tmp_path)

    main(["run", "--targets", str(targets_csv(tmp_path, rows)), "--dry-run",
          "--ledger", str(ledger)])  # fmt: skip

    shown = section(capsys.readouterr().out, "a real run", "  ... and")
    assert len(shown) == 1 + bulk_cli.DRY_RUN_SHOWN + 1
    assert shown[1:8] == [f"  GET /kms/v1/keys/key-{n}/versions" for n in range(7)]
    assert shown[8] == "  POST /kms/v1/keys/key-0/versions/1/enable"
    assert shown[-1] == (
        f"  ... and {77 - bulk_cli.DRY_RUN_SHOWN} more (every enable is in the "
        f"message column of: kms-toolkit report {ledger} --out FILE.csv)"
    )


def test_dry_run_report_has_a_table_of_the_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The HTML report of a dry run lists every request in sending order."""
    path = targets_csv(tmp_path, [("key-a", 3), ("key-b", 1), ("key-a", 4)])
    report = tmp_path / "dry.html"
    without_credentials(monkeypatch, tmp_path)

    main(["run", "--targets", str(path), "--dry-run", "--ledger",
          str(tmp_path / "l.sqlite"), "--report", str(report)])  # fmt: skip

    page = report.read_text(encoding="utf-8")
    table = page[page.index("<h2>Requests a real run would send (5)</h2>") :]
    table = table[: table.index("</table>")]
    cells = re.findall(r"<td>(.*?)</td>", table)
    assert [tuple(cells[i : i + 2]) for i in range(0, len(cells), 3)] == [
        ("GET", "/kms/v1/keys/key-a/versions"),
        ("GET", "/kms/v1/keys/key-b/versions"),
        ("POST", "/kms/v1/keys/key-a/versions/3/enable"),
        ("POST", "/kms/v1/keys/key-b/versions/1/enable"),
        ("POST", "/kms/v1/keys/key-a/versions/4/enable"),
    ]
    assert "Dry run: nothing was sent; 3 of 3 target(s) would be enabled" in page


# Plans handed back to run.


def test_run_of_a_whole_plan_enables_only_its_enable_rows(
    emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """plan --all writes skip rows too; run leaves them out and says why."""
    plan, ledger = tmp_path / "plan.csv", tmp_path / "l.sqlite"
    main(["plan", "--all", "--out", str(plan), "--endpoint", emulator.url])
    capsys.readouterr()

    status = main(["run", "--targets", str(plan), "--ledger", str(ledger),
                   "--endpoint", emulator.url])  # fmt: skip

    out = capsys.readouterr().out
    assert status == 0
    assert section(out, "targets:", "    1 skip: key is REVOKE") == [
        f"targets: 8 from {plan}",
        "  left out 22 row(s) whose action is not enable:",
        "    20 skip: already enabled",
        "    1 skip: key is DISABLE: NCP does not enable versions of such keys",
        "    1 skip: key is REVOKE: NCP does not enable versions of such keys",
    ]
    assert emulator.state.disabled_versions(enabled_keys_only=True) == []


def test_skip_invalid_does_not_turn_skip_rows_into_targets(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """With --skip-invalid, a whole plan still runs only its 8 enable rows."""
    plan, ledger = tmp_path / "plan.csv", tmp_path / "l.sqlite"
    main(["plan", "--all", "--out", str(plan), "--endpoint", emulator.url])

    status = main(["run", "--targets", str(plan), "--skip-invalid", "--ledger",
                   str(ledger), "--endpoint", emulator.url])  # fmt: skip

    outcomes = results_frame(ledger)["outcome"].value_counts()
    assert status == 0
    assert outcomes[outcomes > 0].to_dict() == {"enabled": 8}


# Exit statuses.


def test_a_real_run_without_credentials_exits_3_and_sends_nothing(
    emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Missing credentials exit 3, as refused ones do; no request, no ledger."""
    path = targets_csv(tmp_path, [("key-a", 1)])
    ledger = tmp_path / "l.sqlite"
    without_credentials(monkeypatch, tmp_path)

    status = main(["run", "--targets", str(path), "--ledger", str(ledger),
                   "--endpoint", emulator.url])  # fmt: skip

    err = capsys.readouterr().err
    assert status == 3
    assert err.startswith("kms-toolkit: error: no usable NCP credentials: ")
    assert err.rstrip().endswith(
        "; a real run needs them (a --dry-run does not); nothing was sent"
    )
    assert emulator.counters.requests() == 0
    assert not ledger.exists()


def test_a_real_run_with_a_malformed_secret_exits_3_and_sends_nothing(
    emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A secret that cannot be a key (a space in it) exits 3; no request, no ledger."""
    path = targets_csv(tmp_path, [("key-a", 1)])
    ledger = tmp_path / "l.sqlite"
    monkeypatch.setenv("NCLOUD_SECRET_ACCESS_KEY", "not a secret")

    status = main(["run", "--targets", str(path), "--ledger", str(ledger),
                   "--endpoint", emulator.url])  # fmt: skip

    err = capsys.readouterr().err
    assert status == 3
    assert "NCLOUD_SECRET_ACCESS_KEY has a space" in err
    assert err.rstrip().endswith("nothing was sent")
    assert emulator.counters.requests() == 0
    assert not ledger.exists()


def test_resume_without_credentials_exits_3(
    emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """resume needs credentials as run does; without them: exit 3, nothing sent,
    and no mention of a --dry-run, which resume does not have."""
    ledger = tmp_path / "l.sqlite"
    tag, version = emulator.state.disabled_versions(enabled_keys_only=True)[0]
    main(["run", "--targets", str(targets_csv(tmp_path, [(tag, version)])),
          "--ledger", str(ledger), "--endpoint", emulator.url])  # fmt: skip
    before = emulator.counters.requests()
    without_credentials(monkeypatch, tmp_path)
    capsys.readouterr()

    assert main(["resume", str(ledger), "--endpoint", emulator.url]) == 3
    assert emulator.counters.requests() == before
    err = capsys.readouterr().err
    assert err.rstrip().endswith("; resume needs them; nothing was sent")
    assert "--dry-run" not in err


def test_a_run_stopped_by_authentication_says_how_to_resume_and_exits_3(
    emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A wrong secret with --no-precheck: the message names the error, the count
    left not run and the resume, which with the right secret finishes: exit 0."""
    pairs = emulator.state.disabled_versions(enabled_keys_only=True)[:3]
    ledger = tmp_path / "l.sqlite"
    monkeypatch.setenv("NCLOUD_SECRET_ACCESS_KEY", "not-the-secret")

    status = main(["run", "--targets", str(targets_csv(tmp_path, list(pairs))),
                   "--no-precheck", "--concurrency", "1", "--ledger", str(ledger),
                   "--endpoint", emulator.url])  # fmt: skip
    err = capsys.readouterr().err
    monkeypatch.setenv("NCLOUD_SECRET_ACCESS_KEY", emulator.credentials.secret_key)
    resumed = main(["resume", str(ledger), "--endpoint", emulator.url])

    assert status == 3
    assert err.splitlines()[0].startswith(
        "kms-toolkit: error: the run stopped: enableKeyVersion: HTTP 401 errorCode 200"
    )
    assert err.splitlines()[1:] == [
        "  3 target(s) were left not run. Fix the credentials or the permission, "
        "then finish the run with:",
        f"  kms-toolkit resume {ledger}",
    ]
    assert resumed == 0
    assert set(pairs).isdisjoint(emulator.state.disabled_versions())


def test_wrong_credentials_stop_the_run_and_exit_3(
    emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A secret the gateway refuses stops the run: exit 3, the rest not sent."""
    pairs = emulator.state.disabled_versions(enabled_keys_only=True)
    monkeypatch.setenv("NCLOUD_SECRET_ACCESS_KEY", "not-the-secret")
    ledger = tmp_path / "l.sqlite"

    status = main(["run", "--targets", str(targets_csv(tmp_path, list(pairs))),
                   "--ledger", str(ledger), "--endpoint", emulator.url])  # fmt: skip

    err = capsys.readouterr().err
    assert status == 3
    assert "kms-toolkit: error: the run stopped: " in err
    assert f"  kms-toolkit resume {ledger}" in err.splitlines()
    assert enable_requests(emulator) < len(pairs)


def test_run_help_documents_every_exit_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """run --help and resume --help list 0, 1, 2, 3 and 130."""
    for command in ("run", "resume"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert bulk_cli.RUN_EXIT_STATUSES in text


def help_text(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    """A subcommand's --help, its whitespace collapsed."""
    with pytest.raises(SystemExit) as stopped:
        main([command, "--help"])
    assert stopped.value.code == 0
    return " ".join(capsys.readouterr().out.split())


def test_run_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    """run --help states the default concurrency, attempts and pacing."""
    text = help_text("run", capsys)

    assert "requests in flight at most (default: 32)" in text
    assert "tries per target for retryable failures (default: 5)" in text
    assert "(default: unpaced until the first 429, then adaptive)" in text


def test_plan_and_report_help_list_their_exit_statuses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """plan --help names the credentials and statuses; report --help its own."""
    plan = help_text("plan", capsys)
    report = help_text("report", capsys)

    assert bulk_cli.PLAN_EXIT_STATUSES in plan
    assert "Credentials come from NCLOUD_ACCESS_KEY_ID" in plan
    assert report.startswith("usage: kms-toolkit report")
    assert "exit status: 0 written; 2 an" in report
    assert "LEDGER missing or not a run ledger" in report
    assert "the run's SQLite ledger" in report


# Option checks, before anything is sent.


RATE_ERROR = "must be a positive, finite number of requests per second"
COUNT_ERROR = "must be an integer of 1 or more"


@pytest.mark.parametrize(
    ("option", "value", "wanted"),
    [
        ("--rate-limit", "-1", RATE_ERROR),
        ("--rate-limit", "0", RATE_ERROR),
        ("--rate-limit", "nan", RATE_ERROR),
        ("--rate-limit", "inf", RATE_ERROR),
        ("--rate-limit", "1e999", RATE_ERROR),
        ("--rate-limit", "fast", RATE_ERROR),
        ("--concurrency", "0", COUNT_ERROR),
        ("--concurrency", "-3", COUNT_ERROR),
        ("--concurrency", "2.5", COUNT_ERROR),
    ],
)
@pytest.mark.parametrize("command", ["plan", "run", "resume"])
def test_bad_pace_options_are_usage_errors(
    command: str,
    option: str,
    value: str,
    wanted: str,
    emulator: RunningEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Negative, zero, nan, inf or text: argparse's error and exit 2, no traceback."""
    where = {
        "plan": ["plan", "--out", str(tmp_path / "p.csv")],
        "run": ["run", "--targets", str(targets_csv(tmp_path, [("key-a", 1)]))],
        "resume": ["resume", str(tmp_path / "l.sqlite")],
    }[command]

    with pytest.raises(SystemExit) as stopped:
        main([*where, option, value, "--endpoint", emulator.url])

    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert f"error: argument {option}: {wanted}, not '{value}'" in err
    assert "Traceback" not in err
    assert emulator.counters.requests() == 0


@pytest.fixture
def stamina_logger() -> Iterator[logging.Logger]:
    """stamina's logger at its default level, restored afterwards."""
    logger = logging.getLogger("stamina")
    level = logger.level
    logger.setLevel(logging.NOTSET)
    yield logger
    logger.setLevel(level)


def test_plan_keeps_retry_logs_quiet_like_run(
    emulator: RunningEmulator,
    tmp_path: Path,
    stamina_logger: logging.Logger,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A flaky endpoint's retries are not logged one by one on stderr."""
    emulator.schedule(Fault.ENDPOINT_ERROR, operation="getKeyList", times=2)

    status = main(["plan", "--out", str(tmp_path / "p.csv"), "--endpoint",
                   emulator.url])  # fmt: skip

    assert status == 0
    assert emulator.counters.requests(operation="getKeyList") == 3
    assert [r.getMessage() for r in caplog.records if r.name == "stamina"] == []


# Hostile targets files.


def test_bad_rows_are_listed_one_per_line_with_a_count_of_the_rest(
    emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """25 bad rows: the first 20 each on a line, then how many more; exit 2."""
    path = tmp_path / "bad.csv"
    path.write_text("key_tag,version\n" + "".join(f"k{n},-{n}\n" for n in range(25)))

    status = main(["run", "--targets", str(path), "--endpoint", emulator.url])

    assert status == 2
    assert capsys.readouterr().err.splitlines() == [
        f"kms-toolkit: error: 25 invalid target(s) in {path}; nothing was sent:",
        "  line 2: key version 0 is out of range: NCP key versions run from 1 to 100",
        *(
            f"  line {n + 2}: key version -{n} is out of range: NCP key versions "
            "run from 1 to 100"
            for n in range(1, 20)
        ),
        "  ... and 5 more",
    ]
    assert emulator.counters.requests() == 0


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("key_tag,version\n", "no targets in {path}: it has no data rows"),
        ("key_tag,version\n\n  \n", "no targets in {path}: it has no data rows"),
        (
            "key_tag,version,action\nk,1,skip\n",
            "no targets in {path}: all 1 row(s) have an action other than enable",
        ),
        ("key_tag,version,key_tag\nk,1,j\n", "the header names key_tag more than once"),
        ('key_tag,version\nk,1\n"k,2\n', "{path} line 3: CSV syntax error"),
        ("key_tag,version\nk,\n", "line 2: key version is missing"),
    ],
)
def test_unusable_targets_files_exit_2_with_a_clear_message(
    text: str,
    wanted: str,
    emulator: RunningEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Header only, only skip rows, a repeated column, a broken quote: exit 2."""
    path = tmp_path / "targets.csv"
    path.write_text(text, encoding="utf-8")

    status = main(["run", "--targets", str(path), "--endpoint", emulator.url])

    captured = capsys.readouterr()
    assert status == 2
    assert wanted.format(path=path) in captured.err
    assert "Empty DataFrame" not in captured.out
    assert emulator.counters.requests() == 0


def test_duplicates_are_counted_in_the_output(
    emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Repeated rows collapse into one target each, and the output says how many."""
    tag, version = emulator.state.disabled_versions(enabled_keys_only=True)[0]
    path = targets_csv(tmp_path, [(tag, version), (tag, version), (tag, f" {version}")])

    status = main(["run", "--targets", str(path), "--ledger",
                   str(tmp_path / "l.sqlite"), "--endpoint", emulator.url])  # fmt: skip

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[:2] == [f"targets: 1 from {path}", "  collapsed 2 duplicate row(s)"]
    assert emulator.counters.enables(tag, version) == 1


def test_skipped_bad_rows_are_listed_in_the_output(
    emulator: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--skip-invalid runs the rest and lists what it rejected, one per line."""
    tag, version = emulator.state.disabled_versions(enabled_keys_only=True)[0]
    path = targets_csv(tmp_path, [(tag, version), ("bad/tag", 1), (tag, 0)])

    main(["run", "--targets", str(path), "--skip-invalid", "--ledger",
          str(tmp_path / "l.sqlite"), "--endpoint", emulator.url])  # fmt: skip

    assert capsys.readouterr().out.splitlines()[:4] == [
        f"targets: 1 from {path}",
        "  rejected 2 invalid row(s); they are recorded, not sent:",
        "    line 3: key tag 'bad/tag' contains '/'; NCP key tags hold only ASCII "
        "letters, digits, '-' and '_'",
        "    line 4: key version 0 is out of range: NCP key versions run from 1 to 100",
    ]


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests and answers none: nothing should reach it."""

    def __init__(self) -> None:
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(500)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=hostile_csv(min_bad=1))
def test_hostile_targets_files_exit_2_and_send_nothing(
    generated: HostileCsv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """run --targets on any CSV with a bad row: exit 2, zero requests, no ledger."""
    transport = CountingTransport()

    def counting_client(args: Any, **kwargs: Any) -> AsyncKmsClient:
        return AsyncKmsClient(
            Credentials("AK", "canary-secret"),
            endpoint="http://127.0.0.1:9/kms/v1",
            transport=transport,
        )

    monkeypatch.setattr(bulk_cli, "async_client_from_args", counting_client)
    path = tmp_path / "hostile.csv"
    path.write_text(generated.text, encoding="utf-8")
    ledger = tmp_path / "never.sqlite"

    status = main(["run", "--targets", str(path), "--ledger", str(ledger)])

    err = capsys.readouterr().err
    bad = sum(row.target is None for _, row in generated.rows)
    assert status == 2
    assert transport.requests == 0
    assert not ledger.exists()
    assert err.splitlines()[0] == (
        f"kms-toolkit: error: {bad} invalid target(s) in {path}; nothing was sent:"
    )
    assert len(err.splitlines()) == 1 + min(bad, 20) + (bad > 20)


def test_exit_status_of_a_stopped_run_is_3() -> None:
    """exit_status_of reads fatal_error: set, the status is 3 instead of 1."""
    refused = AuthenticationError(status_code=401)
    unfinished = RunResult(
        run_id="run-1",
        ledger_path=Path("l.sqlite"),
        dry_run=False,
        cancelled=True,
        counts={Outcome.NOT_RUN: 2},
        total=2,
    )

    assert bulk_cli.exit_status_of(unfinished) == 1
    assert bulk_cli.exit_status_of(replace(unfinished, fatal_error=refused)) == 3
