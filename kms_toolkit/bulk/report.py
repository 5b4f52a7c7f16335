"""A self-contained HTML report of a run, to read offline or hand on.

One file, nothing fetched when it is opened: the CSS is inline and the charts
are inline SVG drawn by matplotlib's Agg backend. It shows the failures first
(for a dry run, the requests a real run would send), then the summary by
outcome and error, a chart of outcomes, the latency distribution, the run's
parameters and, last, every target with its outcome (problems first), so the
file alone is a record of the run. URLs are shown without their scheme so
the file holds no link to anywhere; credentials never reach the ledger, so
they cannot reach the report.
"""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from kms_toolkit.bulk.frames import (
    dry_run_requests,
    ledger_path_of,
    results_frame,
    summarize,
)
from kms_toolkit.bulk.ledger import Ledger
from kms_toolkit.bulk.outcomes import Outcome

if TYPE_CHECKING:
    from kms_toolkit.bulk.engine import RunResult

__all__ = ["write_report"]

#: Rows of each problem table shown in the report; the CSV export has them all.
TABLE_ROW_LIMIT: Final = 500
#: Rows of the every-target table: about 1.5 MB of HTML, still quick to open.
TARGET_ROW_LIMIT: Final = 10_000
TARGET_COLUMNS: Final = [
    "seq",
    "key_tag",
    "version",
    "outcome",
    "version_status",
    "status_date",
    "error_code",
    "attempts",
    "latency_ms",
]
# The every-target table lists what needs a person's attention first.
_OUTCOME_ORDER: Final = [
    Outcome.FAILED,
    Outcome.REJECTED,
    Outcome.NOT_RUN,
    Outcome.DRY_RUN,
    Outcome.ALREADY_ENABLED,
    Outcome.ENABLED,
]
PROBLEM_COLUMNS: Final = [
    "seq",
    "input_row",
    "key_tag",
    "version",
    "outcome",
    "http_status",
    "error_code",
    "error_type",
    "message",
    "attempts",
]
OUTCOME_COLOURS: Final = {
    "enabled": "#2e7d32",
    "already_enabled": "#66bb6a",
    "failed": "#c62828",
    "rejected": "#ef6c00",
    "dry_run": "#1565c0",
    "not_run": "#9e9e9e",
}

_CSS: Final = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }
th { background: #f3f3f3; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.note { color: #666; font-size: 0.85rem; }
.bad { color: #c62828; } .good { color: #2e7d32; }
"""

ReportSource = Any  # a RunResult, a ledger path or a frame from results_frame


def write_report(
    source: RunResult | str | Path | pd.DataFrame, path: str | Path
) -> Path:
    """Write the run's HTML report to ``path`` and return it.

    ``source`` is a ``RunResult``, a ledger path, or a frame from
    ``results_frame`` (then the parameters section says they are unknown).

    Example:
        >>> write_report("kms-runs/run-1.sqlite", "report.html")  # doctest: +SKIP
        PosixPath('report.html')
    """
    if isinstance(source, pd.DataFrame):
        frame, parameters, events = source, {}, []
    else:
        ledger_path = ledger_path_of(source)
        frame = results_frame(ledger_path)
        with Ledger.open(ledger_path) as ledger:
            parameters = ledger.run_info().parameters
            events = ledger.events()
    path = Path(path)
    path.write_text(_render(frame, parameters, events), encoding="utf-8")
    return path


def _render(
    frame: pd.DataFrame,
    parameters: dict[str, Any],
    events: list[tuple[int, str, dict[str, Any]]],
) -> str:
    """The whole page: headline, failures, summary, charts, parameters."""
    run_id = str(frame["run_id"].iloc[0]) if len(frame) else "(empty run)"
    sections = [
        f"<h1>KMS key version run {_text(run_id)}</h1>",
        _headline(frame),
        _dry_run_section(frame, parameters),
        _problem_sections(frame),
        "<h2>Summary by outcome and error</h2>",
        _table(summarize(frame).assign(share=lambda t: (t["share"] * 100).round(1))),
        "<h2>Charts</h2>",
        f'<div class="charts">{_outcome_chart(frame)}{_latency_chart(frame)}</div>',
        "<h2>Run parameters</h2>",
        _parameters_table(parameters),
        _events_table(events),
        _targets_section(frame),
    ]
    generated = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>KMS run {_text(run_id)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(sections)
        + f'<p class="note">Generated {generated} by ncp-kms-toolkit.</p>'
        "</body></html>\n"
    )


def _headline(frame: pd.DataFrame) -> str:
    counts = frame["outcome"].value_counts()
    ok = int(counts.get(Outcome.ENABLED, 0) + counts.get(Outcome.ALREADY_ENABLED, 0))
    dry = int(counts.get(Outcome.DRY_RUN, 0))
    problems = len(frame) - ok - dry
    tone = "bad" if problems else "good"
    parts = ", ".join(f"{name}: {int(n)}" for name, n in counts.items() if n)
    done = (
        f"Dry run: nothing was sent; {dry} of {len(frame)} target(s) would be enabled"
        if dry
        else f"{ok} of {len(frame)} target(s) enabled or already enabled"
    )
    return (
        f'<p class="{tone}"><strong>{done}; {problems} need attention.'
        f"</strong></p><p>{_text(parts)}</p>"
    )


def _dry_run_section(frame: pd.DataFrame, parameters: dict[str, Any]) -> str:
    """For a dry run: every request a real run would send, in sending order."""
    if not (frame["outcome"] == Outcome.DRY_RUN).any():
        return ""
    precheck = parameters.get("precheck")
    requests = dry_run_requests(frame, precheck=bool(precheck))
    if precheck is None:
        note = (
            "Enables only: whether a real run reads each key's versions first "
            "is unknown (the report was made from a DataFrame)."
        )
    elif precheck:
        note = (
            "Each key's versions are read first; versions found ENABLE then "
            "get no enable, so the enables are the most a real run sends."
        )
    else:
        note = "No reads first (precheck off): every target gets its enable."
    shown = requests[["method", "path", "purpose"]].head(TABLE_ROW_LIMIT)
    if len(requests) > TABLE_ROW_LIMIT:
        note += (
            f" First {TABLE_ROW_LIMIT} of {len(requests)}; export the results to "
            "CSV for every enable."
        )
    return (
        f"<h2>Requests a real run would send ({len(requests)})</h2>"
        f'<p class="note">{_text(note)}</p>{_table(shown)}'
    )


def _problem_sections(frame: pd.DataFrame) -> str:
    """Failed, rejected and unfinished targets, each its own table, first."""
    parts = []
    titles = {
        Outcome.FAILED: "Failures",
        Outcome.REJECTED: "Rejected input rows",
        Outcome.NOT_RUN: "Not run (resume the run to finish them)",
    }
    for outcome, title in titles.items():
        rows = frame[frame["outcome"] == outcome]
        if rows.empty:
            continue
        table = _capped_table(rows[PROBLEM_COLUMNS], TABLE_ROW_LIMIT, "CSV")
        parts.append(f"<h2>{title} ({len(rows)})</h2>{table}")
    return "\n".join(parts) or "<p>No failures.</p>"


def _targets_section(frame: pd.DataFrame) -> str:
    """Every target with its outcome, problems first, then in sending order."""
    if frame.empty:
        return ""
    rank = {str(outcome): number for number, outcome in enumerate(_OUTCOME_ORDER)}
    order = frame["outcome"].astype(str).map(rank).fillna(len(rank))
    ordered = frame.assign(_rank=order).sort_values(["_rank", "seq"], kind="stable")
    table = _capped_table(ordered[TARGET_COLUMNS], TARGET_ROW_LIMIT, "CSV or Parquet")
    return f"<h2>Every target ({len(frame)})</h2>{table}"


def _capped_table(rows: pd.DataFrame, limit: int, exports: str) -> str:
    """``rows`` as a table of at most ``limit`` rows, saying where the rest are."""
    note = ""
    if len(rows) > limit:
        note = (
            f'<p class="note">First {limit} of {len(rows)}; '
            f"export the results to {exports} for all of them.</p>"
        )
    return note + _table(rows.head(limit))


def _table(frame: pd.DataFrame) -> str:
    shown = frame.astype(object).where(frame.notna(), "")
    return shown.to_html(index=False, escape=True, border=0)


def _parameters_table(parameters: dict[str, Any]) -> str:
    if not parameters:
        return '<p class="note">Unknown: the report was made from a DataFrame.</p>'
    rows = "".join(
        f"<tr><th>{_text(name)}</th><td>{_text(_without_scheme(value))}</td></tr>"
        for name, value in sorted(parameters.items())
    )
    return f"<table>{rows}</table>"


def _events_table(events: list[tuple[int, str, dict[str, Any]]]) -> str:
    if not events:
        return ""
    rows = "".join(
        f"<tr><td>{datetime.fromtimestamp(at / 1000, tz=UTC):%Y-%m-%d %H:%M:%S}"
        f"</td><td>{_text(kind)}</td><td>{_text(detail)}</td></tr>"
        for at, kind, detail in events
    )
    return (
        "<h2>Sessions</h2><table><tr><th>at (UTC)</th><th>event</th>"
        f"<th>detail</th></tr>{rows}</table>"
    )


def _outcome_chart(frame: pd.DataFrame) -> str:
    """A horizontal bar per outcome that occurred."""
    counts = frame["outcome"].value_counts()
    counts = counts[counts > 0]
    figure, axes = _figure()
    names = [str(name) for name in counts.index]
    axes.barh(names, counts.to_numpy(), color=[OUTCOME_COLOURS[n] for n in names])
    axes.invert_yaxis()
    axes.set_title("Targets by outcome")
    axes.set_xlabel("targets")
    return _svg(figure)


def _latency_chart(frame: pd.DataFrame) -> str:
    """A histogram of the last request's latency, when requests were sent."""
    latency = frame["latency_ms"].dropna().to_numpy(dtype=float)
    figure, axes = _figure()
    if len(latency):
        axes.hist(latency, bins=40, color="#1565c0")
        axes.set_xlabel("latency of the last request (ms)")
        axes.set_ylabel("targets")
    else:
        axes.text(0.5, 0.5, "no requests were sent", ha="center", va="center")
        axes.set_axis_off()
    axes.set_title("Latency distribution")
    return _svg(figure)


def _figure() -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A bare Figure on its own Agg canvas, not pyplot: no global backend
    # switch, so a notebook's own plotting is left alone.
    figure = Figure(figsize=(5.5, 3.2), dpi=100)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _svg(figure: Any) -> str:
    """The figure as inline SVG, without XML prologue, namespaces or metadata."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "kms"}):
        figure.tight_layout()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # Inline SVG in HTML needs no namespace declarations, and the metadata
    # block only names the tool: dropping both leaves no URL in the file.
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    return svg.replace("xlink:href", "href")


def _without_scheme(value: object) -> str:
    return re.sub(r"\bhttps?://", "", str(value))


def _text(value: object) -> str:
    return html.escape(str(value))
