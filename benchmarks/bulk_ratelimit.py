"""How close the adaptive limiter gets to a server rate limit it is not told.

The emulator admits 200 requests per second (429/420 beyond); the engine
starts unpaced with no rate given and must find the limit from the 429s.
Reports the accepted rate as a share of the limit and the share of requests
answered 429, from the emulator's own counters.

    .venv/bin/python benchmarks/bulk_ratelimit.py [--limit 200] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

from kms_toolkit.bulk import Outcome, enable_versions
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.emulator import EmulatorProcess, spawn

CONCURRENCY = 32
LATENCY_MS = 10


async def run(
    emulator: EmulatorProcess, targets: list[tuple[str, int]], ledger: Path
) -> float:
    """Seconds to enable every target without being told the limit."""
    client = AsyncKmsClient(emulator.credentials, endpoint=emulator.url)
    async with client:
        started = time.perf_counter()
        result = await enable_versions(
            client,
            targets,
            concurrency=CONCURRENCY,
            max_attempts=20,
            precheck=False,
            ledger_path=ledger,
        )
        elapsed = time.perf_counter() - started
    if result.counts[Outcome.ENABLED] != len(targets):
        raise SystemExit(f"not every target was enabled: {result.counts}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    logging.getLogger("stamina").setLevel(logging.ERROR)
    count = int(args.limit * args.seconds)
    options = ["--dataset", "synthetic", "--keys", str(count // 2 + 100)]
    options += ["--latency-ms", str(LATENCY_MS), "--rate-limit", str(args.limit)]
    with spawn(*options) as emulator, tempfile.TemporaryDirectory() as tmp:
        targets = emulator.disabled_versions(count)
        emulator.admin("POST", "counters/reset")
        elapsed = asyncio.run(run(emulator, targets, Path(tmp, "run.sqlite")))
        counters = emulator.admin("GET", "counters")["requests"]["enableKeyVersion"]
    throttled = counters.get("429", 0)
    sent = sum(counters.values())
    accepted_rate = len(targets) / elapsed
    # The emulator's bucket starts full (one second's worth of burst): those
    # requests are free, so the sustained figure leaves them out.
    sustained = (len(targets) - args.limit) / elapsed
    print(
        f"limit {args.limit:.0f}/s (not told), concurrency {CONCURRENCY}, "
        f"latency {LATENCY_MS} ms, {len(targets)} targets in {elapsed:.1f} s"
    )
    print(f"accepted:  {accepted_rate:6.1f}/s = {accepted_rate / args.limit:.1%} of it")
    print(
        f"sustained: {sustained:6.1f}/s = {sustained / args.limit:.1%} (burst left out)"
    )
    print(f"429s:      {throttled} of {sent} requests = {throttled / sent:.2%}")


if __name__ == "__main__":
    main()
