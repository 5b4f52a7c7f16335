"""HTML views of the toolkit's results, for Jupyter's rich display.

Every result a notebook user looks at (a changed version, a key list, a
remediation plan, a run) renders as a small, self-contained HTML fragment.
Every value is HTML-escaped. Short tables are plain HTML; long ones page and
filter in the browser with itables in offline mode, whose JavaScript ships
inside the itables package, so nothing is fetched from the network.

Example:
    >>> from kms_toolkit.notebook.display import key_version_change_html
    >>> html = key_version_change_html(change)  # doctest: +SKIP
"""

from __future__ import annotations

import html
import io
import logging
import math
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

import pandas as pd

from kms_toolkit.models import (
    KeyInfo,
    KeyPage,
    KeySummary,
    KeyVersion,
    KeyVersionChange,
    KeyVersionList,
)

__all__ = [
    "PLAIN_TABLE_MAX_ROWS",
    "frame_html",
    "html_table",
    "key_info_html",
    "key_page_html",
    "key_summary_html",
    "key_version_change_html",
    "key_version_html",
    "key_version_list_html",
    "outcome_chart_png",
    "outcome_counts",
    "plan_html",
    "run_result_html",
    "scroll_box",
    "status_badge",
]

logger = logging.getLogger(__name__)

#: Tables with more rows than this page and filter with itables.
PLAIN_TABLE_MAX_ROWS = 15

# Colours per status or outcome word; anything else is grey.
_BADGE_COLOURS = {
    "ENABLE": "#1b7f3b",
    "DISABLE": "#b3261e",
    "REVOKE": "#7a4b00",
    "enabled": "#1b7f3b",
    "already_enabled": "#2f6f9f",
    "dry_run": "#6a4c93",
    "failed": "#b3261e",
    "rejected": "#b3261e",
    "not_run": "#6b6b6b",
    "enable": "#1b7f3b",
    "skip": "#6b6b6b",
}

_BOX_STYLE = (
    "font-family:var(--jp-ui-font-family,sans-serif);font-size:13px;"
    "border:1px solid #ddd;border-radius:4px;padding:8px 10px;margin:4px 0;"
)


class PlanLike(Protocol):
    """What a remediation plan offers to its view."""

    @property
    def frame(self) -> pd.DataFrame: ...


class RunLike(Protocol):
    """What a bulk run's result offers to its view."""

    @property
    def run_id(self) -> str: ...

    @property
    def dry_run(self) -> bool: ...

    @property
    def cancelled(self) -> bool: ...

    def frame(self) -> pd.DataFrame: ...


def _text(value: object) -> str:
    """A cell's text, escaped: None and NaN show as an em dash."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "—"
    if isinstance(value, float):
        return "—" if math.isnan(value) else html.escape(str(round(value, 2)))
    if isinstance(value, datetime):
        return html.escape(value.strftime("%Y-%m-%d %H:%M:%S %Z").strip())
    return html.escape(str(value))


def status_badge(value: object) -> str:
    """A coloured label for a status or an outcome word (a dash when missing)."""
    if _text(value) == "—":
        return "—"
    word = str(getattr(value, "value", value))
    colour = _BADGE_COLOURS.get(word, "#6b6b6b")
    return (
        f'<span style="color:#fff;background:{colour};border-radius:3px;'
        f'padding:1px 6px;font-size:12px">{html.escape(word)}</span>'
    )


def scroll_box(fragment: str, max_height: str = "280px") -> str:
    """``fragment`` in a box that scrolls when it is taller than ``max_height``."""
    return f'<div style="max-height:{max_height};overflow:auto">{fragment}</div>'


def html_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    badge_columns: Iterable[str] = (),
) -> str:
    """A plain HTML table; cells in ``badge_columns`` show as status badges."""
    badged = {headers.index(name) for name in badge_columns if name in headers}
    head = "".join(
        f'<th style="text-align:left;padding:2px 8px">{html.escape(h)}</th>'
        for h in headers
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="padding:2px 8px">'
            f"{status_badge(cell) if index in badged else _text(cell)}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        '<table style="border-collapse:collapse">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _box(title: str, body: str) -> str:
    """A titled box around a fragment."""
    return f'<div style="{_BOX_STYLE}"><b>{html.escape(title)}</b>{body}</div>'


_itables_loaded = False
_itables_lock = threading.Lock()


def _interactive_table_loader() -> str:
    """itables' offline bundle the first time this process renders a long table."""
    # XXX: the bundle (about 800 kB) goes into the first interactive table only
    # and later tables find it in the page, see
    # test_long_key_page_pages_with_offline_itables. A page that lost that first
    # output (outputs cleared, kernel kept) shows later tables as itables' static
    # fallback, which still holds every row.
    global _itables_loaded
    with _itables_lock:
        if _itables_loaded:
            return ""
        _itables_loaded = True
    from itables import javascript, options

    return str(javascript.generate_init_offline_itables_html(options.dt_bundle))


def frame_html(
    frame: pd.DataFrame,
    *,
    badge_columns: Iterable[str] = (),
    plain_max_rows: int = PLAIN_TABLE_MAX_ROWS,
) -> str:
    """A DataFrame as HTML: a plain table when short, an itables table when long.

    Example:
        >>> frame_html(run.frame())  # doctest: +SKIP
    """
    if len(frame) <= plain_max_rows:
        rows = frame.itertuples(index=False, name=None)
        return html_table(
            [str(c) for c in frame.columns], rows, badge_columns=badge_columns
        )

    from itables.javascript import to_html_datatable

    # itables escapes cell values itself (allow_html=False); maxBytes=0 keeps
    # every row instead of silently downsampling a long result.
    table = to_html_datatable(
        frame.reset_index(drop=True),
        connected=False,
        table_id=f"kms_{uuid.uuid4().hex}",
        display_logo_when_loading=False,
        showIndex=False,
        maxBytes=0,
        allow_html=False,
        pageLength=15,
    )
    return _interactive_table_loader() + str(table)


def key_version_change_html(change: KeyVersionChange) -> str:
    """One enabled or disabled version: the key, the version, its new status."""
    body = (
        f"<div>key <code>{_text(change.key_tag)}</code>, version "
        f"<b>{_text(change.version)}</b> is now {status_badge(change.status)} "
        f"since {_text(change.status_date)}</div>"
    )
    return _box("Key version changed", body)


def key_version_html(version: KeyVersion) -> str:
    """One version as the version list shows it: number, status, dates."""
    rotated = (
        f", rotated {_text(version.rotated_date)}"
        if version.rotated_date is not None
        else ""
    )
    since = (
        f" since {_text(version.status_date)}"
        if version.status_date is not None
        else ""
    )
    body = (
        f"<div>version <b>{_text(version.version)}</b> is "
        f"{status_badge(version.status)}{since}{rotated}</div>"
    )
    return _box("Key version", body)


def key_summary_html(key: KeySummary) -> str:
    """One key of the key list: name, tag, status, type."""
    body = (
        f"<div><b>{_text(key.key_name or key.key_tag)}</b> "
        f"<code>{_text(key.key_tag)}</code> {status_badge(key.status)} "
        f"{_text(key.key_type or '')}</div>"
    )
    return _box("Key", body)


def key_version_list_html(versions: KeyVersionList) -> str:
    """Every version of one key, the current one marked."""
    current = versions.current_version
    rows = [
        (
            f"{v.version}{' (current)' if v.version == current else ''}",
            v.status,
            v.status_date,
            v.rotated_date,
        )
        for v in versions.versions
    ]
    table = html_table(
        ["version", "status", "status date", "rotated"], rows, badge_columns=["status"]
    )
    title = f"Versions of {versions.key_tag} ({len(versions.versions)})"
    return _box(title, table)


def key_page_html(page: KeyPage) -> str:
    """One page of the key list with its paging counters."""
    rows = [
        (
            k.key_tag,
            k.key_name,
            k.key_type,
            k.status,
            k.protection_type,
            k.register_date,
        )
        for k in page.keys
    ]
    headers = ["key tag", "name", "type", "status", "protection", "registered"]
    frame = pd.DataFrame(rows, columns=headers)
    title = (
        f"Keys: page {page.page_no} of {page.total_pages}, "
        f"{page.total_count} keys in all"
    )
    return _box(title, frame_html(frame, badge_columns=["status"]))


def key_info_html(info: KeyInfo) -> str:
    """One key's details as a two-column table."""
    fields: list[tuple[str, object]] = [
        ("key tag", info.key_tag),
        ("name", info.key_name),
        ("status", info.status),
        ("type", info.key_type),
        ("protection", info.protection_type),
        ("current version", info.current_version),
        ("keystore", info.keystore_id),
        ("NRN", info.nrn),
        ("registered", info.register_date),
    ]
    table = html_table(["field", "value"], fields)
    return _box(f"Key {info.key_name or info.key_tag}", table)


def _count_line(counts: Mapping[str, int]) -> str:
    """Each word as a badge followed by its count, zero counts left out."""
    parts = [f"{status_badge(word)} {int(n)}" for word, n in counts.items() if n]
    return " &nbsp; ".join(parts) if parts else "nothing"


def plan_html(plan: PlanLike) -> str:
    """A plan: how many versions would be enabled, what is skipped and why."""
    frame = plan.frame
    actions = {str(k): int(v) for k, v in frame["action"].value_counts().items()}
    reasons = frame.loc[frame["action"] != "enable", "reason"].value_counts()
    reason_table = html_table(
        ["skipped because", "versions"], [(str(r), int(n)) for r, n in reasons.items()]
    )
    body = (
        f"<div>{_count_line(actions)}</div>"
        + (reason_table if len(reasons) else "")
        + frame_html(frame, badge_columns=["action", "key_status", "version_status"])
    )
    return _box(f"Remediation plan: {len(frame)} versions examined", body)


def outcome_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many results have each outcome, most frequent first."""
    if "outcome" not in frame.columns or frame.empty:
        return {}
    counts = frame["outcome"].astype(str).value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def run_result_html(run: RunLike) -> str:
    """A run: counts by outcome and the table of results."""
    frame = run.frame()
    flags = []
    if run.dry_run:
        flags.append("dry run: nothing was changed")
    if run.cancelled:
        flags.append("stopped before the end: resume from the ledger")
    notes = "".join(f"<div><i>{html.escape(f)}</i></div>" for f in flags)
    body = f"{notes}<div>{_count_line(outcome_counts(frame))}</div>" + frame_html(
        frame, badge_columns=["outcome"]
    )
    return _box(f"Run {run.run_id}: {len(frame)} targets", body)


def outcome_chart_png(counts: Mapping[str, int]) -> bytes:
    """A bar chart of targets per outcome, as PNG bytes.

    Uses matplotlib's object API (no pyplot), so it neither changes nor needs
    the notebook's plotting backend.
    """
    from matplotlib.figure import Figure

    shown = {word: n for word, n in counts.items() if n} or {"nothing": 0}
    figure = Figure(figsize=(4.8, 1.0 + 0.35 * len(shown)), dpi=100)
    axes = figure.add_subplot()
    colours = [_BADGE_COLOURS.get(word, "#6b6b6b") for word in shown]
    bars = axes.barh(list(shown), list(shown.values()), color=colours)
    axes.bar_label(bars, padding=3)
    axes.invert_yaxis()
    axes.set_xlabel("targets")
    axes.set_title("Outcomes")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
