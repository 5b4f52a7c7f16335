"""Run the emulator for real: uvicorn on a loopback port, in a background thread.

Example (a notebook cell):
    >>> with serve(dataset="demo") as emulator:
    ...     client = KmsClient(emulator.credentials, endpoint=emulator.url)
    ...     emulator.configure(latency_ms=50, rate_limit=20)
    ...     emulator.counters.requests("enableKeyVersion")

Or without ``with``, stopping it in a later cell::

    emulator = start(dataset="synthetic", keys=500)
    ...
    emulator.stop()
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator.app import API_PREFIX, DROP_EXTENSION, EmulatorApp
from kms_toolkit.emulator.counters import Counters
from kms_toolkit.emulator.datasets import build_state
from kms_toolkit.emulator.faults import Fault, FaultRule, InjectionSettings, Injector
from kms_toolkit.emulator.gateway import Gateway, generate_credentials
from kms_toolkit.emulator.state import KmsState

__all__ = [
    "LOOPBACK",
    "DroppingHttpToolsProtocol",
    "RunningEmulator",
    "build_app",
    "serve",
    "start",
]

logger = logging.getLogger(__name__)

LOOPBACK: Final = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS: Final = 10.0
STOP_TIMEOUT_SECONDS: Final = 10.0


class DroppingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus a hook that lets the app hang up.

    ASGI offers no way to close a connection without answering; this puts the
    transport's ``close`` into each request's scope under ``DROP_EXTENSION``.
    """

    def on_message_begin(self) -> None:
        super().on_message_begin()
        extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
        extensions[DROP_EXTENSION] = self.transport.close


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only."""
    return host in ("localhost", "::1") or host.startswith("127.")


def build_app(
    dataset: str = "demo",
    *,
    keys: int = 1000,
    versions_per_key: int = 10,
    seed: int = 0,
    credentials: Credentials | Iterable[Credentials] | None = None,
    injection: InjectionSettings | None = None,
    state: KmsState | None = None,
) -> tuple[EmulatorApp, list[Credentials]]:
    """An emulator app and the key pairs it accepts (one generated if none given)."""
    if isinstance(credentials, Credentials):
        credentials = [credentials]
    pairs = list(credentials) if credentials is not None else [generate_credentials()]
    if state is None:
        state = build_state(
            dataset, keys=keys, versions_per_key=versions_per_key, seed=seed
        )
    app = EmulatorApp(
        state,
        gateway=Gateway(pairs),
        injector=Injector(injection, seed=seed),
        counters=Counters(),
    )
    return app, pairs


class RunningEmulator:
    """An emulator serving on a loopback port until :meth:`stop` is called.

    Attributes:
        url: the base URL, ``/kms/v1`` included, to hand to a client.
        credentials: the first accepted key pair (secret masked in reprs).
        state: the keys and versions, readable and changeable while it runs.
        counters: what it has answered so far.
        injector: latency, rate limit and faults; see :meth:`configure`.
    """

    def __init__(
        self,
        app: EmulatorApp,
        credentials: list[Credentials],
        *,
        host: str = LOOPBACK,
        port: int = 0,
        allow_remote: bool = False,
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise ValueError(
                f"host {host!r} is not loopback; pass allow_remote=True to expose "
                "the emulator beyond this machine"
            )
        self.app = app
        self.credentials = credentials[0]
        self.all_credentials = credentials
        self.host = host
        self._socket = bind_socket(host, port)
        self.port: int = self._socket.getsockname()[1]
        self._server = uvicorn.Server(self._config(host))
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        running = "running" if self.running else "stopped"
        return f"RunningEmulator(url={self.url!r}, {running}, {self.state!r})"

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL including ``/kms/v1``."""
        return f"{self.root_url}{API_PREFIX}"

    @property
    def root_url(self) -> str:
        """The server's URL without a path (admin routes live under it)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def state(self) -> KmsState:
        return self.app.state

    @property
    def counters(self) -> Counters:
        return self.app.counters

    @property
    def injector(self) -> Injector:
        return self.app.injector

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def configure(self, **changes: Any) -> InjectionSettings:
        """Change injection while it runs, e.g. ``configure(rate_limit=50)``."""
        return self.injector.configure(**changes)

    def schedule(self, fault: Fault | str | FaultRule, **match: Any) -> FaultRule:
        """Schedule a fault, e.g. ``schedule("drop", key_tag=tag, call=2)``."""
        return self.injector.schedule(fault, **match)

    def _config(self, host: str) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            host=host,
            http=DroppingHttpToolsProtocol,
            loop="asyncio",
            lifespan="off",
            # Leave the host program's logging alone (notebooks, pytest).
            log_config=None,
            access_log=False,
            server_header=False,
            # Nothing sits in front of the emulator; skip the proxy middleware.
            proxy_headers=False,
            # The app sends its own Date, from its injectable clock.
            date_header=False,
            timeout_graceful_shutdown=2,
        )

    def start(self) -> RunningEmulator:
        """Serve in a daemon thread; returns once the port accepts requests."""
        if self._thread is not None:
            raise RuntimeError("this emulator was already started")
        self._thread = threading.Thread(
            target=self._run, name=f"kms-emulator-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator did not start on port {self.port}")
            time.sleep(0.005)
        logger.info("KMS emulator serving %s", self.url)
        return self

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Stop serving and release the port; safe to call twice.

        Raises:
            RuntimeError: the server is still running ``timeout`` seconds
                later (something blocks its event loop); the port stays
                bound, and calling ``stop`` again tries once more.
        """
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                raise RuntimeError(
                    f"the emulator on port {self.port} is still running "
                    f"{timeout:g} s after it was asked to stop"
                )
        self._socket.close()
        logger.info("KMS emulator on port %s stopped", self.port)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Naming the protocol matters: asyncio sets TCP_NODELAY only on sockets
    # whose proto is IPPROTO_TCP, and without it every answer (headers and
    # body are two writes) waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        # Listening now means clients may connect as soon as the URL is
        # known; they wait in the backlog until the server loop accepts.
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def start(
    dataset: str = "demo",
    *,
    host: str = LOOPBACK,
    port: int = 0,
    allow_remote: bool = False,
    keys: int = 1000,
    versions_per_key: int = 10,
    seed: int = 0,
    credentials: Credentials | Iterable[Credentials] | None = None,
    state: KmsState | None = None,
    **injection: Any,
) -> RunningEmulator:
    """Start an emulator in the background and return it; call ``.stop()`` when done.

    ``injection`` takes the fields of :class:`InjectionSettings`
    (``latency_ms``, ``jitter_ms``, ``rate_limit``, ``fault_rate``, ``fault_kinds``).

    Example:
        >>> emulator = start(dataset="demo", latency_ms=30)
        >>> emulator.url
        'http://127.0.0.1:...'
        >>> emulator.stop()
    """
    if allow_remote and not is_loopback(host):
        warnings.warn(
            f"the emulator listens on {host}, reachable from other machines; its "
            "admin routes still answer loopback clients only",
            stacklevel=2,
        )
    app, pairs = build_app(
        dataset,
        keys=keys,
        versions_per_key=versions_per_key,
        seed=seed,
        credentials=credentials,
        injection=InjectionSettings(**injection),
        state=state,
    )
    emulator = RunningEmulator(
        app, pairs, host=host, port=port, allow_remote=allow_remote
    )
    return emulator.start()


@contextmanager
def serve(dataset: str = "demo", **options: Any) -> Iterator[RunningEmulator]:
    """Run an emulator for the duration of a ``with`` block; stopped on exit.

    Takes the same arguments as :func:`start`.

    Example:
        >>> with serve(dataset="demo") as emulator:
        ...     print(emulator.url, emulator.credentials.access_key)
    """
    emulator = start(dataset, **options)
    try:
        yield emulator
    finally:
        emulator.stop()
