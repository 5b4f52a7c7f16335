"""Results to DataFrame time, and the peak memory of a 100,000-target run.

1. A ledger with 100,000 recorded outcomes (one in seven a failure) is turned
   into a DataFrame with ``results_frame``; best and median of 5, against the
   0.25 s budget.
2. A 100,000-target dry run goes through the whole engine (validation,
   ledger, worker pool, progress) in this process; its peak RSS is read with
   ``resource.getrusage`` against the 150 MB budget, beside the RSS of the
   process after its imports (the baseline).

Run it in a fresh process: peak RSS is a high-water mark.

    .venv/bin/python benchmarks/bulk_frames.py [--targets 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from pathlib import Path

from kms_toolkit.bulk import Ledger, enable_versions, load_targets
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.credentials import Credentials


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_targets(count: int) -> list[tuple[str, int]]:
    """Key tags shaped like NCP's (52 characters), ten versions per key."""
    return [(f"{index // 10:052d}", index % 10 + 1) for index in range(count)]


def dry_run_peak(count: int, ledger: Path) -> float:
    """Peak RSS after a dry run of ``count`` targets through the engine."""

    async def run() -> None:
        client = AsyncKmsClient(
            Credentials("AK", "not-used"), endpoint="http://127.0.0.1:9/kms/v1"
        )
        async with client:
            result = await enable_versions(
                client, synthetic_targets(count), dry_run=True, ledger_path=ledger
            )
        assert result.counts["dry_run"] == count

    asyncio.run(run())
    return peak_rss_mb()


def frame_seconds(count: int, ledger: Path) -> list[float]:
    """Seconds to build the results frame of ``count`` outcomes, five times."""
    # Imported here: pandas must not count toward the dry run's peak.
    from kms_toolkit.bulk import results_frame

    targets = load_targets(synthetic_targets(count))
    now_ms = int(time.time() * 1000)
    with Ledger.create(
        ledger, run_id="bench", targets=targets, parameters={}, dry_run=False
    ) as writer:
        writer.record(
            [
                (seq, "failed", None, None, 429, "420", "ThrottledError", "HTTP 429",
                 5, 12.5, now_ms, now_ms + 30)
                if seq % 7 == 0
                else (seq, "enabled", "ENABLE", now_ms, 200, None, None, None,
                      1, 3.25, now_ms, now_ms + 4)
                for seq in range(1, count + 1)
            ]
        )  # fmt: skip
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        frame = results_frame(ledger)
        timings.append(time.perf_counter() - started)
    assert len(frame) == count
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    args = parser.parse_args()
    baseline = peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        peak = dry_run_peak(args.targets, Path(tmp, "dry.sqlite"))
        timings = frame_seconds(args.targets, Path(tmp, "frame.sqlite"))
    best, median = min(timings), statistics.median(timings)
    print(f"{args.targets} targets")
    print(f"results_frame: best {best:.3f} s, median {median:.3f} s "
          f"= {median / 0.25:.0%} of the 0.25 s budget")  # fmt: skip
    print(f"dry run peak RSS: {peak:.0f} MB = {peak / 150:.0%} of the 150 MB budget "
          f"(after imports: {baseline:.0f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
