"""Regenerate ``generated_client/`` from ``openapi/kms.yaml``, or check it is fresh.

``python scripts/generate_client.py`` rewrites the committed client;
``python scripts/generate_client.py --check`` generates into a temporary folder
and exits 1 with a unified diff when the committed client differs from what the
spec produces. The generator always writes outside the repository so that the
repository's own ruff settings (which exclude the generated code) never touch it.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "kms.yaml"
CONFIG = ROOT / "openapi" / "generator.yaml"
TARGET = ROOT / "generated_client"
IGNORED = {"__pycache__", ".ruff_cache"}


def generate(into: Path) -> None:
    """Run openapi-python-client from this interpreter's environment into ``into``."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [
        str(bin_dir / "openapi-python-client"),
        "generate",
        "--path",
        str(SPEC),
        "--config",
        str(CONFIG),
        "--meta",
        "none",
        "--output-path",
        str(into),
    ]
    subprocess.run(command, check=True, env=env, cwd=into.parent, capture_output=True)


def tree_files(root: Path) -> dict[str, str]:
    """Every text file below ``root``, by its path relative to ``root``."""
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not IGNORED.intersection(path.relative_to(root).parts):
            files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return files


def diff_trees(committed: dict[str, str], fresh: dict[str, str]) -> str:
    """A unified diff from the committed client to the freshly generated one."""
    lines: list[str] = []
    for name in sorted(committed.keys() | fresh.keys()):
        old, new = committed.get(name, ""), fresh.get(name, "")
        if old != new:
            lines.extend(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    fromfile=f"committed/{name}",
                    tofile=f"generated/{name}",
                )
            )
    return "".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if generated_client/ is stale"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        fresh_dir = Path(scratch) / "generated_client"
        generate(fresh_dir)
        if args.check:
            diff = diff_trees(tree_files(TARGET), tree_files(fresh_dir))
            if diff:
                sys.stderr.write(diff)
                sys.stderr.write(
                    "\ngenerated_client/ is stale: the spec changed but the client "
                    "was not regenerated. Run `make regen` and commit the result.\n"
                )
                return 1
            print("generated_client/ matches openapi/kms.yaml")
            return 0
        shutil.rmtree(TARGET, ignore_errors=True)
        shutil.copytree(fresh_dir, TARGET, ignore=shutil.ignore_patterns(*IGNORED))
        print(f"regenerated {TARGET.relative_to(ROOT)}/ from {SPEC.relative_to(ROOT)}")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
