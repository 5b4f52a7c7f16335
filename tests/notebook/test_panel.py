"""The remediation panel, driven like a user does: set widgets, click buttons.

Each test runs against a demo emulator on the loopback and asserts on widget
state (buttons, counts, tables) and on the emulator's own state.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kms_toolkit.bulk import Outcome
from kms_toolkit.client import AsyncKmsClient, KmsClient
from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator import Fault, RunningEmulator, serve
from kms_toolkit.errors import AuthenticationError, PermissionDeniedError
from kms_toolkit.notebook import RemediationPanel, remediation_panel
from kms_toolkit.notebook.panel import (
    FIX_CREDENTIALS,
    FIX_PERMISSION,
    RESUME_NEEDS_REAL_RUN,
    TABLE_ROW_LIMIT,
)

Demo = tuple[RunningEmulator, AsyncKmsClient]


@pytest.fixture
async def demo() -> AsyncIterator[Demo]:
    """A demo emulator and an async client to it, both closed afterwards."""
    with serve(dataset="demo") as emulator:
        client = AsyncKmsClient(emulator.credentials, endpoint=emulator.url)
        try:
            yield emulator, client
        finally:
            await client.aclose()


async def opened(demo: Demo, tmp_path: Path) -> RemediationPanel:
    """A panel on the demo client whose discovery has finished."""
    panel = remediation_panel(demo[1], output_dir=tmp_path / "out")
    await panel.wait()
    return panel


async def click_and_wait(panel: RemediationPanel, button: object) -> None:
    """Click a panel button and wait for the step it started."""
    button.click()  # type: ignore[attr-defined]
    await panel.wait()


async def stopped_real_run(panel: RemediationPanel) -> None:
    """Untick Dry run, click Run, click Stop at once and wait for the run to end."""
    panel.dry_run.value = False
    panel.run_button.click()
    panel.stop_button.click()
    await panel.wait()


def column(table: str, name: str) -> list[str]:
    """The text of each body cell in the column ``name`` of a panel table."""
    headers = re.findall(r"<th[^>]*>(.*?)</th>", table)
    index = headers.index(name)
    rows = re.findall(r"<tr>(<td.*?)</tr>", table)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row)[index] for row in rows]
    return [re.sub(r"<[^>]+>", "", cell) for cell in cells]


async def test_opening_selects_every_disabled_version_of_enabled_keys(
    demo: Demo, tmp_path: Path
) -> None:
    """Discovery preselects exactly the versions NCP would let us enable."""
    emulator, _ = demo

    panel = await opened(demo, tmp_path)

    expected = emulator.state.count_disabled_versions(enabled_keys_only=True)
    assert len(panel.targets.value) == expected == len(panel.targets.options)
    assert panel.error_area.value == ""
    assert f"{expected} disabled versions can be enabled" in panel.status_line.value
    assert not panel.run_button.disabled
    assert panel.stop_button.disabled
    assert panel.resume_button.disabled
    assert panel.save_report_button.disabled


async def test_version_filters_narrow_the_versions_table(
    demo: Demo, tmp_path: Path
) -> None:
    """The status and action toggles filter the versions table."""
    panel = await opened(demo, tmp_path)

    everything = column(panel.versions_table.value, "version_status")
    panel.version_filter.value = "ENABLE"
    enabled_only = column(panel.versions_table.value, "version_status")
    panel.version_filter.value = "all"
    panel.action_filter.value = "enable"
    to_enable = column(panel.versions_table.value, "action")

    assert {"ENABLE", "DISABLE"} <= set(everything)
    assert enabled_only == ["ENABLE"] * everything.count("ENABLE")
    assert to_enable == ["enable"] * len(panel.targets.options)


async def test_dry_run_sends_no_enable_and_shows_dry_run_counts(
    demo: Demo, tmp_path: Path
) -> None:
    """The default dry run changes nothing and counts every target as dry_run."""
    emulator, _ = demo
    panel = await opened(demo, tmp_path)
    before = emulator.state.count_disabled_versions()
    plan = panel.session.plan

    await click_and_wait(panel, panel.run_button)

    selected = len(panel.targets.value)
    assert panel.session.plan is plan  # nothing changed, so nothing is re-read
    assert emulator.state.count_disabled_versions() == before
    assert emulator.counters.enabled_targets() == {}
    assert panel.session.outcome_counts()[Outcome.DRY_RUN] == selected
    assert f">dry_run</span> {selected}" in panel.results_table.value
    assert "dry run: nothing was changed" in panel.status_line.value
    assert panel.resume_button.disabled
    assert not panel.save_csv_button.disabled


async def test_run_enables_only_the_picked_targets(demo: Demo, tmp_path: Path) -> None:
    """Unpicking one target leaves exactly that version disabled."""
    emulator, _ = demo
    panel = await opened(demo, tmp_path)
    left_out, *picked = panel.targets.value
    panel.targets.value = tuple(picked)
    panel.dry_run.value = False
    panel.concurrency.value = 4

    await click_and_wait(panel, panel.run_button)

    remaining = emulator.state.disabled_versions(enabled_keys_only=True)
    assert [(t, v) for t, v, *_ in remaining] == [tuple(left_out)]
    assert panel.progress_bar.value == panel.progress_bar.max == len(picked)
    assert f">enabled</span> {len(picked)}" in panel.progress_label.value
    panel.outcome_filter.value = "enabled"
    assert f"{len(picked)} of {len(picked)} rows shown" in panel.results_table.value
    assert bytes(panel.chart.value).startswith(b"\x89PNG")


async def test_a_real_run_reads_the_versions_again(demo: Demo, tmp_path: Path) -> None:
    """After a real run the versions table and targets show the new state."""
    emulator, _ = demo
    panel = await opened(demo, tmp_path)
    labels = {target: label for label, target in panel.targets.options}
    left_out, *picked = panel.targets.value
    panel.targets.value = tuple(picked)
    panel.dry_run.value = False

    await click_and_wait(panel, panel.run_button)

    table = panel.versions_table.value
    rows = zip(
        column(table, "key_tag"),
        column(table, "version"),
        column(table, "version_status"),
        column(table, "action"),
        strict=True,
    )
    shown = {
        (tag, int(version)): (status, action)
        for tag, version, status, action in rows
        if version.isdigit()  # a disabled key's row has no version
    }
    assert all(shown[tuple(target)] == ("ENABLE", "skip") for target in picked)
    assert shown[tuple(left_out)] == ("DISABLE", "enable")
    assert panel.targets.options == ((labels[left_out], left_out),)
    assert panel.targets.value == (left_out,)
    assert "1 disabled version(s) left to enable" in panel.status_line.value
    assert emulator.state.count_disabled_versions(enabled_keys_only=True) == 1


async def test_the_versions_table_shows_at_most_the_row_limit(tmp_path: Path) -> None:
    """A plan longer than the limit shows its first rows and how many there are."""
    with serve(dataset="synthetic", keys=30, versions_per_key=10) as emulator:
        client = AsyncKmsClient(emulator.credentials, endpoint=emulator.url)
        try:
            panel = await opened((emulator, client), tmp_path)
        finally:
            await client.aclose()

    plan_rows = len(panel.session.versions())
    table = panel.versions_table.value
    assert plan_rows > TABLE_ROW_LIMIT
    assert len(column(table, "key_tag")) == TABLE_ROW_LIMIT
    assert f"{TABLE_ROW_LIMIT} of {plan_rows} rows shown" in table
    panel.action_filter.value = "enable"
    to_enable = len(panel.session.versions(actions=["enable"]))
    assert f"{min(to_enable, TABLE_ROW_LIMIT)} of {to_enable} rows shown" in (
        panel.versions_table.value
    )


async def test_failures_are_filtered_by_outcome_and_error_code(
    demo: Demo, tmp_path: Path
) -> None:
    """A target NCP refuses shows under failed and under its error code only."""
    emulator, _ = demo
    panel = await opened(demo, tmp_path)
    tag, version = panel.targets.value[0]
    others = len(panel.targets.value) - 1
    emulator.schedule(
        Fault.BAD_REQUEST, operation="enableKeyVersion", key_tag=tag, version=version
    )
    panel.dry_run.value = False

    await click_and_wait(panel, panel.run_button)

    assert "100" in panel.error_code_filter.options
    panel.error_code_filter.value = "100"
    assert "1 of 1 rows shown" in panel.results_table.value
    assert tag in panel.results_table.value
    panel.error_code_filter.value = "all"
    panel.outcome_filter.value = "enabled"
    assert f"{others} of {others} rows shown" in panel.results_table.value
    assert ">failed</span> 1" in panel.results_table.value


async def test_stop_keeps_what_finished_and_resume_completes(
    demo: Demo, tmp_path: Path
) -> None:
    """Stop ends the run with some targets not run; Resume enables the rest."""
    emulator, _ = demo
    emulator.configure(latency_ms=150)
    panel = await opened(demo, tmp_path)
    total = len(panel.targets.value)
    panel.dry_run.value = False
    panel.concurrency.value = 1

    panel.run_button.click()
    for _ in range(400):  # bounded: at most about 20 s
        progress = panel.session.progress
        if progress is not None and progress.done >= 1:
            break
        await asyncio.sleep(0.05)
    assert not panel.stop_button.disabled
    panel.stop_button.click()
    await panel.wait()

    stopped = panel.session.outcome_counts()
    assert panel.session.run_result is not None
    assert panel.session.run_result.cancelled
    assert 1 <= stopped[Outcome.ENABLED] < total
    assert stopped[Outcome.NOT_RUN] == total - stopped[Outcome.ENABLED]
    assert "Resume finishes it" in panel.status_line.value
    assert not panel.resume_button.disabled

    emulator.configure(latency_ms=0)
    await click_and_wait(panel, panel.resume_button)

    assert emulator.state.count_disabled_versions(enabled_keys_only=True) == 0
    assert panel.session.outcome_counts()[Outcome.NOT_RUN] == 0
    assert panel.resume_button.disabled
    assert panel.error_area.value == ""
    assert panel.targets.options == ()
    assert "enable" not in column(panel.versions_table.value, "action")


async def test_stop_is_enabled_the_moment_a_run_starts(
    demo: Demo, tmp_path: Path
) -> None:
    """Stop works before the run's task has even started: nothing is enabled."""
    emulator, _ = demo
    panel = await opened(demo, tmp_path)
    total = len(panel.targets.value)
    panel.dry_run.value = False
    assert panel.stop_button.disabled

    panel.run_button.click()
    stoppable_at_once = not panel.stop_button.disabled
    panel.stop_button.click()
    stop_after_click = panel.stop_button.disabled
    await panel.wait()

    assert stoppable_at_once
    assert stop_after_click
    assert panel.session.outcome_counts()[Outcome.NOT_RUN] == total
    assert emulator.counters.requests("enableKeyVersion") == 0
    assert panel.stop_button.disabled
    assert panel.errors == []


async def test_resume_is_disabled_while_dry_run_is_ticked(
    demo: Demo, tmp_path: Path
) -> None:
    """Ticking Dry run after a stopped run disables Resume and says why."""
    panel = await opened(demo, tmp_path)
    await stopped_real_run(panel)
    assert not panel.resume_button.disabled
    assert panel.resume_hint.value == ""

    panel.dry_run.value = True

    assert panel.resume_button.disabled
    assert panel.resume_button.tooltip == RESUME_NEEDS_REAL_RUN
    assert "Untick Dry run to resume" in panel.resume_hint.value
    panel.dry_run.value = False
    assert not panel.resume_button.disabled
    assert panel.resume_hint.value == ""


async def test_resume_with_dry_run_ticked_sends_nothing_even_if_clicked(
    demo: Demo, tmp_path: Path
) -> None:
    """A resume forced past the disabled button is refused: no enable is sent."""
    emulator, _ = demo
    panel = await opened(demo, tmp_path)
    await stopped_real_run(panel)
    panel.dry_run.value = True
    assert panel.resume_button.disabled

    await click_and_wait(panel, panel.resume_button)

    assert emulator.counters.requests("enableKeyVersion") == 0
    assert "InvalidInputError" in panel.error_area.value
    assert "turn dry run off to resume" in panel.error_area.value
    panel.dry_run.value = False
    await click_and_wait(panel, panel.resume_button)
    assert emulator.state.count_disabled_versions(enabled_keys_only=True) == 0


async def test_save_buttons_write_report_and_csv_into_the_folder(
    demo: Demo, tmp_path: Path
) -> None:
    """The save buttons write an HTML report and a CSV and show where."""
    panel = await opened(demo, tmp_path)
    await click_and_wait(panel, panel.run_button)

    panel.save_report_button.click()
    report_label = panel.saved_label.value
    panel.save_csv_button.click()
    csv_label = panel.saved_label.value

    reports = list((tmp_path / "out").glob("report-*.html"))
    tables = list((tmp_path / "out").glob("results-*.csv"))
    assert len(reports) == len(tables) == 1
    assert str(reports[0]) in report_label
    assert str(tables[0]) in csv_label
    assert "dry_run" in tables[0].read_text(encoding="utf-8")


async def test_a_failing_click_shows_its_error_in_the_panel(
    demo: Demo, tmp_path: Path
) -> None:
    """Resume forced before any run reports why in the error area, not in a log."""
    panel = await opened(demo, tmp_path)
    assert panel.resume_button.disabled

    await click_and_wait(panel, panel.resume_button)

    assert "InvalidInputError" in panel.error_area.value
    assert "there is no run to resume" in panel.error_area.value


async def test_a_failing_background_step_shows_its_error_in_the_panel(
    demo: Demo, tmp_path: Path
) -> None:
    """Discovery against a stopped server shows the transport error."""
    emulator, _ = demo
    panel = await opened(demo, tmp_path)
    emulator.stop()

    await click_and_wait(panel, panel.discover_button)

    assert "<b>TransportError</b>: getKeyList: no HTTP answer" in panel.error_area.value
    assert "failed" in panel.status_line.value
    assert not panel.discover_button.disabled


async def test_errors_pile_up_newest_first_until_cleared(
    demo: Demo, tmp_path: Path
) -> None:
    """A later error or a later step never hides an earlier error; Clear does."""
    panel = await opened(demo, tmp_path)
    assert panel.clear_errors_button.disabled
    await click_and_wait(panel, panel.resume_button)
    panel.targets.value = ()
    await click_and_wait(panel, panel.run_button)

    await click_and_wait(panel, panel.discover_button)

    shown = panel.error_area.value
    assert "2 error(s), newest first" in shown
    assert shown.index("no targets are selected") < shown.index("no run to resume")
    assert not panel.clear_errors_button.disabled
    panel.clear_errors_button.click()
    assert panel.error_area.value == ""
    assert panel.errors == []
    assert panel.clear_errors_button.disabled


async def test_a_cancelled_step_says_so_and_frees_the_panel(
    demo: Demo, tmp_path: Path
) -> None:
    """Cancelling the panel's task leaves a status that says so and usable buttons."""
    emulator, _ = demo
    panel = await opened(demo, tmp_path)
    emulator.configure(latency_ms=100)
    panel.discover_button.click()
    await asyncio.sleep(0)  # the step starts and waits for its first answer
    assert panel.discover_button.disabled
    assert panel.task is not None

    panel.task.cancel()
    await panel.wait()

    assert panel.task.cancelled()
    assert "cancelled" in panel.status_line.value
    assert not panel.discover_button.disabled
    assert not panel.run_button.disabled
    assert panel.error_area.value == ""


async def test_a_step_cancelled_before_it_starts_frees_the_panel(
    demo: Demo, tmp_path: Path
) -> None:
    """A task cancelled before its first step still frees every button."""
    panel = await opened(demo, tmp_path)
    panel.run_button.click()
    assert panel.task is not None
    assert not panel.stop_button.disabled

    panel.task.cancel()  # before the loop ever runs the task
    await panel.wait()

    assert panel.task.cancelled()
    assert "cancelled" in panel.status_line.value
    assert panel.stop_button.disabled
    assert not panel.discover_button.disabled
    assert not panel.run_button.disabled
    await click_and_wait(panel, panel.run_button)
    assert panel.errors == []
    assert panel.session.outcome_counts()[Outcome.DRY_RUN] == len(panel.targets.value)


async def test_a_refused_permission_stops_the_run_and_says_what_to_fix(
    demo: Demo, tmp_path: Path
) -> None:
    """403/230 stops the run; the panel says to fix the permission, then Resume."""
    emulator, _ = demo
    panel = await opened(demo, tmp_path)
    total = len(panel.targets.value)
    # Only the first enable is refused: the permission is granted right after.
    emulator.schedule(Fault.FORBIDDEN, operation="enableKeyVersion")
    panel.dry_run.value = False
    panel.concurrency.value = 1

    await click_and_wait(panel, panel.run_button)

    run = panel.session.run_result
    assert run is not None
    assert isinstance(run.fatal_error, PermissionDeniedError)
    assert emulator.counters.requests("enableKeyVersion") == 1
    assert panel.session.outcome_counts()[Outcome.NOT_RUN] >= total - 1
    assert panel.errors == [run.fatal_error]
    assert "<b>PermissionDeniedError</b>" in panel.error_area.value
    assert FIX_PERMISSION in panel.error_area.value
    assert FIX_PERMISSION in panel.status_line.value
    assert "Resume finishes it" not in panel.status_line.value
    assert not panel.resume_button.disabled

    await click_and_wait(panel, panel.resume_button)

    resumed = panel.session.run_result
    assert resumed is not None
    assert resumed.fatal_error is None
    assert panel.session.outcome_counts()[Outcome.NOT_RUN] == 0
    failed = panel.session.outcome_counts()[Outcome.FAILED]
    assert emulator.state.count_disabled_versions(enabled_keys_only=True) == failed
    assert "finished" in panel.status_line.value
    assert panel.resume_button.disabled


async def test_refused_credentials_stop_the_run_and_say_to_fix_them(
    demo: Demo, tmp_path: Path
) -> None:
    """Credentials refused after discovery (401/200): fix them, then Resume."""
    emulator, client = demo
    panel = await opened(demo, tmp_path)
    access_key = emulator.credentials.access_key
    wrong = AsyncKmsClient(
        Credentials(access_key, "not-the-secret"), endpoint=emulator.url
    )
    panel.session.client = wrong
    panel.dry_run.value = False
    try:
        await click_and_wait(panel, panel.run_button)
    finally:
        await wrong.aclose()

    run = panel.session.run_result
    assert run is not None
    assert isinstance(run.fatal_error, AuthenticationError)
    assert run.fatal_error.error_code == "200"
    assert emulator.counters.requests("enableKeyVersion") == 0
    assert "<b>AuthenticationError</b>" in panel.error_area.value
    assert FIX_CREDENTIALS in panel.error_area.value
    assert FIX_CREDENTIALS in panel.status_line.value
    assert not panel.resume_button.disabled

    panel.session.client = client
    await click_and_wait(panel, panel.resume_button)

    assert emulator.state.count_disabled_versions(enabled_keys_only=True) == 0
    assert panel.errors == [run.fatal_error]  # listed until cleared


async def test_bad_options_are_refused_before_a_run(demo: Demo, tmp_path: Path) -> None:
    """No targets picked: Run is disabled, and a forced click says what is missing."""
    emulator, _ = demo
    panel = await opened(demo, tmp_path)
    panel.targets.value = ()
    assert panel.run_button.disabled

    await click_and_wait(panel, panel.run_button)

    assert "no targets are selected" in panel.error_area.value
    assert emulator.counters.requests("enableKeyVersion") == 0


def test_a_sync_client_is_refused_with_the_reason(tmp_path: Path) -> None:
    """The panel needs the async client; a KmsClient gets a clear TypeError."""
    client = KmsClient(Credentials("AK", "SK"), endpoint="http://127.0.0.1:9/kms/v1")
    try:
        with pytest.raises(
            TypeError, match=r"needs an AsyncKmsClient .* got KmsClient"
        ):
            remediation_panel(client, output_dir=tmp_path)
    finally:
        client.close()
