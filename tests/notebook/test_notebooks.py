"""The notebooks in notebooks/ run top to bottom, are stored clean, and leak nothing."""

from __future__ import annotations

import json
import os
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


@pytest.fixture
def canary_emulator(
    jupyter_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningEmulator]:
    """A demo emulator whose secret is a canary, announced to kernels by env."""
    with serve(dataset="demo", credentials=CANARY) as emulator:
        monkeypatch.setenv("KMS_TOOLKIT_ENDPOINT", emulator.url)
        monkeypatch.setenv("NCLOUD_ACCESS_KEY_ID", CANARY.access_key)
        monkeypatch.setenv("NCLOUD_SECRET_ACCESS_KEY", CANARY.secret_key)
        yield emulator


def outputs_text(notebook: nbformat.NotebookNode) -> str:
    """Every output of every cell, as one string."""
    return json.dumps([cell.get("outputs", []) for cell in notebook.cells])


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
    text = outputs_text(executed)
    assert "Using the KMS endpoint in KMS_TOOLKIT_ENDPOINT" in text
    assert "InvalidVersionError" in text
    assert CANARY.secret_key not in text


@pytest.mark.notebook
@pytest.mark.slow
def test_bulk_remediation_enables_every_disabled_version_of_enabled_keys(
    run_notebook: Any, canary_emulator: RunningEmulator
) -> None:
    """bulk_remediation ends with no disabled version left on an enabled key."""
    assert canary_emulator.state.count_disabled_versions(enabled_keys_only=True) > 0

    executed = run_notebook(NOTEBOOKS / "bulk_remediation.ipynb", timeout=120)

    assert canary_emulator.state.count_disabled_versions(enabled_keys_only=True) == 0
    assert CANARY.secret_key not in outputs_text(executed)


@pytest.mark.notebook
@pytest.mark.slow
def test_regenerating_the_client_runs_the_drift_check(
    run_notebook: Any, canary_emulator: RunningEmulator
) -> None:
    """regenerating_the_client runs the real check and shows it catching drift."""
    executed = run_notebook(NOTEBOOKS / "regenerating_the_client.ipynb", timeout=240)

    text = outputs_text(executed)
    assert "up to date" in text
    assert "out of date" in text
    assert CANARY.secret_key not in text


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
