"""The notebook machinery itself works: a venv kernel, Voila, Chromium, offline."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import expect

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
