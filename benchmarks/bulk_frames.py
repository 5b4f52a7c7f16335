"""Results to DataFrame time, and the peak memory of a 100,000-target run.

1. A ledger with 100,000 recorded outcomes (one in seven a failure) is turned
   into a DataFrame with ``results_frame``; best and median of 5, against the
   0.25 s budget.
2. A 100,000-target dry run goes through the whole engine (validation,
   ledger, worker pool, progress) in this process; its peak RSS is read with
   ``resource.getrusage`` against the 150 MB budget, beside the RSS of the
   process after its imports (the baseline).
3. A 100,000-target run that really sends: the emulator in a process of its
   own (synthetic data, 5 ms latency), concurrency 128, ``precheck=False``
   (the targets are the emulator's disabled versions, as fresh as a plan),
   run in a fresh interpreter so that its peak RSS is its own and not the
   dry run's. The target list it holds counts toward its peak, as it would
   in real use. The run is stopped after ``--deadline`` seconds to keep the
   benchmark bounded; the output says if that happened.

Run it in a fresh process: peak RSS is a high-water mark.

    .venv/bin/python benchmarks/bulk_frames.py [--targets 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kms_toolkit.bulk import Ledger, Outcome, enable_versions, load_targets
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator import EmulatorProcess, spawn

BUDGET_MB = 150
CONCURRENCY = 128
LATENCY_MS = 5


def peak_rss_mb() -> float:
    """This process's peak RSS in MB.

    Linux's ``VmHWM`` first: ``ru_maxrss`` survives ``exec``, so a child
    started by a big parent would report the parent's size.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


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


async def send_all(
    emulator: EmulatorProcess,
    targets: list[tuple[str, int]],
    ledger: Path,
    deadline: float,
) -> tuple[int, bool]:
    """Enable ``targets``, stopping after ``deadline`` s; (enabled, stopped)."""
    client = AsyncKmsClient(
        emulator.credentials, endpoint=emulator.url, max_connections=CONCURRENCY
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(deadline, stop.set)
    async with client:
        result = await enable_versions(
            client,
            targets,
            concurrency=CONCURRENCY,
            precheck=False,
            stop=stop,
            ledger_path=ledger,
        )
    return result.counts[Outcome.ENABLED], stop.is_set()


def real_run(count: int, deadline: float) -> dict[str, Any]:
    """(In the child) a run that sends ``count`` enables; its figures."""
    logging.getLogger("stamina").setLevel(logging.ERROR)
    baseline = peak_rss_mb()
    options = ["--dataset", "synthetic", "--keys", str(count // 2 + 100)]
    options += ["--versions-per-key", "10", "--latency-ms", str(LATENCY_MS)]
    with spawn(*options) as emulator, tempfile.TemporaryDirectory() as tmp:
        targets = emulator.disabled_versions(count)
        started = time.perf_counter()
        enabled, stopped = asyncio.run(
            send_all(emulator, targets, Path(tmp, "run.sqlite"), deadline)
        )
        elapsed = time.perf_counter() - started
    return {
        "peak_mb": peak_rss_mb(),
        "baseline_mb": baseline,
        "enabled": enabled,
        "seconds": elapsed,
        "stopped": stopped,
    }


def real_run_in_child(count: int, deadline: float) -> dict[str, Any]:
    """``real_run`` in a fresh interpreter; its figures, read from its last line."""
    command = [sys.executable, __file__, "--targets", str(count)]
    command += ["--deadline", str(deadline), "--real-run-only"]
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=deadline + 120
    )
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return figures


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
    parser.add_argument("--deadline", type=float, default=100.0)
    parser.add_argument("--real-run-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.real_run_only:
        print(json.dumps(real_run(args.targets, args.deadline)))
        return
    baseline = peak_rss_mb()
    # The sending run first, while this process is still small.
    real = real_run_in_child(args.targets, args.deadline)
    with tempfile.TemporaryDirectory() as tmp:
        peak = dry_run_peak(args.targets, Path(tmp, "dry.sqlite"))
        timings = frame_seconds(args.targets, Path(tmp, "frame.sqlite"))
    best, median = min(timings), statistics.median(timings)
    print(f"{args.targets} targets")
    print(f"results_frame: best {best:.3f} s, median {median:.3f} s "
          f"= {median / 0.25:.0%} of the 0.25 s budget")  # fmt: skip
    print(f"dry run peak RSS: {peak:.0f} MB = {peak / BUDGET_MB:.0%} of the "
          f"{BUDGET_MB} MB budget (after imports: {baseline:.0f} MB)")  # fmt: skip
    rate = real["enabled"] / real["seconds"]
    ending = "stopped at the deadline" if real["stopped"] else "all sent"
    print(f"sending run peak RSS: {real['peak_mb']:.0f} MB = "
          f"{real['peak_mb'] / BUDGET_MB:.0%} of the {BUDGET_MB} MB budget "
          f"(after imports: {real['baseline_mb']:.0f} MB); {real['enabled']} "
          f"enabled in {real['seconds']:.1f} s = {rate:.0f}/s, {ending}")  # fmt: skip


if __name__ == "__main__":
    main()
