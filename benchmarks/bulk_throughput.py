"""Enables per second at concurrency 128 with 50 ms of injected latency.

Ideal: 128 requests in flight / 0.05 s = 2,560 enables/s. Runs the engine
twice against one emulator process: with the default aiohttp transport and
with httpx's own async transport (enabling an enabled version is answered
SUCCESS, so the second run does the same work). Also reports the client
process's peak RSS and, with --profile, a cProfile of the first run.

    .venv/bin/python benchmarks/bulk_throughput.py [--targets 10000] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import resource
import tempfile
import time
from pathlib import Path

import httpx

from kms_toolkit.bulk import Outcome, enable_versions
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.emulator import EmulatorProcess, spawn

CONCURRENCY = 128
LATENCY_MS = 50


async def timed_run(
    emulator: EmulatorProcess,
    targets: list[tuple[str, int]],
    ledger: Path,
    transport: httpx.AsyncBaseTransport | None,
) -> tuple[float, float]:
    """Enables per second of one engine run, and client CPU ms per enable."""
    client = AsyncKmsClient(
        emulator.credentials,
        endpoint=emulator.url,
        transport=transport,
        max_connections=CONCURRENCY,
    )
    async with client:
        started, cpu = time.perf_counter(), time.process_time()
        result = await enable_versions(
            client, targets, concurrency=CONCURRENCY, precheck=False, ledger_path=ledger
        )
        elapsed = time.perf_counter() - started
        cpu_ms = (time.process_time() - cpu) * 1000 / len(targets)
    if result.counts[Outcome.ENABLED] != len(targets):
        raise SystemExit(f"not every target was enabled: {result.counts}")
    return len(targets) / elapsed, cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    logging.getLogger("stamina").setLevel(logging.ERROR)
    keys = args.targets // 2 + 100
    options = ["--dataset", "synthetic", "--keys", str(keys)]
    options += ["--versions-per-key", "10", "--latency-ms", str(LATENCY_MS)]
    ideal = CONCURRENCY / (LATENCY_MS / 1000)
    with spawn(*options) as emulator, tempfile.TemporaryDirectory() as tmp:
        targets = emulator.disabled_versions(args.targets)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        fast, fast_cpu = asyncio.run(
            timed_run(emulator, targets, Path(tmp, "a.sqlite"), None)
        )
        if profiler:
            profiler.disable()
        default, default_cpu = asyncio.run(
            timed_run(
                emulator, targets, Path(tmp, "b.sqlite"), httpx.AsyncHTTPTransport()
            )
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"targets {len(targets)}, concurrency {CONCURRENCY}, latency {LATENCY_MS} ms")
    print(f"ideal:                     {ideal:6.0f} enables/s")
    print(
        f"aiohttp transport:         {fast:6.0f} enables/s, {fast / ideal:.0%} of ideal"
    )
    print(f"  client CPU per enable:    {fast_cpu:6.2f} ms")
    print(
        f"httpx's default transport: {default:6.0f} enables/s, "
        f"{default / ideal:.0%} of ideal, {default / fast:.2f}x the aiohttp run"
    )
    print(f"  client CPU per enable:    {default_cpu:6.2f} ms")
    print(f"client peak RSS:           {peak_mb:6.0f} MB")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
