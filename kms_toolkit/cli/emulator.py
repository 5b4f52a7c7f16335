"""``kms-toolkit emulator``: serve a local NCP KMS emulator until Ctrl-C or SIGTERM.

The first line on stdout is one JSON object for scripts to read, printed as
soon as the port accepts connections::

    {"url": "http://127.0.0.1:8080/kms/v1",
     "admin_url": "http://127.0.0.1:8080/_emulator",
     "access_key": "EMU...", "secret_key": "...", "dataset": "demo", "keys": 8}

The key pair is the emulator's own throwaway one, not an NCP secret.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, Final

from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator.datasets import DATASETS
from kms_toolkit.emulator.server import LOOPBACK, RunningEmulator, is_loopback, start

__all__ = ["register"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``emulator`` subcommand."""
    parser = subparsers.add_parser(
        "emulator",
        help="serve a local NCP KMS emulator",
        description="Serve a local emulator of NCP KMS (signature checks, KMS "
        "rules, injected latency, rate limits and faults). The first stdout "
        "line is a JSON object with url, access_key and secret_key.",
    )
    parser.add_argument("--host", default=LOOPBACK, help="default %(default)s")
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host reachable from other machines",
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="demo",
        help="demo: a handful of keys in every state; synthetic: --keys of them",
    )
    parser.add_argument("--keys", type=int, default=1000, help="synthetic: key count")
    parser.add_argument(
        "--versions-per-key", type=int, default=10, help="synthetic: versions per key"
    )
    parser.add_argument("--seed", type=int, default=0, help="data set and jitter seed")
    parser.add_argument(
        "--access-key", help="accept this access key (with --secret-key)"
    )
    parser.add_argument("--secret-key", help="the secret of --access-key")
    add_injection_arguments(parser)
    parser.set_defaults(handler=run_emulator)


def add_injection_arguments(parser: argparse.ArgumentParser) -> None:
    """Latency, rate limit and fault rate options."""
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="added to every answer"
    )
    parser.add_argument(
        "--jitter-ms",
        type=float,
        default=0.0,
        help="a uniform draw from 0 to this (seeded), added on top of --latency-ms",
    )
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="requests per second (429/420)"
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="share of requests answered 503, 504 or dropped (0-1)",
    )


def run_emulator(args: argparse.Namespace) -> int:
    """Start the emulator, announce it, serve until a signal; return the exit status."""
    # The handlers go in before the server starts and stay until it has
    # stopped: a script may signal the moment it has read the first line.
    with stop_requested() as stop:
        try:
            emulator = start_from_args(args)
        except ValueError as error:
            print(f"kms-toolkit emulator: {error}", file=sys.stderr)
            return EXIT_USAGE
        try:
            print(json.dumps(announcement(emulator, args.dataset)), flush=True)
            print(
                f"Serving NCP KMS ({len(emulator.state)} keys) at {emulator.url}; "
                "Ctrl-C to stop.",
                flush=True,
            )
            status = serve_until(stop, emulator)
        finally:
            stopped = stopped_cleanly(emulator)
    return status if stopped else EXIT_FAILED


def start_from_args(args: argparse.Namespace) -> RunningEmulator:
    """The running emulator the arguments describe; ValueError when they are wrong."""
    if (args.access_key is None) != (args.secret_key is None):
        raise ValueError("--access-key and --secret-key go together")
    if not is_loopback(args.host) and not args.allow_remote:
        raise ValueError(f"--host {args.host} is not loopback; add --allow-remote")
    credentials = None
    if args.access_key is not None:
        credentials = Credentials(args.access_key, args.secret_key, source="argument")
    return start(
        args.dataset,
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        keys=args.keys,
        versions_per_key=args.versions_per_key,
        seed=args.seed,
        credentials=credentials,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        rate_limit=args.rate_limit,
        fault_rate=args.fault_rate,
    )


def announcement(emulator: RunningEmulator, dataset: str) -> dict[str, Any]:
    """The first stdout line: where it listens and the key pair it accepts."""
    return {
        "url": emulator.url,
        "admin_url": f"{emulator.root_url}/_emulator",
        "access_key": emulator.credentials.access_key,
        "secret_key": emulator.credentials.secret_key,
        "dataset": dataset,
        "keys": len(emulator.state),
    }


@contextmanager
def stop_requested() -> Iterator[threading.Event]:
    """An event that SIGINT or SIGTERM sets while the block runs.

    The previous handlers come back when the block ends.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, request_stop) for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def serve_until(stop: threading.Event, emulator: RunningEmulator) -> int:
    """Block until ``stop`` is set (exit 0) or the server dies (exit 1)."""
    while not stop.wait(0.5):
        if not emulator.running:
            print("kms-toolkit emulator: the server stopped", file=sys.stderr)
            return EXIT_FAILED
    return EXIT_OK


def stopped_cleanly(emulator: RunningEmulator) -> bool:
    """Stop the emulator; False (said on stderr) when it would not stop."""
    try:
        emulator.stop()
    except RuntimeError as error:
        print(f"kms-toolkit emulator: {error}", file=sys.stderr)
        return False
    return True
