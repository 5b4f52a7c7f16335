"""How many signed enable requests per second the emulator serves, against a baseline.

Starts ``kms-toolkit emulator --dataset synthetic`` in its own process with
injection off, drives enable requests at it from this process with an
aiohttp load loop (signed like a real client, bounded in count and time), and
does the same against a trivial uvicorn app answering a fixed JSON body, so
the ratio shows what the emulator's own work costs.

Run::

    .venv/bin/python benchmarks/emulator_throughput.py

Both servers run for the whole benchmark; load runs alternate between them
(``--rounds`` each) so that other work on the machine weighs on both alike.
The last stdout line is one JSON object with the medians and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import selectors
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yarl

from kms_toolkit.auth import signing_headers
from kms_toolkit.credentials import Credentials

KMS_TOOLKIT = str(Path(sys.executable).with_name("kms-toolkit"))
BASELINE_BODY = (
    b'{"code":"SUCCESS","data":{"version":1,"status":"ENABLE","statusDate":1}}'
)


@dataclass(frozen=True)
class LoadResult:
    """What one load run achieved."""

    name: str
    requests: int
    seconds: float
    statuses: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=5000)
    parser.add_argument("--versions-per-key", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=10000, help="per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per server")
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per run")
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- the servers, each in its own process ---------------------------------------


def first_json_line(process: subprocess.Popen[str], timeout: float = 60.0) -> Any:
    """The JSON object a server prints first, once it listens."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise RuntimeError(f"no announcement within {timeout} s")
    return json.loads(process.stdout.readline())


@contextmanager
def server_process(command: list[str]) -> Iterator[dict[str, Any]]:
    """Run a server that announces itself on stdout; always stop it afterwards."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        yield first_json_line(process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


async def baseline_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A trivial ASGI app: the same JSON for every request."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(BASELINE_BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": BASELINE_BODY})


def serve_baseline() -> None:
    """Serve ``baseline_app`` with the same uvicorn settings as the emulator."""
    import uvicorn

    from kms_toolkit.emulator.server import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    print(json.dumps({"url": f"http://127.0.0.1:{port}/kms/v1"}), flush=True)
    config = uvicorn.Config(
        baseline_app,
        http="httptools",
        loop="asyncio",
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
    uvicorn.Server(config).run(sockets=[sock])


# -- the load generator -----------------------------------------------------------


async def drive(
    name: str,
    url: str,
    credentials: Credentials,
    targets: list[tuple[str, int]],
    *,
    count: int,
    concurrency: int,
    max_seconds: float,
) -> LoadResult:
    """Send ``count`` signed enables (cycling over ``targets``) and time them."""
    parts = urllib.parse.urlsplit(url)
    origin, prefix = f"{parts.scheme}://{parts.netloc}", parts.path
    queue = itertools.islice(itertools.cycle(targets), count)
    statuses: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    # The load loop must cost the client as little as possible: no cookies,
    # no decompression, no default headers, URLs built pre-encoded.
    session = aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
    )
    started = time.perf_counter()
    deadline = started + max_seconds

    async def worker() -> None:
        for tag, version in queue:
            if time.perf_counter() > deadline:
                return
            path = f"{prefix}/keys/{tag}/versions/{version}/enable"
            now_ms = int(time.time() * 1000)
            headers = signing_headers(credentials, "POST", path, now_ms)
            try:
                async with session.post(
                    yarl.URL(origin + path, encoded=True), headers=headers
                ) as answer:
                    await answer.read()
                    statuses[str(answer.status)] += 1
            except aiohttp.ClientError as error:
                statuses[type(error).__name__] += 1

    async with session:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return LoadResult(name, sum(statuses.values()), seconds, dict(statuses))


def run_load(
    name: str,
    announced: dict[str, Any],
    credentials: Credentials,
    targets: list[tuple[str, int]],
    args: argparse.Namespace,
) -> LoadResult:
    """A warm-up, then the measured run, against one announced server."""
    common = {"concurrency": args.concurrency, "max_seconds": args.max_seconds}
    asyncio.run(
        drive(name, announced["url"], credentials, targets, count=args.warmup, **common)
    )
    return asyncio.run(
        drive(
            name, announced["url"], credentials, targets, count=args.requests, **common
        )
    )


def fetch_targets(admin_url: str) -> list[tuple[str, int]]:
    """The emulator's enable-able disabled versions, from its admin route."""

    async def fetch() -> list[tuple[str, int]]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{admin_url}/disabled-versions") as response,
        ):
            return [(tag, version) for tag, version in await response.json()]

    return asyncio.run(fetch())


def report(
    emulator: list[LoadResult], baseline: list[LoadResult], args: argparse.Namespace
) -> dict[str, Any]:
    """Print every run; return the medians and their ratio as one JSON object."""
    print(f"{'server':<10} {'requests':>9} {'seconds':>8} {'req/s':>8}  statuses")
    for result in itertools.chain(*zip(emulator, baseline, strict=True)):
        print(
            f"{result.name:<10} {result.requests:>9} {result.seconds:>8.2f} "
            f"{result.per_second:>8.0f}  {result.statuses}"
        )
    emulator_rps = statistics.median(r.per_second for r in emulator)
    baseline_rps = statistics.median(r.per_second for r in baseline)
    return {
        "emulator_rps_median": round(emulator_rps),
        "emulator_rps_best": round(max(r.per_second for r in emulator)),
        "baseline_rps_median": round(baseline_rps),
        "ratio_of_medians": round(emulator_rps / baseline_rps, 3),
        "rounds": args.rounds,
        "requests_per_run": args.requests,
        "concurrency": args.concurrency,
        "keys": args.keys,
        "versions_per_key": args.versions_per_key,
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "emulator_failures": sum(
            count
            for result in emulator
            for status, count in result.statuses.items()
            if status != "200"
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """Start both servers, alternate load runs between them, print the figures."""
    args = parse_arguments(argv)
    if args.serve_baseline:
        serve_baseline()
        return 0
    emulator_command = [
        KMS_TOOLKIT, "emulator", "--dataset", "synthetic",
        "--keys", str(args.keys), "--versions-per-key", str(args.versions_per_key),
        "--seed", str(args.seed),
    ]  # fmt: skip
    baseline_command = [sys.executable, __file__, "--serve-baseline"]
    emulator: list[LoadResult] = []
    baseline: list[LoadResult] = []
    with (
        server_process(emulator_command) as emulator_server,
        server_process(baseline_command) as baseline_server,
    ):
        access, secret = emulator_server["access_key"], emulator_server["secret_key"]
        credentials = Credentials(access, secret)
        targets = fetch_targets(emulator_server["admin_url"])
        # Alternating runs spread any noise from other work on the machine
        # evenly over both servers.
        for _ in range(args.rounds):
            emulator.append(
                run_load("emulator", emulator_server, credentials, targets, args)
            )
            baseline.append(
                run_load("baseline", baseline_server, credentials, targets, args)
            )
    print(json.dumps(report(emulator, baseline, args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
