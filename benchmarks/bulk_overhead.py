"""The engine's cost over a bare signed request loop, as a share of its time.

Both sides use the same client (same transport, signing and generated
client), the same concurrency and the same targets against one emulator
process with latency; the bare loop is a fixed pool of coroutines calling
``enable_key_version`` and nothing else (no limiter, retries, ledger or
progress). Rounds alternate bare/engine to spread the machine's noise; the
medians of wall time and of this process's CPU time are compared.

    .venv/bin/python benchmarks/bulk_overhead.py [--targets 4000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

from kms_toolkit.bulk import Outcome, enable_versions
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.emulator import EmulatorProcess, spawn

CONCURRENCY = 128
LATENCY_MS = 50

Timing = tuple[float, float]  # wall seconds, CPU seconds of this process


def new_client(emulator: EmulatorProcess) -> AsyncKmsClient:
    return AsyncKmsClient(
        emulator.credentials, endpoint=emulator.url, max_connections=CONCURRENCY
    )


async def timed(work: Awaitable[object]) -> Timing:
    started, cpu = time.perf_counter(), time.process_time()
    await work
    return time.perf_counter() - started, time.process_time() - cpu


async def bare_loop(
    emulator: EmulatorProcess, targets: list[tuple[str, int]]
) -> Timing:
    """A fixed pool of coroutines enabling every target, nothing more."""
    async with new_client(emulator) as client:
        shared = iter(targets)

        async def worker() -> None:
            for key_tag, version in shared:
                await client.enable_key_version(key_tag, version)

        return await timed(asyncio.gather(*(worker() for _ in range(CONCURRENCY))))


async def engine(
    emulator: EmulatorProcess, targets: list[tuple[str, int]], ledger: Path
) -> Timing:
    """``enable_versions`` enabling every target."""
    async with new_client(emulator) as client:
        run = asyncio.ensure_future(
            enable_versions(
                client,
                targets,
                concurrency=CONCURRENCY,
                precheck=False,
                ledger_path=ledger,
            )
        )
        timing = await timed(run)
    if run.result().counts[Outcome.ENABLED] != len(targets):
        raise SystemExit(f"not every target was enabled: {run.result().counts}")
    return timing


def report(targets: int, bare_times: list[Timing], engine_times: list[Timing]) -> None:
    for index, label in enumerate(("wall", "CPU")):
        bare = statistics.median(t[index] for t in bare_times)
        full = statistics.median(t[index] for t in engine_times)
        share = (full - bare) / full
        print(
            f"{label:4}: bare {bare:6.2f} s, engine {full:6.2f} s, overhead "
            f"{share:6.1%} of the engine's {label} time"
        )
    bare_rate = targets / statistics.median(t[0] for t in bare_times)
    engine_rate = targets / statistics.median(t[0] for t in engine_times)
    print(f"rates: bare {bare_rate:.0f}/s, engine {engine_rate:.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("stamina").setLevel(logging.ERROR)
    keys = str(args.targets // 2 + 100)
    options = [
        "--dataset",
        "synthetic",
        "--keys",
        keys,
        "--latency-ms",
        str(LATENCY_MS),
    ]
    bare_times: list[Timing] = []
    engine_times: list[Timing] = []
    with spawn(*options) as emulator, tempfile.TemporaryDirectory() as tmp:
        targets = emulator.disabled_versions(args.targets)
        for number in range(args.rounds):
            bare_times.append(asyncio.run(bare_loop(emulator, targets)))
            ledger = Path(tmp, f"run-{number}.sqlite")
            engine_times.append(asyncio.run(engine(emulator, targets, ledger)))
    print(
        f"targets {len(targets)}, concurrency {CONCURRENCY}, latency {LATENCY_MS} ms, "
        f"{args.rounds} rounds, medians"
    )
    report(len(targets), bare_times, engine_times)


if __name__ == "__main__":
    main()
