"""The notebooks in notebooks/ run top to bottom, are stored clean, and leak nothing."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator import RunningEmulator, serve

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
STORIES = [
    "quickstart.ipynb",
    "bulk_remediation.ipynb",
    "regenerating_the_client.ipynb",
]
# The live runs enable real key versions, so credentials alone do not start them.
LIVE_OPT_IN = "KMS_TOOLKIT_LIVE_NOTEBOOKS"
LIVE_CREDENTIAL_VARIABLES = ("NCLOUD_ACCESS_KEY_ID", "NCLOUD_ACCESS_KEY")
CANARY = Credentials("AKNOTEBOOKCANARY", "nb-canary-secret-7d1f0c2b")


@contextlib.contextmanager
def emulator_for_kernels(
    dataset: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningEmulator]:
    """An emulator whose secret is a canary, announced to kernels by env."""
    with serve(dataset=dataset, credentials=CANARY) as emulator:
        monkeypatch.setenv("KMS_TOOLKIT_ENDPOINT", emulator.url)
        monkeypatch.setenv("NCLOUD_ACCESS_KEY_ID", CANARY.access_key)
        monkeypatch.setenv("NCLOUD_SECRET_ACCESS_KEY", CANARY.secret_key)
        yield emulator


@pytest.fixture
def canary_emulator(
    jupyter_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningEmulator]:
    """A demo emulator whose secret is a canary, announced to kernels by env."""
    with emulator_for_kernels("demo", monkeypatch) as emulator:
        yield emulator


@pytest.fixture
def empty_canary_emulator(
    jupyter_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningEmulator]:
    """Like ``canary_emulator``, for an account that has no keys at all."""
    with emulator_for_kernels("empty", monkeypatch) as emulator:
        yield emulator


def outputs_text(notebook: nbformat.NotebookNode) -> str:
    """Every output of every cell, as one string."""
    return json.dumps([cell.get("outputs", []) for cell in notebook.cells])


def saved_text(notebook: nbformat.NotebookNode) -> str:
    """The whole executed notebook as JSON: outputs, metadata and widget state."""
    return json.dumps(notebook)


def cell_output(notebook: nbformat.NotebookNode, tag: str) -> str:
    """The printed text and plain-text results of the one cell tagged ``tag``."""
    cells = [c for c in notebook.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{len(cells)} cells are tagged {tag!r}"
    parts = []
    for output in cells[0].get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", "") + "\n")
    return "".join(parts)


def test_the_secret_scan_reads_widget_state_and_metadata() -> None:
    """A canary in the saved widget state is caught, not only one in an output."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("1")]
    notebook.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {"m1": {"state": {"value": CANARY.secret_key}}}
        }
    }

    assert CANARY.secret_key not in outputs_text(notebook)
    assert CANARY.secret_key in saved_text(notebook)


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_is_stored_without_outputs(name: str) -> None:
    """No stored notebook carries outputs or execution counts."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)

    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count)
    ]

    assert dirty == [], f"{name}: cells {dirty} have outputs; clear them"


def test_every_story_notebook_exists() -> None:
    """The three walk-throughs are in notebooks/."""
    missing = [name for name in STORIES if not (NOTEBOOKS / name).is_file()]

    assert missing == []


@pytest.mark.notebook
def test_quickstart_enables_one_version(
    run_notebook: Any, canary_emulator: RunningEmulator
) -> None:
    """quickstart runs against the emulator and enables exactly one version."""
    disabled_before = canary_emulator.state.count_disabled_versions()

    executed = run_notebook(NOTEBOOKS / "quickstart.ipynb", timeout=60)

    assert canary_emulator.state.count_disabled_versions() == disabled_before - 1
    assert sum(canary_emulator.counters.enabled_targets().values()) == 1
    assert "Using the KMS endpoint in KMS_TOOLKIT_ENDPOINT" in outputs_text(executed)
    assert "no keys yet" not in cell_output(executed, "first-key")
    assert cell_output(executed, "mistake").startswith("InvalidVersionError: ")
    assert CANARY.secret_key not in saved_text(executed)


@pytest.mark.notebook
def test_quickstart_says_so_on_an_account_without_keys(
    run_notebook: Any, empty_canary_emulator: RunningEmulator
) -> None:
    """With no keys, quickstart explains instead of failing, and still runs through."""
    executed = run_notebook(NOTEBOOKS / "quickstart.ipynb", timeout=60)

    assert "This account has no keys yet" in cell_output(executed, "first-key")
    assert cell_output(executed, "mistake").startswith("InvalidVersionError: ")
    assert "nothing to enable" in outputs_text(executed)
    assert empty_canary_emulator.counters.requests("enableKeyVersion") == 0
    assert CANARY.secret_key not in saved_text(executed)


@pytest.mark.notebook
@pytest.mark.slow
def test_bulk_remediation_enables_every_disabled_version_of_enabled_keys(
    run_notebook: Any, canary_emulator: RunningEmulator
) -> None:
    """bulk_remediation's panel finds every target; none is left disabled at the end."""
    to_enable = canary_emulator.state.count_disabled_versions(enabled_keys_only=True)
    assert to_enable > 0

    executed = run_notebook(NOTEBOOKS / "bulk_remediation.ipynb", timeout=120)

    assert cell_output(executed, "panel-state") == (
        f"The panel lists {to_enable} version(s) to enable and shows 0 error(s).\n"
    )
    assert canary_emulator.state.count_disabled_versions(enabled_keys_only=True) == 0
    assert "application/vnd.jupyter.widget-state+json" in executed.metadata.widgets
    assert CANARY.secret_key not in saved_text(executed)


@pytest.mark.notebook
@pytest.mark.slow
def test_regenerating_the_client_runs_the_drift_check(
    run_notebook: Any, canary_emulator: RunningEmulator
) -> None:
    """Each step shows what it claims: fresh, drift caught, fixed, guards passing."""
    executed = run_notebook(NOTEBOOKS / "regenerating_the_client.ipynb", timeout=120)

    check = cell_output(executed, "check").splitlines()
    drift = cell_output(executed, "drift").splitlines()
    regenerated = cell_output(executed, "regenerated").splitlines()
    guards = cell_output(executed, "guards").splitlines()
    assert (check[0], check[-1]) == ("exit status 0", "up to date")
    assert (drift[0], drift[-1]) == (
        "exit status 1",
        "out of date: the check fails the build",
    )
    assert any(line.startswith("+++ ") for line in drift)
    assert regenerated.count("exit status 0") == 2
    assert regenerated[-1] == "up to date"
    assert guards[0] == "exit status 0"
    assert re.fullmatch(r"\d+ passed in [\d.]+s", guards[-1]), guards
    assert CANARY.secret_key not in saved_text(executed)


def live_runs_allowed() -> bool:
    """NCP credentials are configured and live notebook runs were asked for."""
    configured = (
        any(os.environ.get(n) for n in LIVE_CREDENTIAL_VARIABLES)
        or Path("~/.ncloud/configure").expanduser().is_file()
    )
    return configured and os.environ.get(LIVE_OPT_IN) == "1"


@pytest.mark.live
@pytest.mark.notebook
@pytest.mark.skipif(
    not live_runs_allowed(),
    reason=f"needs NCP credentials and {LIVE_OPT_IN}=1 (the notebooks change keys)",
)
@pytest.mark.parametrize("name", STORIES)
def test_story_runs_unchanged_against_real_ncp(
    name: str, live_run_notebook: Any
) -> None:
    """With NCP credentials, each walk-through runs as is against the real service."""
    executed = live_run_notebook(NOTEBOOKS / name)

    text = outputs_text(executed)
    if name != "regenerating_the_client.ipynb":
        assert "Using NCP KMS at https://" in text
