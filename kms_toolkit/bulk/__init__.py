"""Bulk remediation: find disabled key versions, enable them, report on it.

The usual path: ``plan_remediation`` finds every disabled version of every
enabled key; ``enable_versions`` enables them concurrently under an adaptive
rate limit, recording each outcome in a SQLite ledger; ``resume_run``
finishes a run that was stopped or killed; ``results_frame``, ``summarize``
and ``write_report`` turn the ledger into DataFrames and an HTML report.
See ``docs/bulk.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kms_toolkit.bulk.engine import (
    RunResult,
    VersionClient,
    enable_versions,
    resume_run,
    run_enable,
)
from kms_toolkit.bulk.ledger import Ledger, LedgerError
from kms_toolkit.bulk.outcomes import Outcome, Progress
from kms_toolkit.bulk.ratecontrol import AdaptiveRateLimiter
from kms_toolkit.bulk.retry import RetryPolicy
from kms_toolkit.bulk.targets import (
    InvalidTargetsError,
    RejectedTarget,
    Target,
    TargetSet,
    load_targets,
)

if TYPE_CHECKING:
    from kms_toolkit.bulk.frames import (
        RESULT_COLUMNS,
        export_csv,
        export_parquet,
        results_frame,
        summarize,
    )
    from kms_toolkit.bulk.plan import RemediationPlan, plan_remediation
    from kms_toolkit.bulk.report import write_report

# Planning, frames and reports need pandas (and the report matplotlib): they
# load on first use, so a run alone stays small in memory.
_LAZY = {
    "RESULT_COLUMNS": "frames",
    "export_csv": "frames",
    "export_parquet": "frames",
    "results_frame": "frames",
    "summarize": "frames",
    "RemediationPlan": "plan",
    "plan_remediation": "plan",
    "write_report": "report",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "RESULT_COLUMNS",
    "AdaptiveRateLimiter",
    "InvalidTargetsError",
    "Ledger",
    "LedgerError",
    "Outcome",
    "Progress",
    "RejectedTarget",
    "RemediationPlan",
    "RetryPolicy",
    "RunResult",
    "Target",
    "TargetSet",
    "VersionClient",
    "enable_versions",
    "export_csv",
    "export_parquet",
    "load_targets",
    "plan_remediation",
    "results_frame",
    "resume_run",
    "run_enable",
    "summarize",
    "write_report",
]
