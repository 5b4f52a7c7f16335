"""The notebook machinery itself works: a venv kernel, Voila, Chromium, offline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import expect

from tests.notebook.conftest import require_chromium

BUTTON_NOTEBOOK = """\
import sys
import ipywidgets as widgets
button = widgets.Button(description="Press me")
answer = widgets.Label("waiting")
def press(_):
    answer.value = "pressed in " + sys.prefix
button.on_click(press)
widgets.VBox([button, answer])
"""


def write_notebook(path: Path, *sources: str) -> Path:
    """A notebook whose code cells hold ``sources``."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)
    return path


@pytest.mark.notebook
def test_kernel_runs_the_project_venv(run_notebook: Any, tmp_path: Path) -> None:
    """nbclient's kernel is this venv's interpreter with the toolkit importable."""
    path = write_notebook(
        tmp_path / "probe.ipynb", "import sys, kms_toolkit\nprint(sys.prefix)"
    )
    executed = run_notebook(path, timeout=60)
    printed = executed.cells[0].outputs[0]["text"].strip()
    assert Path(printed).resolve() == Path(sys.prefix).resolve()


@pytest.mark.notebook
def test_live_runs_never_inherit_an_emulator_endpoint(
    live_run_notebook: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live fixture drops KMS_TOOLKIT_ENDPOINT, so a live run goes to NCP."""
    monkeypatch.setenv("KMS_TOOLKIT_ENDPOINT", "http://127.0.0.1:9/kms/v1")
    path = write_notebook(
        tmp_path / "endpoint.ipynb",
        "import os\nprint(os.environ.get('KMS_TOOLKIT_ENDPOINT'))",
    )

    executed = live_run_notebook(path, timeout=60)

    assert executed.cells[0].outputs[0]["text"].strip() == "None"


def fake_chromium(folder: Path) -> Path:
    """An executable file named chromium in ``folder``."""
    folder.mkdir()
    path = folder / "chromium"
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_chromium_is_looked_up_on_the_path(tmp_path: Path) -> None:
    """A chromium on PATH is used wherever the system installed it."""
    chromium = fake_chromium(tmp_path / "bin")

    found = require_chromium({"PATH": str(chromium.parent)}, fallback=tmp_path / "no")

    assert found == chromium


def test_debian_chromium_is_used_when_the_path_lacks_it(tmp_path: Path) -> None:
    """With nothing on PATH, Debian's install location still counts."""
    chromium = fake_chromium(tmp_path / "usr-bin")
    (tmp_path / "empty").mkdir()

    found = require_chromium({"PATH": str(tmp_path / "empty")}, fallback=chromium)

    assert found == chromium


def test_missing_chromium_fails_under_ci(tmp_path: Path) -> None:
    """CI=true turns a missing browser into a failure: CI must prove the test."""
    environ = {"PATH": str(tmp_path), "CI": "true"}

    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_chromium(environ, fallback=tmp_path / "no")


def test_missing_chromium_skips_outside_ci(tmp_path: Path) -> None:
    """On a developer machine without chromium the browser tests are skipped."""
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        require_chromium({"PATH": str(tmp_path)}, fallback=tmp_path / "no")


@pytest.mark.browser
def test_voila_serves_widgets_that_chromium_can_click(
    voila: Any, browser_page: Any, tmp_path: Path
) -> None:
    """Voila renders a widget offline and a click reaches the kernel."""
    page, guard = browser_page
    path = write_notebook(tmp_path / "button.ipynb", BUTTON_NOTEBOOK)
    with voila(path, {}) as url:
        page.goto(url, timeout=60_000)
        page.get_by_role("button", name="Press me").click(timeout=60_000)
        page.get_by_text("pressed in").wait_for(timeout=30_000)
        shown = page.get_by_text("pressed in").inner_text()
        outside = page.evaluate(
            "fetch('https://example.com/probe').then(() => 'reached', () => 'blocked')"
        )
    assert (
        Path(shown.removeprefix("pressed in ")).resolve() == Path(sys.prefix).resolve()
    )
    assert outside == "blocked"
    assert guard.unexpected() == ["https://example.com/probe"]


LONG_KEY_PAGE = """\
from kms_toolkit.models import KeyPage, KeyStatus, KeySummary
keys = tuple(
    KeySummary(f"tag{i:03d}", KeyStatus.ENABLE, key_name=f"key-{i:03d}")
    for i in range(40)
)
KeyPage(keys, 1, 1, len(keys))
"""


@pytest.mark.browser
def test_long_tables_page_and_filter_offline_in_the_browser(
    voila: Any, browser_page: Any, tmp_path: Path
) -> None:
    """A long result becomes an itables table that searches with no network."""
    page, guard = browser_page
    path = write_notebook(tmp_path / "table.ipynb", LONG_KEY_PAGE)
    with voila(path, {}) as url:
        page.goto(url, timeout=90_000)
        table = page.locator("table.dataTable")
        table.wait_for(timeout=90_000)
        first_page = table.locator("tbody tr").count()
        page.locator(".dt-search input").fill("key-017")
        expect(table.locator("tbody tr")).to_have_count(1, timeout=10_000)
        rows = table.locator("tbody tr").all_inner_texts()
    assert first_page == 15
    assert len(rows) == 1
    assert "tag017" in rows[0]
    assert guard.unexpected() == []
