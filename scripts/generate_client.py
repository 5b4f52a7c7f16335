"""Regenerate ``generated_client/`` from ``openapi/kms.yaml``, or check it is fresh.

``python scripts/generate_client.py`` rewrites the committed client;
``python scripts/generate_client.py --check`` generates into a temporary folder
and exits 1 with a unified diff when the committed client differs from what the
spec produces. ``--spec PATH`` and ``--target DIR`` choose another spec and
another client folder (the defaults are the repository's). The generator always
writes outside the repository so that the repository's own ruff settings (which
exclude the generated code) never touch it.
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


def generate(into: Path, spec: Path = SPEC) -> None:
    """Run openapi-python-client on ``spec``, from this environment, into ``into``."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [
        str(bin_dir / "openapi-python-client"),
        "generate",
        "--path",
        str(spec),
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


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if the client folder is stale"
    )
    parser.add_argument(
        "--spec", type=Path, default=SPEC, help="OpenAPI spec (default: %(default)s)"
    )
    parser.add_argument(
        "--target",
        type=Path,
        default=TARGET,
        help="client folder to check or rewrite (default: %(default)s)",
    )
    return parser.parse_args()


def check(target: Path, fresh_dir: Path, spec: Path) -> int:
    """Exit status 0 if ``target`` equals the fresh client, else 1 and a diff."""
    diff = diff_trees(tree_files(target), tree_files(fresh_dir))
    if diff:
        sys.stderr.write(diff)
        sys.stderr.write(
            f"\n{shown(target)}/ is stale: the spec changed but the client "
            "was not regenerated. Run `make regen` and commit the result.\n"
        )
        return 1
    print(f"{shown(target)}/ matches {shown(spec)}")
    return 0


def shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    resolved = path.resolve()
    return (
        str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)
    )


def main() -> int:
    args = parse_arguments()
    if not args.spec.is_file():
        sys.stderr.write(f"no spec at {args.spec}\n")
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        fresh_dir = Path(scratch) / "generated_client"
        try:
            generate(fresh_dir, args.spec.resolve())
        except subprocess.CalledProcessError as exc:
            sys.stderr.write(f"openapi-python-client failed on {args.spec}:\n")
            sys.stderr.write(
                (exc.stdout or b"").decode() + (exc.stderr or b"").decode()
            )
            return 2
        if args.check:
            return check(args.target, fresh_dir, args.spec)
        shutil.rmtree(args.target, ignore_errors=True)
        shutil.copytree(fresh_dir, args.target, ignore=shutil.ignore_patterns(*IGNORED))
        print(f"regenerated {shown(args.target)}/ from {shown(args.spec)}")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
