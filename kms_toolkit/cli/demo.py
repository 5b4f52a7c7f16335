"""``kms-toolkit demo``: the whole remediation job against a built-in emulator.

No account and no credentials: the command starts the emulator with its demo
keys in this process, plans, enables, and writes the plan, the ledger, the
results CSV and the HTML report under ``./out/`` (or ``--out-dir``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import Any, Final

from kms_toolkit.bulk import (
    enable_versions,
    export_csv,
    plan_remediation,
    summarize,
    write_report,
)
from kms_toolkit.cli._common import EXIT_FAILED, EXIT_OK, report_error
from kms_toolkit.cli.bulk import as_text_table
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.emulator import serve
from kms_toolkit.errors import KmsToolkitError

__all__ = ["register", "run_demo"]

OUTPUT_NAMES: Final = {
    "plan": "demo-plan.csv",
    "ledger": "demo-ledger.sqlite",
    "results": "demo-results.csv",
    "report": "demo-report.html",
}


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="plan and run a remediation against a built-in emulator",
        description="Start the KMS emulator with demo keys, find the disabled "
        "versions, enable them and write a report. Needs no credentials.",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path("out"),
        metavar="DIR",
        help="where the plan, ledger, results and report go (default: ./out)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20.0,
        metavar="MS",
        help="latency the emulator adds to each request (default: 20)",
    )
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo and print where its report is."""
    logging.getLogger("stamina").setLevel(logging.ERROR)
    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / file_name for name, file_name in OUTPUT_NAMES.items()}
    # Each demo starts afresh: its ledger is a new run, not one to resume.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{paths['ledger']}{suffix}").unlink(missing_ok=True)
    try:
        with serve(dataset="demo", latency_ms=args.latency_ms) as emulator:
            ok = asyncio.run(_remediate(emulator.url, emulator.credentials, paths))
    except KmsToolkitError as error:
        return report_error(error)
    print(f"report: {paths['report'].resolve()}")
    return EXIT_OK if ok else EXIT_FAILED


async def _remediate(url: str, credentials: Any, paths: dict[str, Path]) -> bool:
    """Plan, show the plan, run, show and write the results."""
    async with AsyncKmsClient(credentials, endpoint=url) as client:
        plan = await plan_remediation(client)
        plan.to_enable.to_csv(paths["plan"], index=False)
        print(
            f"plan: {len(plan.to_enable)} disabled version(s) of "
            f"{plan.to_enable['key_tag'].nunique()} key(s) to enable, "
            f"{len(plan.skipped)} row(s) skipped -> {paths['plan']}"
        )
        for reason, count in (
            plan.skipped.groupby("reason", observed=True).size().items()
        ):
            print(f"  skipped {count}: {reason}")
        result = await enable_versions(
            client, plan.to_enable, ledger_path=paths["ledger"]
        )
    frame = result.frame()
    export_csv(frame, paths["results"])
    write_report(result, paths["report"])
    table = summarize(frame)[["outcome", "error_type", "targets"]]
    print(f"run {result.run_id}: {result.elapsed_seconds:.2f} s")
    print(as_text_table(table))
    print(f"ledger: {paths['ledger']}\nresults: {paths['results']}")
    return result.all_enabled
