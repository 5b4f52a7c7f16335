"""The remediation panel: an ipywidgets front end over ``RemediationSession``.

The panel is thin: every button hands its work to the session. Work that
talks to the API runs as an asyncio task on the loop the kernel already runs
(never ``asyncio.run``), so the notebook stays responsive and a Stop button
can end a run. Any exception a callback raises lands in the panel's error
area, never lost in a log; errors stay listed until the user clears them.
A run that NCP stopped by refusing the credentials or a permission
(``RunResult.fatal_error``) shows that error there too, with what to fix
before Resume finishes the run.

Example:
    >>> from kms_toolkit.notebook import connect, remediation_panel
    >>> kms = connect()  # doctest: +SKIP
    >>> remediation_panel(kms)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import ipywidgets as widgets
import pandas as pd

from kms_toolkit.bulk import Outcome, Progress
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.errors import ApiError, AuthenticationError
from kms_toolkit.notebook.display import (
    html_table,
    outcome_chart_png,
    scroll_box,
    status_badge,
)
from kms_toolkit.notebook.remediation_session import (
    MAX_CONCURRENCY,
    RemediationSession,
    RunOptions,
)

__all__ = ["RemediationPanel", "remediation_panel"]

logger = logging.getLogger(__name__)

#: The most result rows the panel's table shows; the CSV holds them all.
# NOTE: an HTML widget of thousands of rows makes the browser crawl; the
# filters narrow what is shown, and every row is in the CSV and the report.
TABLE_ROW_LIMIT = 200

ALL = "all"

# Lets a widget's label take the room it needs instead of being cut short.
WIDE_LABEL = {"description_width": "initial"}

ERROR_STYLE = "color:#b3261e;border:1px solid #b3261e;padding:4px 8px"

RESUME_TOOLTIP = "Finish the stopped run from its ledger"
RESUME_NEEDS_REAL_RUN = (
    "Untick Dry run to resume: a resume sends the remaining enables for real."
)

#: What to fix when NCP refused a whole run (``RunResult.fatal_error``).
FIX_CREDENTIALS = (
    "NCP refused the credentials: fix the access key, the secret key or the "
    "clock, then Resume finishes the run"
)
FIX_PERMISSION = (
    "NCP refused the permission: allow these credentials to enable KMS key "
    "versions, then Resume finishes the run"
)

#: The columns of the versions table.
VERSION_TABLE_COLUMNS = [
    "key_name",
    "key_tag",
    "key_status",
    "version",
    "version_status",
    "action",
    "reason",
]

#: The columns of the results table; the CSV and the report hold every column.
RESULT_TABLE_COLUMNS = [
    "key_tag",
    "version",
    "outcome",
    "error_code",
    "message",
    "attempts",
    "latency_ms",
]

Params = ParamSpec("Params")
Returned = TypeVar("Returned")


def remediation_panel(
    client: Any, *, output_dir: str | Path = "kms-remediation"
) -> RemediationPanel:
    """Open the remediation panel on a client and start discovering its keys.

    ``client`` is an ``AsyncKmsClient`` or what ``connect()`` returned.
    Reports, CSV files and ledgers go to ``output_dir``.

    Example:
        >>> panel = remediation_panel(kms, output_dir="reports")  # doctest: +SKIP
        >>> panel  # doctest: +SKIP
    """
    async_client = getattr(client, "async_client", client)
    if not isinstance(async_client, AsyncKmsClient):
        raise TypeError(
            "remediation_panel needs an AsyncKmsClient or the connection that "
            f"connect() returns, got {type(client).__name__}"
        )
    panel = RemediationPanel(RemediationSession(async_client, output_dir=output_dir))
    panel.start_discovery()
    return panel


def _button(description: str, style: str = "", tooltip: str = "") -> widgets.Button:
    """A button with a readable width."""
    return widgets.Button(
        description=description,
        button_style=style,
        tooltip=tooltip or description,
        layout=widgets.Layout(width="auto"),
    )


class RemediationPanel(widgets.VBox):  # type: ignore[misc]
    """Widgets over a ``RemediationSession``; attributes are its parts, for tests.

    Build it with ``remediation_panel(client)``.
    """

    def __init__(self, session: RemediationSession) -> None:
        self.session = session
        self.task: asyncio.Task[None] | None = None
        # Every exception shown in the error area, oldest first, with what to
        # do about it when the panel knows more ("" otherwise).
        self._errors: list[tuple[BaseException, str]] = []
        self._busy = False
        # Made when a run is launched, before its task starts, so Stop works
        # from the first moment; the session sets up its own only later.
        self._run_stop: asyncio.Event | None = None
        session.on_progress = self._guarded(self.show_progress)
        self._build_discovery()
        self._build_run_controls()
        self._build_results()
        self._wire()
        super().__init__(
            [
                widgets.HTML(f"<h3>KMS key version remediation</h3>{self._where()}"),
                self.status_line,
                self.error_area,
                self.clear_errors_button,
                widgets.HTML("<b>1. Keys and versions</b>"),
                widgets.HBox(
                    [self.discover_button, self.version_filter, self.action_filter]
                ),
                self.versions_table,
                widgets.HTML("<b>2. Targets and run</b>"),
                widgets.HBox(
                    [
                        self.targets,
                        widgets.VBox([self.select_all_button, self.select_none_button]),
                    ]
                ),
                widgets.HBox([self.dry_run, self.concurrency, self.rate_limit]),
                widgets.HBox(
                    [
                        self.run_button,
                        self.stop_button,
                        self.resume_button,
                        self.resume_hint,
                    ]
                ),
                widgets.HBox([self.progress_bar, self.progress_label]),
                widgets.HTML("<b>3. Results</b>"),
                widgets.HBox([self.outcome_filter, self.error_code_filter]),
                self.results_table,
                self.chart,
                widgets.HBox(
                    [self.save_report_button, self.save_csv_button, self.saved_label]
                ),
            ],
            layout=widgets.Layout(border="1px solid #ccc", padding="8px"),
        )
        self._show_errors()
        self.refresh_buttons()

    def _where(self) -> str:
        folder = html.escape(str(self.session.output_dir.resolve()))
        api = html.escape(self.session.client.base_url)
        return f"<div>API: <code>{api}</code> · files go to <code>{folder}</code></div>"

    def _build_discovery(self) -> None:
        self.status_line = widgets.HTML("Starting…")
        self.error_area = widgets.HTML("")
        self.clear_errors_button = _button(
            "Clear errors", tooltip="Empty the list of errors above"
        )
        self.discover_button = _button(
            "Discover", tooltip="List keys and versions again"
        )
        self.version_filter = widgets.ToggleButtons(
            options=[ALL, "DISABLE", "ENABLE"], value=ALL, description="Versions"
        )
        self.action_filter = widgets.ToggleButtons(
            options=[ALL, "enable", "skip"], value=ALL, description="Action"
        )
        self.versions_table = widgets.HTML("")
        self.targets = widgets.SelectMultiple(
            options=[],
            rows=8,
            description="Targets",
            layout=widgets.Layout(width="60%"),
        )
        self.select_all_button = _button("Select all")
        self.select_none_button = _button("Select none")

    def _build_run_controls(self) -> None:
        self.dry_run = widgets.Checkbox(
            value=True, description="Dry run (send nothing)"
        )
        self.concurrency = widgets.BoundedIntText(
            value=16,
            min=1,
            max=MAX_CONCURRENCY,
            description="Concurrency",
            style=WIDE_LABEL,
            layout=widgets.Layout(width="180px"),
        )
        self.rate_limit = widgets.BoundedFloatText(
            value=0.0,
            min=0.0,
            max=100_000.0,
            description="Max requests/s",
            style=WIDE_LABEL,
            layout=widgets.Layout(width="200px"),
            tooltip="0 means no limit; 429s still slow the run down",
        )
        self.run_button = _button("Run", "primary")
        self.stop_button = _button(
            "Stop", "danger", "Stop after the requests in flight"
        )
        self.resume_button = _button("Resume", "", RESUME_TOOLTIP)
        self.resume_hint = widgets.HTML("")
        self.progress_bar = widgets.IntProgress(
            value=0, min=0, max=1, description="Progress"
        )
        self.progress_label = widgets.HTML("")

    def _build_results(self) -> None:
        self.outcome_filter = widgets.Dropdown(
            options=[ALL], value=ALL, description="Outcome"
        )
        self.error_code_filter = widgets.Dropdown(
            options=[ALL], value=ALL, description="Error code"
        )
        self.results_table = widgets.HTML("")
        self.chart = widgets.Image(
            format="png", layout=widgets.Layout(max_width="480px")
        )
        self.save_report_button = _button("Save HTML report")
        self.save_csv_button = _button("Save CSV")
        self.saved_label = widgets.HTML("")

    def _wire(self) -> None:
        """Connect each button and filter to its step; every one is guarded."""
        clicks: list[tuple[widgets.Button, Callable[[], object]]] = [
            (self.clear_errors_button, self.clear_errors),
            (self.discover_button, self.start_discovery),
            (self.select_all_button, lambda: self._select(all_=True)),
            (self.select_none_button, lambda: self._select(all_=False)),
            (self.run_button, self.start_run),
            (self.resume_button, self.start_resume),
            (self.stop_button, self.request_stop),
            (self.save_report_button, lambda: self._saved(self.session.save_report())),
            (self.save_csv_button, lambda: self._saved(self.session.save_csv())),
        ]
        for button, action in clicks:
            button.on_click(self._guarded(lambda _, act=action: act()))
        changes: list[tuple[widgets.DOMWidget, Callable[[], object]]] = [
            (self.version_filter, self.show_versions),
            (self.action_filter, self.show_versions),
            (self.targets, self._targets_changed),
            (self.dry_run, self.refresh_buttons),
            (self.outcome_filter, self.show_results),
            (self.error_code_filter, self.show_results),
        ]
        for widget, action in changes:
            widget.observe(self._guarded(lambda _, act=action: act()), names="value")

    # Plumbing: errors, tasks, buttons.

    def _guarded(
        self, callback: Callable[Params, Returned]
    ) -> Callable[Params, Returned | None]:
        """``callback``, with any exception shown in the error area instead."""

        @functools.wraps(callback)
        def guarded(*args: Params.args, **kwargs: Params.kwargs) -> Returned | None:
            try:
                return callback(*args, **kwargs)
            except Exception as exc:
                self.show_error(exc)
                return None

        return guarded

    @property
    def errors(self) -> list[BaseException]:
        """Every exception shown in the error area, oldest first."""
        return [exc for exc, _ in self._errors]

    def show_error(self, exc: BaseException, advice: str = "") -> None:
        """Add an exception's type and message (and what to do) to the error area."""
        logger.debug("panel step failed: %s", type(exc).__name__, exc_info=exc)
        self._errors.append((exc, advice))
        self._show_errors()

    def clear_errors(self) -> None:
        """Empty the error area."""
        self._errors.clear()
        self._show_errors()

    def _show_errors(self) -> None:
        """List every error, newest first; offer Clear errors only when there are."""
        self.clear_errors_button.disabled = not self._errors
        self.clear_errors_button.layout.display = None if self._errors else "none"
        if not self._errors:
            self.error_area.value = ""
            return
        items = "".join(
            f"<li><b>{html.escape(type(exc).__name__)}</b>: {html.escape(str(exc))}"
            + (f"<br><i>{html.escape(advice)}.</i>" if advice else "")
            + "</li>"
            for exc, advice in reversed(self._errors)
        )
        listed = scroll_box(f'<ul style="margin:2px 0">{items}</ul>', "160px")
        self.error_area.value = (
            f'<div style="{ERROR_STYLE}">'
            f"{len(self._errors)} error(s), newest first{listed}</div>"
        )

    def _launch(
        self,
        work: Callable[[], Awaitable[None]],
        *,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Schedule ``work`` on the running loop; its failure lands in the panel.

        ``stop`` is the event the Stop button sets, for a run or a resume.
        """
        if self._busy:
            raise RuntimeError(
                "the panel is busy: wait for the current step or stop it"
            )
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "the panel needs a running asyncio loop, as a Jupyter kernel has"
            ) from None
        self._busy = True
        self._run_stop = stop
        self.task = loop.create_task(self._supervise(work))
        # A task cancelled before its first step never runs its body, so the
        # panel is freed here, whenever and however the task ends.
        self.task.add_done_callback(self._guarded(self._step_ended))
        self.refresh_buttons()

    async def _supervise(self, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except Exception as exc:
            # Shown in the panel: a task's exception would otherwise be lost.
            self.status_line.value = "The last step failed: see the error above."
            self.show_error(exc)

    def _step_ended(self, task: asyncio.Task[None]) -> None:
        """Free the panel once the step's task has ended, cancelled or not."""
        if task.cancelled():
            # Cancelled from outside (a kernel shutting down, a script): say so
            # rather than leave the status of a step that no longer runs.
            self.status_line.value = "The last step was cancelled before it ended."
        self._busy = False
        self._run_stop = None
        self.refresh_buttons()

    async def wait(self) -> None:
        """Wait until the step under way (discovery, run, resume) has ended."""
        while self.task is not None and not self.task.done():
            # asyncio.wait neither cancels the task nor raises when it was.
            await asyncio.wait({self.task})

    def refresh_buttons(self) -> None:
        """Enable exactly the buttons that make sense now."""
        busy = self._busy
        run = self.session.run_result
        self.discover_button.disabled = busy
        self.run_button.disabled = busy or not self.session.selected
        stop = self._run_stop
        self.stop_button.disabled = stop is None or stop.is_set()
        # A dry run sends nothing, so there is nothing to resume from its ledger.
        resumable = run is not None and run.cancelled and not run.dry_run
        # A resume always sends for real; with Dry run ticked it would surprise.
        blocked_by_dry_run = resumable and bool(self.dry_run.value)
        self.resume_button.disabled = busy or not resumable or blocked_by_dry_run
        self.resume_button.tooltip = (
            RESUME_NEEDS_REAL_RUN if blocked_by_dry_run else RESUME_TOOLTIP
        )
        self.resume_hint.value = (
            f"<i>{html.escape(RESUME_NEEDS_REAL_RUN)}</i>" if blocked_by_dry_run else ""
        )
        self.save_report_button.disabled = busy or run is None
        self.save_csv_button.disabled = busy or run is None

    # Steps.

    def start_discovery(self) -> None:
        """Discover keys and versions in the background."""
        self.status_line.value = "Discovering keys and versions…"
        self._launch(self._discover)

    async def _discover(self) -> None:
        await self._read_versions()
        self.status_line.value = (
            f"{len(self.session.selected)} disabled versions can be enabled; "
            "all are selected."
        )

    async def _read_versions(self) -> None:
        """Plan again, select every candidate and show the versions."""
        await self.session.discover()
        self.targets.options = self.session.candidates()
        self.targets.value = tuple(t for _, t in self.session.candidates())
        self.show_versions()

    def show_versions(self) -> None:
        """Fill the versions table from the plan and the two filters."""
        if self.session.plan is None:
            return
        statuses = (
            [] if self.version_filter.value == ALL else [self.version_filter.value]
        )
        actions = [] if self.action_filter.value == ALL else [self.action_filter.value]
        frame = self.session.versions(version_statuses=statuses, actions=actions)
        self.versions_table.value = _capped_table(
            frame[VERSION_TABLE_COLUMNS],
            badge_columns=["key_status", "version_status", "action"],
        )

    def _targets_changed(self) -> None:
        self.session.select(self.targets.value)
        self.refresh_buttons()

    def _select(self, *, all_: bool) -> None:
        self.targets.value = tuple(t for _, t in self.targets.options) if all_ else ()

    def _options(self) -> RunOptions:
        rate = float(self.rate_limit.value)
        return RunOptions(
            dry_run=bool(self.dry_run.value),
            concurrency=int(self.concurrency.value),
            rate_limit=rate if rate > 0 else None,
        )

    def start_run(self) -> None:
        """Run (or dry-run) the selected targets in the background."""
        options = self._options()
        total = len(self.session.selected)
        stop = asyncio.Event()
        self._launch(lambda: self._run(options, stop), stop=stop)
        mode = "Dry run" if options.dry_run else "Run"
        self._before_run(f"{mode} of {total} versions…", total)

    def start_resume(self) -> None:
        """Finish the stopped run from its ledger in the background."""
        options = self._options()
        stop = asyncio.Event()
        self._launch(lambda: self._resume(options, stop), stop=stop)
        self._before_run("Resuming from the ledger…", self.progress_bar.max)

    async def _run(self, options: RunOptions, stop: asyncio.Event) -> None:
        await self.session.run(options, stop=stop)
        await self._after_run()

    async def _resume(self, options: RunOptions, stop: asyncio.Event) -> None:
        await self.session.resume(options, stop=stop)
        await self._after_run()

    def _before_run(self, message: str, total: int) -> None:
        self.status_line.value = message
        self.progress_bar.max = max(total, 1)
        self.progress_bar.value = 0
        self.progress_label.value = ""
        self.refresh_buttons()

    def request_stop(self) -> None:
        """Stop the run under way after the requests in flight."""
        if self._run_stop is None or self._run_stop.is_set():
            return
        self._run_stop.set()
        self.status_line.value = "Stopping after the requests in flight…"
        self.refresh_buttons()

    def show_progress(self, progress: Progress) -> None:
        """Move the bar and the counts; called at most every few tenths of a second."""
        self.progress_bar.max = max(progress.total, 1)
        self.progress_bar.value = progress.done
        counts = " ".join(
            f"{status_badge(o.value)} {progress.counts.get(o, 0)}"
            for o in Outcome
            if progress.counts.get(o, 0)
        )
        limit = progress.current_rate_limit
        pace = f" · limit {limit:.0f}/s" if limit else ""
        self.progress_label.value = (
            f"{progress.done}/{progress.total} {counts} · "
            f"{progress.rate_per_second:.1f}/s{pace}"
        )
        self.refresh_buttons()

    async def _after_run(self) -> None:
        """Show the results; after a real run, read the versions again."""
        run = self.session.run_result
        assert run is not None  # _run and _resume set it before returning
        self._run_stop = None  # the run has ended: Stop has nothing left to stop
        self.refresh_buttons()
        self.outcome_filter.options = [ALL, *[o.value for o in Outcome]]
        self.outcome_filter.value = ALL
        self.error_code_filter.options = [ALL, *self.session.error_codes()]
        self.error_code_filter.value = ALL
        counts = self.session.outcome_counts()
        self.chart.value = outcome_chart_png(counts)
        self.show_results()
        ended = "stopped: Resume finishes it" if run.cancelled else "finished"
        if run.fatal_error is not None:
            advice = _fatal_error_advice(run.fatal_error)
            ended = f"stopped: {advice}"
            self.show_error(run.fatal_error, advice)
        dry = " (dry run: nothing was changed)" if run.dry_run else ""
        summary = f"Run {html.escape(run.run_id)} {ended}{dry}."
        self.status_line.value = summary
        # A read after a refusal meets the same refusal; Resume reads again.
        if run.dry_run or run.fatal_error is not None:
            return
        # The run changed versions: a plan from before it would show stale rows.
        self.status_line.value = f"{summary} Reading the versions again…"
        await self._read_versions()
        left = len(self.session.selected)
        self.status_line.value = f"{summary} {left} disabled version(s) left to enable."

    def show_results(self) -> None:
        """Fill the results table from the last run and the two filters."""
        if self.session.run_result is None:
            return
        outcome = (
            None if self.outcome_filter.value == ALL else self.outcome_filter.value
        )
        code = (
            None
            if self.error_code_filter.value == ALL
            else self.error_code_filter.value
        )
        frame = self.session.results(outcome=outcome, error_code=code)
        counts = self.session.outcome_counts()
        summary = " ".join(f"{status_badge(o)} {n}" for o, n in counts.items() if n)
        self.results_table.value = (
            f'<div class="kms-outcome-counts">{summary}</div>'
            + _capped_table(frame[RESULT_TABLE_COLUMNS], badge_columns=["outcome"])
        )

    def _saved(self, path: Path) -> None:
        self.saved_label.value = (
            f"saved <code>{html.escape(str(path.resolve()))}</code>"
        )


def _fatal_error_advice(error: ApiError) -> str:
    """What to fix after NCP refused a whole run, and that Resume then finishes it."""
    return FIX_CREDENTIALS if isinstance(error, AuthenticationError) else FIX_PERMISSION


def _capped_table(frame: pd.DataFrame, *, badge_columns: list[str]) -> str:
    """The first ``TABLE_ROW_LIMIT`` rows of ``frame``, under how many are shown."""
    shown = frame.head(TABLE_ROW_LIMIT)
    table = html_table(
        [str(c) for c in shown.columns],
        shown.itertuples(index=False, name=None),
        badge_columns=badge_columns,
    )
    return f"<div>{len(shown)} of {len(frame)} rows shown</div>" + scroll_box(table)
