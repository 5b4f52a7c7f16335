"""Fixtures that run notebooks the way users do: a venv kernel, Voila, Chromium.

Everything is isolated in the test's temporary folder: Jupyter's data, config
and runtime folders, and a ``python3`` kernelspec that points at this
interpreter, so a fresh clone needs nothing installed by hand and no user
setting leaks in.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat
import pytest
from nbclient import NotebookClient

from kms_toolkit.notebook.connection import ENDPOINT_VARIABLE

# Where Debian's chromium package puts the browser, for a PATH that lacks it.
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
LOOPBACK = "127.0.0.1"

# Flags for a quiet, offline, disposable headless browser.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Voila's "lab" page template links Font Awesome's stylesheets from a CDN; the
# icons ship inside Voila's own static files as well, so blocking those two
# links loses nothing. Any other request off the loopback fails the test.
KNOWN_TEMPLATE_CDN_LINKS = (
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@",
)


JUPYTER_VARIABLES = (
    "JUPYTER_PATH",
    "JUPYTER_DATA_DIR",
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_RUNTIME_DIR",
    "JUPYTER_PLATFORM_DIRS",
    "IPYTHONDIR",
    "MPLBACKEND",
    "PYDEVD_DISABLE_FILE_VALIDATION",
)


def jupyter_environment(root: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """Environment variables for a Jupyter process isolated under ``root``."""
    kernels = root / "path" / "kernels" / "python3"
    kernels.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (kms-toolkit venv)",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")

    environment = dict(os.environ)
    environment.update(
        JUPYTER_PATH=str(root / "path"),
        JUPYTER_DATA_DIR=str(root / "data"),
        JUPYTER_CONFIG_DIR=str(root / "config"),
        JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(root / "ipython"),
        MPLBACKEND="agg",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    environment.update(extra)
    return environment


def execute_notebook(
    path: Path, *, workdir: Path, timeout: int
) -> nbformat.NotebookNode:
    """Execute a notebook in a fresh kernel and return it with its outputs.

    The kernel inherits ``os.environ``: callers set the Jupyter isolation and
    the emulator's address there (``monkeypatch.setenv``) before calling.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        allow_errors=False,
    )
    client.execute()
    return notebook


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(
    port: int, *, timeout: float, process: subprocess.Popen[bytes]
) -> None:
    """Block until something accepts connections on ``port``, or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with status {process.returncode}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection((LOOPBACK, port), 0.5),
        ):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listened on {LOOPBACK}:{port} within {timeout} s")


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and everything it started (its kernels), politely then not."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    # The kernels sit in the same process group and may outlive Voila.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@contextlib.contextmanager
def serve_with_voila(
    notebook: Path,
    *,
    environment: Mapping[str, str],
    log_path: Path,
    timeout: float = 60,
) -> Iterator[str]:
    """Serve one notebook with Voila on the loopback; yield its URL; always stop it."""
    port = free_port()
    voila = shutil.which("voila", path=str(Path(sys.executable).parent))
    if voila is None:
        raise RuntimeError("voila is not installed in this venv")
    command = [
        voila,
        str(notebook),
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        "--no-browser",
        "--show_tracebacks=True",
        f"--VoilaExecutor.timeout={int(timeout)}",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=notebook.parent,
            env=dict(environment),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_port(port, timeout=timeout, process=process)
            yield f"http://{LOOPBACK}:{port}/"
        except Exception as exc:
            # pytest prunes old temporary folders: keep Voila's words with the failure.
            log.flush()
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
            exc.add_note(f"--- end of {log_path.name} ---\n{tail}")
            raise
        finally:
            stop_process_group(process)


def find_chromium(
    search_path: str | None = None, *, fallback: Path = DEBIAN_CHROMIUM
) -> Path | None:
    """The ``chromium`` on ``search_path`` (default: PATH), else Debian's, else None."""
    found = shutil.which("chromium", path=search_path)
    if found is not None:
        return Path(found)
    return fallback if fallback.is_file() else None


def require_chromium(
    environ: Mapping[str, str], *, fallback: Path = DEBIAN_CHROMIUM
) -> Path:
    """Chromium's path; without it a skip, or a failure under CI.

    CI exists to prove the browser tests, so there a missing browser is an
    error in the machine's set-up, not a reason to pass quietly.
    """
    chromium = find_chromium(environ.get("PATH"), fallback=fallback)
    if chromium is not None:
        return chromium
    reason = "chromium is missing (install Debian's chromium package as root)"
    if environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason}; CI=true, so the browser tests must run")
    pytest.skip(reason)


@dataclass
class RequestGuard:
    """Lets the browser reach the loopback only and records everything else."""

    blocked: list[str] = field(default_factory=list)

    def route(self, route: object) -> None:
        """A Playwright route handler: continue loopback requests, abort others."""
        request = route.request  # type: ignore[attr-defined]
        url = urlsplit(request.url)
        if url.hostname == LOOPBACK or url.scheme in {"data", "blob"}:
            route.continue_()  # type: ignore[attr-defined]
        else:
            self.blocked.append(request.url)
            route.abort()  # type: ignore[attr-defined]

    def unexpected(self) -> list[str]:
        """Blocked requests other than the page template's known CDN links."""
        return [u for u in self.blocked if not u.startswith(KNOWN_TEMPLATE_CDN_LINKS)]


@pytest.fixture
def isolated_jupyter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Isolated Jupyter folders and a venv kernelspec, also set in ``os.environ``."""
    environment = jupyter_environment(tmp_path / "jupyter", {})
    for name in JUPYTER_VARIABLES:
        monkeypatch.setenv(name, environment[name])
    return environment


@pytest.fixture
def jupyter_env(
    isolated_jupyter: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """``isolated_jupyter`` without any NCP credentials, and with an empty home.

    A notebook under test can never reach the real NCP by accident: the
    credentials a developer may have in the environment or in
    ``~/.ncloud/configure`` are out of its sight.
    """
    for name in list(os.environ):
        if name.startswith(("NCLOUD_", "KMS_TOOLKIT_")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return {
        name: value
        for name, value in {**isolated_jupyter, "HOME": str(home)}.items()
        if not name.startswith(("NCLOUD_", "KMS_TOOLKIT_"))
    }


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[tuple[Any, RequestGuard]]:
    """A page in a fresh headless Chromium that may only reach the loopback."""
    chromium = require_chromium(os.environ)
    from playwright.sync_api import sync_playwright

    guard = RequestGuard()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1500},
        )
        try:
            context.route("**/*", guard.route)
            yield context.new_page(), guard
        finally:
            context.close()


@pytest.fixture
def live_run_notebook(
    isolated_jupyter: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Like ``run_notebook``, with the developer's NCP credentials left in place.

    ``KMS_TOOLKIT_ENDPOINT`` is removed at each run: left over from an emulator
    session, it would send a "live" run somewhere other than NCP.
    """
    workdir = tmp_path / "live-work"
    workdir.mkdir()

    def run(path: Path, *, timeout: int = 300) -> nbformat.NotebookNode:
        monkeypatch.delenv(ENDPOINT_VARIABLE, raising=False)
        return execute_notebook(path, workdir=workdir, timeout=timeout)

    return run


@pytest.fixture
def run_notebook(jupyter_env: dict[str, str], tmp_path: Path) -> Any:
    """Execute a notebook in a venv kernel (working folder: a temporary one)."""
    workdir = tmp_path / "work"
    workdir.mkdir()

    def run(path: Path, *, timeout: int = 120) -> nbformat.NotebookNode:
        return execute_notebook(path, workdir=workdir, timeout=timeout)

    return run


@pytest.fixture
def voila(jupyter_env: dict[str, str], tmp_path: Path) -> Any:
    """Serve a notebook with Voila: ``with voila(path, env) as url: ...``."""

    def serve(notebook: Path, extra: Mapping[str, str]) -> Any:
        environment = {**jupyter_env, **extra}
        return serve_with_voila(
            notebook, environment=environment, log_path=tmp_path / "voila.log"
        )

    return serve
