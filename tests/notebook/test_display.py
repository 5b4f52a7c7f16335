"""The HTML views of results: content, escaping, offline interactive tables."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from kms_toolkit.bulk import enable_versions, plan_remediation
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.emulator import serve
from kms_toolkit.models import (
    KeyInfo,
    KeyPage,
    KeyStatus,
    KeySummary,
    KeyVersion,
    KeyVersionChange,
    KeyVersionList,
    KeyVersionStatus,
)
from kms_toolkit.notebook import display

WHEN = datetime(2026, 12, 3, 9, 30, 5, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script>"


def summary(index: int, name: str = "") -> KeySummary:
    """A key of the key list."""
    return KeySummary(
        key_tag=f"tag{index:04d}",
        status=KeyStatus.ENABLE,
        key_name=name or f"key-{index}",
        key_type="AES256",
    )


def test_version_change_shows_key_version_status_and_date() -> None:
    """An enabled version reads as its key, its number, ENABLE and the date."""
    change = KeyVersionChange("tag-a", 3, KeyVersionStatus.ENABLE, WHEN)

    shown = change._repr_html_()

    assert "tag-a" in shown
    assert "<b>3</b>" in shown
    assert ">ENABLE</span>" in shown
    assert "2026-12-03 09:30:05 UTC" in shown


def test_one_version_shows_its_status_and_dates() -> None:
    """A version alone reads as its number, its status and its dates."""
    version = KeyVersion(2, KeyVersionStatus.DISABLE, WHEN, WHEN)

    shown = version._repr_html_()

    assert "<b>2</b>" in shown
    assert ">DISABLE</span>" in shown
    assert "since 2026-12-03 09:30:05 UTC, rotated 2026-12-03 09:30:05 UTC" in shown


def test_one_key_shows_its_name_tag_and_status_escaped() -> None:
    """A key of the key list shows name, tag and status, every value escaped."""
    key = KeySummary(key_tag="tag-a", status=KeyStatus.REVOKE, key_name=HOSTILE)

    shown = key._repr_html_()

    assert "<code>tag-a</code>" in shown
    assert ">REVOKE</span>" in shown
    assert "<script>" not in shown
    assert "&lt;script&gt;" in shown


def test_version_list_marks_the_current_version() -> None:
    """The current version is labelled; each version shows its status."""
    versions = KeyVersionList(
        "tag-a",
        2,
        (
            KeyVersion(1, KeyVersionStatus.DISABLE, WHEN),
            KeyVersion(2, KeyVersionStatus.ENABLE, WHEN),
        ),
    )

    shown = versions._repr_html_()

    assert "2 (current)" in shown
    assert "1 (current)" not in shown
    assert shown.count(">DISABLE</span>") == 1
    assert "Versions of tag-a (2)" in shown


def test_key_info_escapes_every_value() -> None:
    """A hostile key name is shown as text, never as markup."""
    info = KeyInfo("tag-a", KeyStatus.DISABLE, key_name=HOSTILE, current_version=4)

    shown = info._repr_html_()

    assert "<script>" not in shown
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in shown
    assert '<td style="padding:2px 8px">DISABLE</td>' in shown


def test_short_key_page_is_a_plain_table() -> None:
    """A page of a few keys is a plain HTML table with the paging counters."""
    page = KeyPage(tuple(summary(i) for i in range(3)), 1, 4, 310)

    shown = page._repr_html_()

    assert "page 1 of 4, 310 keys in all" in shown
    assert shown.count("<tr>") == 4  # the header and three keys
    assert "<script" not in shown


def test_long_key_page_pages_with_offline_itables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long page becomes an itables table whose code is embedded, not fetched."""
    monkeypatch.setattr(display, "_itables_loaded", False)
    keys = [summary(i) for i in range(40)] + [summary(99, name=HOSTILE)]
    page = KeyPage(tuple(keys), 1, 1, len(keys))

    first = page._repr_html_()
    second = page._repr_html_()

    assert "new ITable(" in first
    assert re.search(r"<script[^>]+src=", first) is None
    assert "cdn." not in first
    assert "unpkg" not in first
    assert "<script>alert" not in first
    # The ~800 kB bundle is embedded once per process, not in every table.
    assert len(first) > 500_000 > len(second)
    assert "new ITable(" in second


def test_frame_html_shows_missing_values_as_a_dash() -> None:
    """None and NaN cells read as an em dash, not as 'nan' or 'None'."""
    frame = pd.DataFrame({"key_tag": ["a", "b"], "error_code": [None, float("nan")]})

    shown = display.frame_html(frame)

    assert "nan" not in shown
    assert "None" not in shown
    assert shown.count("—") == 2


def test_outcome_chart_is_a_png() -> None:
    """The outcome chart renders to PNG bytes without pyplot."""
    png = display.outcome_chart_png({"enabled": 5, "failed": 1, "dry_run": 0})

    assert png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_plan_shows_what_would_be_enabled_and_why_the_rest_is_skipped() -> None:
    """A real plan renders its action counts and each skip reason."""
    with serve(dataset="demo") as emulator:
        async with AsyncKmsClient(emulator.credentials, endpoint=emulator.url) as kms:
            plan = await plan_remediation(kms)
    to_enable = emulator.state.count_disabled_versions(enabled_keys_only=True)

    shown = plan._repr_html_()

    assert f">enable</span> {to_enable}" in shown
    assert "skipped because" in shown
    assert "key is DISABLE: NCP does not enable versions of such keys" in shown


async def test_run_result_shows_counts_and_the_stopped_note(tmp_path: Path) -> None:
    """A run's view counts outcomes and says when it stopped early."""
    with serve(dataset="demo") as emulator:
        async with AsyncKmsClient(emulator.credentials, endpoint=emulator.url) as kms:
            plan = await plan_remediation(kms)
            stop = asyncio.Event()
            stop.set()
            stopped = await enable_versions(
                kms, plan.to_enable, ledger_path=tmp_path / "a.sqlite", stop=stop
            )
            dry = await enable_versions(
                kms, plan.to_enable, ledger_path=tmp_path / "b.sqlite", dry_run=True
            )
    total = len(plan.to_enable)

    assert f">not_run</span> {total}" in stopped._repr_html_()
    assert "stopped before the end" in stopped._repr_html_()
    assert f">dry_run</span> {total}" in dry._repr_html_()
    assert "dry run: nothing was changed" in dry._repr_html_()
