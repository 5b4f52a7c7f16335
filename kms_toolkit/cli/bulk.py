"""``kms-toolkit plan | run | resume | report``: the bulk remediation commands.

- ``plan`` lists the disabled versions of enabled keys and writes the ones to
  enable as a CSV that ``run`` accepts (edit it in between if you like);
- ``run --targets FILE`` enables them, recording each outcome in a ledger;
  with ``--dry-run`` it prints every request it would send, sends nothing and
  needs no credentials;
- ``resume LEDGER`` finishes a run that was stopped or killed;
- ``report LEDGER --out FILE`` writes HTML, CSV or Parquet by extension.

Exit status of ``run`` and ``resume`` (``RUN_EXIT_STATUSES``): 0 when every
target ended enabled or already enabled (or, for a dry run, when every row
was valid), 1 when some failed, were rejected or were not run, 2 for bad
input or options (nothing was sent), 3 when the credentials need fixing:
missing or invalid (nothing was sent), or NCP refused them or a permission
and the run stopped (resume it once fixed). ``enable`` and ``plan`` use the
same codes: 3 is always "fix the credentials", 2 always bad input or options.
The first Ctrl-C stops a run cleanly (requests in flight finish, the ledger
keeps everything) and the status follows the outcome; only a second one
abandons the requests in flight and exits 130.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Final

import pandas as pd

from kms_toolkit.bulk import (
    Ledger,
    Outcome,
    RunResult,
    enable_versions,
    export_csv,
    export_parquet,
    load_targets,
    plan_remediation,
    resume_run,
    summarize,
    write_report,
)
from kms_toolkit.bulk.frames import dry_run_requests, results_frame
from kms_toolkit.bulk.targets import TargetSet
from kms_toolkit.cli._common import (
    CREDENTIALS_HELP,
    EXIT_AUTH,
    EXIT_FAILED,
    EXIT_OK,
    add_connection_arguments,
    async_client_from_args,
    positive_int,
    positive_rate,
    report_error,
)
from kms_toolkit.client import AsyncKmsClient, resolve_base_url
from kms_toolkit.errors import CredentialsError, InvalidInputError, KmsToolkitError
from kms_toolkit.models import KeyVersionChange, KeyVersionList

__all__ = [
    "DRY_RUN_SHOWN",
    "EXIT_INTERRUPTED",
    "PLAN_EXIT_STATUSES",
    "REPORT_EXIT_STATUSES",
    "RUN_EXIT_STATUSES",
    "as_text_table",
    "exit_status_of",
    "register",
]

EXIT_INTERRUPTED: Final = 130
REPORT_SUFFIXES: Final = (".html", ".csv", ".parquet")
#: How many of a dry run's requests ``run --dry-run`` prints before a count.
DRY_RUN_SHOWN: Final = 50
RUN_EXIT_STATUSES: Final = (
    "exit status: 0 every target enabled or already enabled; 1 some failed, "
    "were rejected or were not run; 2 bad input or options (nothing was "
    "sent); 3 credentials missing or invalid (nothing was sent), or NCP "
    "refused them or a permission and the run stopped (fix them, then "
    "resume). The first Ctrl-C stops the run cleanly and the status follows "
    "the outcome (1 when targets were left not run); a second Ctrl-C abandons "
    "the requests in flight and exits 130."
)
PLAN_EXIT_STATUSES: Final = (
    "exit status: 0 plan written; 1 the keys could not be read (e.g. the "
    "endpoint cannot be reached); 2 bad input or options; 3 credentials "
    "missing or invalid, or NCP refused them or a permission"
)
REPORT_EXIT_STATUSES: Final = (
    "exit status: 0 written; 2 an --out extension other than .html, .csv or "
    ".parquet, or LEDGER missing or not a run ledger"
)
#: What no --rate-limit means for plan and run (AdaptiveRateLimiter's default).
UNPACED_NOTE: Final = " (default: unpaced until the first 429, then adaptive)"
#: What the LEDGER argument of ``resume`` and ``report`` is.
LEDGER_HELP: Final = "the run's SQLite ledger (run --ledger, or kms-runs/RUN_ID.sqlite)"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``plan``, ``run``, ``resume`` and ``report`` subcommands."""
    _register_plan(subparsers)
    _register_run(subparsers)
    _register_resume(subparsers)
    _register_report(subparsers)


def _register_plan(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="find the disabled versions of enabled keys",
        description="Read every key (or the named ones) and its versions, and "
        "write the disabled versions of enabled keys as a targets CSV. Nothing "
        f"is changed. {CREDENTIALS_HELP}",
        epilog=PLAN_EXIT_STATUSES,
    )
    parser.add_argument(
        "--key-tag",
        action="append",
        dest="key_tags",
        metavar="TAG",
        help="only this key (repeat for several)",
    )
    parser.add_argument(
        "--name-pattern",
        metavar="GLOB",
        help="key names to include: a glob such as 'pay*', or 're:REGEX'",
    )
    parser.add_argument(
        "--key-type",
        action="append",
        dest="key_types",
        metavar="TYPE",
        help="only keys of this type, e.g. AES256 (repeat for several)",
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=16,
        metavar="N",
        help="reads in flight at most (default: 16)",
    )
    parser.add_argument(
        "--rate-limit",
        type=positive_rate,
        metavar="RPS",
        help=f"requests per second to start from and never exceed{UNPACED_NOTE}",
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="targets CSV to write"
    )
    parser.add_argument(
        "--all", action="store_true", help="also write the skipped rows, with reasons"
    )
    add_connection_arguments(parser)
    parser.set_defaults(handler=run_plan)


def _register_run(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="enable the key versions listed in a targets CSV",
        description="Enable every key_tag,version of a CSV under an adaptive "
        "rate limit, recording each outcome in a SQLite ledger. When the CSV "
        "has an action column (plan --all), only its 'enable' rows are targets. "
        f"{CREDENTIALS_HELP} A --dry-run needs none.",
        epilog=RUN_EXIT_STATUSES,
    )
    parser.add_argument(
        "--targets",
        type=Path,
        required=True,
        metavar="FILE",
        help="CSV with key_tag and version columns, e.g. written by 'plan'",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print every request a run would send; send nothing, read no credentials",
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="record bad rows as rejected and run the rest, instead of stopping",
    )
    parser.add_argument(
        "--no-precheck",
        dest="precheck",
        action="store_false",
        help="do not read each key's versions first (see docs/bulk.md)",
    )
    parser.add_argument(
        "--ledger",
        type=Path,
        metavar="FILE",
        help="SQLite file recording the run (default: kms-runs/RUN_ID.sqlite)",
    )
    _add_run_options(parser)
    parser.set_defaults(handler=run_run)


def _register_resume(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "resume",
        help="finish a stopped or killed run from its ledger",
        description=f"Finish a run from its ledger. {CREDENTIALS_HELP}",
        epilog=RUN_EXIT_STATUSES,
    )
    parser.add_argument("ledger", type=Path, metavar="LEDGER", help=LEDGER_HELP)
    parser.add_argument(
        "--retry-failed", action="store_true", help="send failed targets again too"
    )
    _add_run_options(parser, defaults_from_ledger=True)
    parser.set_defaults(handler=run_resume)


def _register_report(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write a run's results as HTML, CSV or Parquet",
        description="Write the results recorded in a run's ledger: a "
        "self-contained HTML report, or one row per target as CSV or Parquet. "
        "Reads the ledger only: sends nothing and needs no credentials.",
        epilog=REPORT_EXIT_STATUSES,
    )
    parser.add_argument("ledger", type=Path, metavar="LEDGER", help=LEDGER_HELP)
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="the format follows the extension: .html, .csv or .parquet",
    )
    parser.set_defaults(handler=run_report)


def _add_run_options(
    parser: argparse.ArgumentParser, *, defaults_from_ledger: bool = False
) -> None:
    from_ledger = " (default: as recorded in the ledger)"
    default_note = from_ledger if defaults_from_ledger else " (default: %(default)s)"
    unpaced = from_ledger if defaults_from_ledger else UNPACED_NOTE
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=None if defaults_from_ledger else 32,
        metavar="N",
        help=f"requests in flight at most{default_note}",
    )
    parser.add_argument(
        "--rate-limit",
        type=positive_rate,
        metavar="RPS",
        help=f"requests per second to start from and never exceed{unpaced}",
    )
    parser.add_argument(
        "--max-attempts",
        type=positive_int,
        default=None if defaults_from_ledger else 5,
        metavar="N",
        help=f"tries per target for retryable failures{default_note}",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE.html",
        help="also write the HTML report here when the run ends",
    )
    add_connection_arguments(parser)


def run_plan(args: argparse.Namespace) -> int:
    """Plan, write the targets CSV, print what was found."""
    _quiet_retry_logs()

    async def plan() -> int:
        async with async_client_from_args(args) as client:
            result = await plan_remediation(
                client,
                key_tags=args.key_tags,
                name_pattern=args.name_pattern,
                key_types=args.key_types,
                concurrency=args.concurrency,
                rate_limit=args.rate_limit,
            )
        frame = result.frame if args.all else result.to_enable
        args.out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out, index=False)
        _print_plan(result.to_enable, result.skipped, args.out)
        return EXIT_OK

    return _guarded(plan)


def run_run(args: argparse.Namespace) -> int:
    """Enable the targets of a CSV and print the summary."""

    async def run(stop: asyncio.Event) -> RunResult:
        # Bad rows are bad input whatever the credentials: read them first.
        targets = load_targets(args.targets, skip_invalid=args.skip_invalid)
        _require_targets(targets)
        _print_targets(targets)
        if args.dry_run:
            print("dry run: no credentials are read and nothing is sent")
        async with _client_for(args) as client:
            return await enable_versions(
                client,
                targets,
                concurrency=args.concurrency,
                rate_limit=args.rate_limit,
                max_attempts=args.max_attempts,
                dry_run=args.dry_run,
                precheck=args.precheck,
                skip_invalid=args.skip_invalid,
                ledger_path=args.ledger,
                stop=stop,
                progress_bar=sys.stderr.isatty(),
            )

    return _run_and_report(
        run,
        args.report,
        needs_credentials="a real run needs them (a --dry-run does not)",
    )


def run_resume(args: argparse.Namespace) -> int:
    """Finish a run from its ledger and print the summary."""

    async def resume(stop: asyncio.Event) -> RunResult:
        Ledger.open(args.ledger).close()  # a bad path is bad input, first
        async with async_client_from_args(args, **_pool_size(args)) as client:
            return await resume_run(
                client,
                args.ledger,
                concurrency=args.concurrency,
                rate_limit=args.rate_limit,
                max_attempts=args.max_attempts,
                retry_failed=args.retry_failed,
                stop=stop,
                progress_bar=sys.stderr.isatty(),
            )

    return _run_and_report(resume, args.report, needs_credentials="resume needs them")


def run_report(args: argparse.Namespace) -> int:
    """Write a ledger's results in the format the extension names."""
    suffix = args.out.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        return report_error(
            InvalidInputError(
                f"--out must end in {', '.join(REPORT_SUFFIXES)}, not {args.out.name!r}"
            )
        )
    try:
        if suffix == ".html":
            path = write_report(args.ledger, args.out)
        else:
            export = export_csv if suffix == ".csv" else export_parquet
            path = export(results_frame(args.ledger), args.out)
    except KmsToolkitError as error:
        return report_error(error)
    print(f"wrote {path}")
    return EXIT_OK


def exit_status_of(result: RunResult) -> int:
    """0 when every target ended enabled (a clean dry run counts), else 1 or 3.

    3 when NCP refused the credentials or a permission and the run stopped.
    """
    # NOTE: rejected rows (--skip-invalid) make it 1 too: they did not end
    # enabled, and a pipeline should notice.
    if result.fatal_error is not None:
        return EXIT_AUTH
    if result.dry_run:
        unfinished = result.total - result.counts.get(Outcome.DRY_RUN, 0)
        return EXIT_OK if unfinished == 0 else EXIT_FAILED
    return EXIT_OK if result.all_enabled else EXIT_FAILED


def _run_and_report(
    work: Callable[[asyncio.Event], Awaitable[RunResult]],
    report: Path | None,
    *,
    needs_credentials: str,
) -> int:
    """Run with Ctrl-C handling, print the summary, write the report.

    ``needs_credentials`` is what the command tells a user who has none.
    """
    _quiet_retry_logs()
    try:
        result = asyncio.run(_with_interrupts(work))
    except CredentialsError as error:
        # Exit 3, as for credentials NCP refuses: either way, fix them.
        report_error(
            CredentialsError(f"{error}; {needs_credentials}; nothing was sent")
        )
        return EXIT_AUTH
    except KmsToolkitError as error:
        return report_error(error)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(
            "kms-toolkit: interrupted; the ledger keeps what finished", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    _print_result(result)
    if report is not None:
        print(f"report: {write_report(result, report)}")
    return exit_status_of(result)


async def _with_interrupts(
    work: Callable[[asyncio.Event], Awaitable[RunResult]],
) -> RunResult:
    """First SIGINT/SIGTERM: stop cleanly. Second: cancel the run."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def interrupt() -> None:
        if stop.is_set() and task is not None:
            task.cancel()
            return
        print(
            "\nstopping: requests in flight finish (Ctrl-C again to abandon them)",
            file=sys.stderr,
        )
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupt)
    try:
        return await work(stop)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _guarded(work: Callable[[], Coroutine[Any, Any, int]]) -> int:
    try:
        return asyncio.run(work())
    except KmsToolkitError as error:
        return report_error(error)


def _pool_size(args: argparse.Namespace) -> dict[str, int]:
    """Enough connections for the concurrency, so no request waits for one."""
    concurrency = args.concurrency
    if isinstance(concurrency, int) and concurrency > 0:
        return {"max_connections": concurrency}
    return {}


def _client_for(args: argparse.Namespace) -> AsyncKmsClient | _SendsNothing:
    """The signing client, or for a dry run one that holds no credentials."""
    if args.dry_run:
        return _SendsNothing(resolve_base_url(args.site, args.endpoint))
    return async_client_from_args(args, **_pool_size(args))


class _SendsNothing:
    """A dry run's client: it knows the endpoint and cannot send anything.

    A dry run only records the request each target would get, so it needs no
    credentials; this stand-in makes sure none are looked for.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def enable_key_version(self, key_tag: str, version: int) -> KeyVersionChange:
        raise RuntimeError("a dry run sends nothing")

    async def list_key_versions(self, key_tag: str) -> KeyVersionList:
        raise RuntimeError("a dry run sends nothing")

    async def __aenter__(self) -> _SendsNothing:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def _print_plan(to_enable: pd.DataFrame, skipped: pd.DataFrame, out: Path) -> None:
    keys = to_enable["key_tag"].nunique()
    print(f"{len(to_enable)} version(s) of {keys} key(s) to enable; wrote {out}")
    if len(skipped):
        reasons = skipped.groupby("reason", observed=True).size()
        for reason, count in reasons.items():
            print(f"  skipped {count}: {reason}")


def _require_targets(targets: TargetSet) -> None:
    """A file without a single row to enable is bad input, not an empty run."""
    if targets.targets or targets.rejected:
        return
    why = "it has no data rows"
    if targets.left_out:
        why = f"all {targets.left_out_count} row(s) have an action other than enable"
    raise InvalidInputError(f"no targets in {targets.source}: {why}; nothing was sent")


def _print_targets(targets: TargetSet) -> None:
    """What the targets file held: targets, rows left out, duplicates, bad rows."""
    print(f"targets: {len(targets)} from {targets.source}")
    if targets.left_out:
        print(f"  left out {targets.left_out_count} row(s) whose action is not enable:")
        for why, count in targets.left_out:
            print(f"    {count} {why}")
    if targets.duplicates:
        print(f"  collapsed {targets.duplicates} duplicate row(s)")
    if targets.rejected:
        count = len(targets.rejected)
        print(f"  rejected {count} invalid row(s); they are recorded, not sent:")
        for line in targets.rejected_lines():
            print(f"    {line}")


def _print_result(result: RunResult) -> None:
    kind = "dry run" if result.dry_run else "run"
    state = "stopped" if result.cancelled else "finished"
    print(f"{kind} {result.run_id} {state} in {result.elapsed_seconds:.1f} s")
    frame = result.frame()
    table = summarize(frame)
    table["share"] = (table["share"] * 100).round(1).astype(str) + " %"
    print(as_text_table(table) if len(table) else "no targets")
    if result.dry_run:
        precheck = bool(result.parameters.get("precheck"))
        _print_dry_run_requests(frame, precheck=precheck, ledger=result.ledger_path)
    print(f"ledger: {result.ledger_path}")
    if result.fatal_error is not None:
        _print_fatal(result.fatal_error, result)
    elif result.cancelled and not result.dry_run:
        print(f"finish it with: kms-toolkit resume {result.ledger_path}")


def _print_dry_run_requests(
    frame: pd.DataFrame, *, precheck: bool, ledger: Path
) -> None:
    """Every request a real run would send, one per line, the rest counted."""
    requests = dry_run_requests(frame, precheck=precheck)
    reads = int(requests["version"].isna().sum())
    enables = len(requests) - reads
    if precheck:
        print(
            f"a real run would send {len(requests)} request(s): {reads} read(s) "
            f"of a key's versions, then at most {enables} enable(s) (none for "
            "versions the reads find ENABLE):"
        )
    else:
        print(f"a real run would send {enables} enable(s) (precheck off):")
    for method, path in (
        requests[["method", "path"]].head(DRY_RUN_SHOWN).itertuples(index=False)
    ):
        print(f"  {method} {path}")
    if len(requests) > DRY_RUN_SHOWN:
        print(
            f"  ... and {len(requests) - DRY_RUN_SHOWN} more (every enable is in "
            f"the message column of: kms-toolkit report {ledger} --out FILE.csv)"
        )


def _print_fatal(error: BaseException, result: RunResult) -> None:
    """Why the run stopped early, what was left unsent, how to finish it."""
    not_run = result.counts.get(Outcome.NOT_RUN, 0)
    report_error(KmsToolkitError(f"the run stopped: {error}"))
    print(
        f"  {not_run} target(s) were left not run. Fix the credentials or the "
        "permission, then finish the run with:\n"
        f"  kms-toolkit resume {result.ledger_path}",
        file=sys.stderr,
    )


def as_text_table(frame: pd.DataFrame) -> str:
    """A frame as aligned text, missing values blank (not ``<NA>``)."""
    shown = frame.astype(object).where(frame.notna(), "")
    return shown.to_string(index=False)


def _quiet_retry_logs() -> None:
    # Every retry is already counted in the results (the attempts column);
    # stamina's per-retry warnings would bury the summary.
    logging.getLogger("stamina").setLevel(logging.ERROR)
