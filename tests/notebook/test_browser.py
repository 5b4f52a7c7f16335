"""The remediation panel as users see it: Voila on the loopback, headless Chromium.

The test starts the emulator itself, so it can compare what the page shows
with what the emulator actually did.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator import RunningEmulator, serve

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CANARY = Credentials("AKBROWSERCANARY", "browser-canary-secret-51c0ffee")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A demo emulator with a canary secret, stopped after the test."""
    with serve(dataset="demo", credentials=CANARY) as running:
        yield running


@contextlib.contextmanager
def page_state_on_failure(page: Any, folder: Path) -> Iterator[None]:
    """On failure, add the page's text to the error and save a screenshot."""
    try:
        yield
    except Exception as exc:
        page.screenshot(path=str(folder / "failure.png"))
        exc.add_note(f"--- page text ---\n{page.locator('body').inner_text()[-3000:]}")
        raise


def test_panel_in_voila_enables_the_picked_versions(
    voila: Any, browser_page: Any, emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Pick all targets but one, run for real, and see the emulator's counts."""
    page, guard = browser_page
    app = tmp_path / "app" / "panel_app.ipynb"
    app.parent.mkdir()
    shutil.copy(NOTEBOOKS / "panel_app.ipynb", app)
    environment = {
        "KMS_TOOLKIT_ENDPOINT": emulator.url,
        "NCLOUD_ACCESS_KEY_ID": CANARY.access_key,
        "NCLOUD_SECRET_ACCESS_KEY": CANARY.secret_key,
    }
    expected = emulator.state.disabled_versions(enabled_keys_only=True)

    with voila(app, environment) as url, page_state_on_failure(page, tmp_path):
        page.goto(url, timeout=90_000)
        page.get_by_text("disabled versions can be enabled").wait_for(timeout=90_000)
        targets = page.locator("select[multiple]")
        labels = targets.locator("option").all_inner_texts()
        assert len(labels) == len(expected)
        targets.select_option(label=labels[1:])
        page.get_by_label("Dry run (send nothing)").uncheck()
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_text(re.compile(r"Run run-\S+ finished")).wait_for(timeout=60_000)
        shown_counts = page.locator(".kms-outcome-counts").inner_text()
        body = page.locator("body").inner_text()
        page.screenshot(path=str(tmp_path / "panel.png"), full_page=True)

    enabled = sum(emulator.counters.enabled_targets().values())
    assert enabled == len(labels) - 1
    assert re.search(rf"\benabled\s+{enabled}\b", shown_counts), shown_counts
    left = emulator.state.disabled_versions(enabled_keys_only=True)
    assert len(left) == 1
    assert left[0][0] in labels[0]
    assert "Using the KMS endpoint in KMS_TOOLKIT_ENDPOINT" in body
    assert CANARY.secret_key not in body
    assert (tmp_path / "panel.png").stat().st_size > 10_000
    assert guard.unexpected() == []
