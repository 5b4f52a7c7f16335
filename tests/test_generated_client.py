"""The committed generated client is exactly what the spec produces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "generate_client.py"
SPEC = ROOT / "openapi" / "kms.yaml"

pytestmark = pytest.mark.slow


def run_check(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--check", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_committed_client_matches_the_spec() -> None:
    """Regenerating from openapi/kms.yaml changes nothing."""
    result = run_check()

    assert result.returncode == 0, result.stderr
    assert "generated_client/ matches openapi/kms.yaml" in result.stdout


def test_changed_spec_fails_the_check_with_a_diff(tmp_path: Path) -> None:
    """A spec with one more operation makes --check exit 1 showing the change."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["paths"]["/keys/{keyTag}/rotate"] = {
        "parameters": [{"$ref": "#/components/parameters/KeyTag"}],
        "post": {
            "operationId": "rotateKey",
            "tags": ["keys"],
            "responses": {"200": {"description": "Rotated"}},
        },
    }
    changed = tmp_path / "kms.yaml"
    changed.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")

    result = run_check("--spec", str(changed))

    assert result.returncode == 1
    assert "+++ generated/api/keys/rotate_key.py" in result.stderr
    assert "/keys/{key_tag}/rotate" in result.stderr
    assert "is stale" in result.stderr


def test_check_against_another_target_folder_fails_on_a_missing_file(
    tmp_path: Path,
) -> None:
    """--target compares another folder; a file missing there is reported."""
    target = tmp_path / "generated_client"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--target", str(target)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    (target / "errors.py").unlink()

    result = run_check("--target", str(target))

    assert result.returncode == 1
    assert "+++ generated/errors.py" in result.stderr
