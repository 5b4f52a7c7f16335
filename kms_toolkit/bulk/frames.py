"""A run's results as a pandas DataFrame with stable, typed columns.

``RESULT_COLUMNS`` is the contract: every frame ``results_frame`` returns has
exactly these columns, in this order, with these dtypes, whatever the run.
Columns are built whole from the ledger's rows (no per-row dicts), so 100,000
results take a fraction of a second.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import adbc_driver_sqlite.dbapi as adbc_sqlite
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kms_toolkit.bulk.ledger import Ledger
from kms_toolkit.bulk.outcomes import Outcome
from kms_toolkit.bulk.targets import enable_request
from kms_toolkit.models import KeyVersionStatus

if TYPE_CHECKING:
    from kms_toolkit.bulk.engine import RunResult

__all__ = [
    "REQUEST_COLUMNS",
    "RESULT_COLUMNS",
    "ResultSource",
    "dry_run_requests",
    "export_csv",
    "export_parquet",
    "results_frame",
    "summarize",
]

#: name -> (dtype, meaning) of every column of a results frame.
RESULT_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    "run_id": ("category", "the run's id"),
    "seq": ("Int64", "the target's 1-based place in the run; <NA> for rejected rows"),
    "input_row": ("Int64", "the rejected row's number (CSV line or 1-based item)"),
    "key_tag": ("string", "the key's tag (as given, for rejected rows)"),
    "version": ("Int64", "the key version; <NA> when a rejected row had none"),
    "outcome": ("category", "enabled, already_enabled, failed, rejected, ..."),
    "version_status": ("category", "the version's status NCP reported: ENABLE/DISABLE"),
    "status_date": ("datetime64[ms, UTC]", "when NCP says the status last changed"),
    "http_status": ("Int64", "the HTTP status of the final answer"),
    "error_code": ("string", "the gateway's errorCode of a failure"),
    "error_type": ("string", "the toolkit's error class of a failure"),
    "message": ("string", "the failure, the rejection reason or the dry-run request"),
    "attempts": ("Int64", "requests sent for the target, retries included"),
    "latency_ms": ("Float64", "the duration of the last request, in milliseconds"),
    "started_at": ("datetime64[ms, UTC]", "when work on the target started"),
    "finished_at": ("datetime64[ms, UTC]", "when its outcome was known"),
}

#: name -> dtype of every column of ``dry_run_requests``.
REQUEST_COLUMNS: Final[dict[str, str]] = {
    "method": "string",
    "path": "string",
    "purpose": "string",
    "key_tag": "string",
    "version": "Int64",
}
READ_PURPOSE: Final = "read the key's versions (precheck)"
ENABLE_PURPOSE: Final = "enable"

OUTCOME_CATEGORIES: Final = [outcome.value for outcome in Outcome]
STATUS_CATEGORIES: Final = [status.value for status in KeyVersionStatus]
OUTCOME_DTYPE: Final = pd.CategoricalDtype(OUTCOME_CATEGORIES)
STATUS_DTYPE: Final = pd.CategoricalDtype(STATUS_CATEGORIES)

NumberArray = np.ndarray[Any, np.dtype[Any]]

# Targets and outcomes are read through ADBC straight into Arrow columns:
# fetching 100,000 rows as Python tuples with sqlite3 alone takes longer than
# the whole frame may. ADBC's SQLite driver infers each column's type from
# its values, so no column it reads may hold NULL: missing numbers read -1
# and missing texts read '' (neither occurs as a real value).
_DENSE: Final = """
SELECT t.key_tag, t.version,
       coalesce(o.outcome, 'not_run') AS outcome,
       coalesce(o.version_status, '') AS version_status,
       coalesce(o.status_date_ms, -1) AS status_date_ms,
       coalesce(o.http_status, -1) AS http_status,
       coalesce(o.attempts, -1) AS attempts,
       coalesce(o.latency_ms, -1.0) AS latency_ms,
       coalesce(o.started_at_ms, -1) AS started_at_ms,
       coalesce(o.finished_at_ms, -1) AS finished_at_ms
FROM targets t LEFT JOIN outcomes o ON o.seq = t.seq
ORDER BY t.seq
"""
# The text columns are mostly empty (set on failures only): read sparsely.
_SPARSE: Final = """
SELECT seq, coalesce(error_code, '') AS error_code,
       coalesce(error_type, '') AS error_type, coalesce(message, '') AS message
FROM outcomes
WHERE error_code IS NOT NULL OR error_type IS NOT NULL OR message IS NOT NULL
ORDER BY seq
"""
# Fewer, larger Arrow batches: less per-batch overhead.
_BATCH_ROWS: Final = "65536"

ResultSource = Any  # a RunResult, a ledger path, or a DataFrame from results_frame


def results_frame(source: RunResult | str | Path) -> pd.DataFrame:
    """Every target of a run, one row each, with the ``RESULT_COLUMNS`` dtypes.

    Targets without an outcome yet (a run in progress, stopped or killed)
    have outcome ``not_run``; rejected input rows come last.

    Example:
        >>> frame = results_frame("kms-runs/run-1.sqlite")  # doctest: +SKIP
        >>> frame[frame.outcome == "failed"][["key_tag", "version", "message"]]
    """
    path = ledger_path_of(source)
    with Ledger.open(path) as ledger:
        run_id = ledger.run_info().run_id
        count = ledger.target_count()
        rejected = _rejected_frame(ledger.connection)
    targets = _target_frame(path, count)
    frame = (
        pd.concat([targets, rejected], ignore_index=True) if len(rejected) else targets
    )
    run_ids = pd.Series(pd.Categorical([run_id] * len(frame), categories=[run_id]))
    frame.insert(0, "run_id", run_ids)
    return frame


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Targets per outcome and error, failures first, with their share.

    Columns: ``outcome``, ``error_type``, ``error_code``, ``http_status``,
    ``targets`` (count) and ``share`` (of all targets, 0-1).

    Example:
        >>> summarize(results_frame("kms-runs/run-1.sqlite"))  # doctest: +SKIP
    """
    keys = ["outcome", "error_type", "error_code", "http_status"]
    table = (
        frame.groupby(keys, dropna=False, observed=True, sort=False)
        .size()
        .rename("targets")
        .reset_index()
    )
    table["share"] = table["targets"] / max(len(frame), 1)
    order = {name: rank for rank, name in enumerate(_SUMMARY_ORDER)}
    rank = table["outcome"].astype(str).map(order)
    table = table.assign(_rank=rank).sort_values(
        ["_rank", "targets"], ascending=[True, False], kind="stable"
    )
    return table.drop(columns="_rank").reset_index(drop=True)


def dry_run_requests(frame: pd.DataFrame, *, precheck: bool) -> pd.DataFrame:
    """The requests a real run of a dry run's targets sends, in sending order.

    ``frame`` is the dry run's ``results_frame``: the message of each
    ``dry_run`` row is the enable that target gets. With ``precheck`` (a
    run's default) one read of each key's version list comes first, and a
    version found ``ENABLE`` then gets no enable: the enables are the most a
    run sends. Columns: ``REQUEST_COLUMNS`` (``version`` is NA for reads).

    Example:
        >>> dry = results_frame("kms-runs/dry-run.sqlite")  # doctest: +SKIP
        >>> dry_run_requests(dry, precheck=True)[["method", "path"]]  # doctest: +SKIP
    """
    rows = frame[frame["outcome"] == Outcome.DRY_RUN.value]
    enables = [
        (*_dry_run_request(message, key_tag, version), ENABLE_PURPOSE, key_tag, version)
        for message, key_tag, version in zip(
            rows["message"], rows["key_tag"], rows["version"], strict=True
        )
    ]
    reads: dict[str, tuple[Any, ...]] = {}
    if precheck:
        for _, path, _, key_tag, _ in enables:
            # .../keys/{tag}/versions/{n}/enable -> .../keys/{tag}/versions
            reads.setdefault(
                key_tag, ("GET", path.rsplit("/", 2)[0], READ_PURPOSE, key_tag, None)
            )
    table = pd.DataFrame([*reads.values(), *enables], columns=list(REQUEST_COLUMNS))
    return table.astype(REQUEST_COLUMNS)


def _dry_run_request(message: object, key_tag: str, version: int) -> tuple[str, str]:
    """The method and path a dry-run row names in its message.

    A ledger written by the engine always holds ``POST /kms/v1/...`` there; a
    row without one (a hand-made ledger) gets the enable path the API
    defines, under the default base path.
    """
    method, _, path = (message if isinstance(message, str) else "").partition(" ")
    if not (method.isupper() and path.startswith("/")):
        method, _, path = enable_request(key_tag, version).partition(" ")
    return method, path


def export_csv(source: ResultSource, path: str | Path) -> Path:
    """Write the results as CSV (UTF-8, ISO 8601 UTC times); return the path."""
    path = Path(path)
    _as_frame(source).to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    return path


def export_parquet(source: ResultSource, path: str | Path) -> Path:
    """Write the results as Parquet (pyarrow), dtypes kept; return the path."""
    path = Path(path)
    _as_frame(source).to_parquet(path, index=False, engine="pyarrow")
    return path


_SUMMARY_ORDER: Final = (
    Outcome.FAILED,
    Outcome.REJECTED,
    Outcome.NOT_RUN,
    Outcome.ENABLED,
    Outcome.ALREADY_ENABLED,
    Outcome.DRY_RUN,
)


def ledger_path_of(source: Any) -> Path:
    """The ledger file of a ``RunResult`` or a path."""
    return Path(getattr(source, "ledger_path", source))


def _as_frame(source: ResultSource) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    return results_frame(source)


def _target_frame(path: Path, count: int) -> pd.DataFrame:
    """One row per target, outcome columns included (``not_run`` when none)."""
    dense = _read_arrow(path, _DENSE)
    sparse = _read_arrow(path, _SPARSE)
    # Targets are numbered 1..count when the ledger is created, never after.
    positions = sparse.column("seq").to_numpy() - 1
    data = {
        "seq": pd.array(np.arange(1, count + 1), dtype="Int64"),
        "input_row": _integers(np.full(count, -1)),
        "key_tag": _texts(dense, "key_tag", count),
        "version": _integers(_numbers(dense, "version", count)),
        "outcome": _categories(dense, "outcome", OUTCOME_DTYPE, count),
        "version_status": _categories(dense, "version_status", STATUS_DTYPE, count),
        "status_date": _datetimes(_numbers(dense, "status_date_ms", count)),
        "http_status": _integers(_numbers(dense, "http_status", count)),
        "error_code": _scattered(sparse, "error_code", positions, count),
        "error_type": _scattered(sparse, "error_type", positions, count),
        "message": _scattered(sparse, "message", positions, count),
        "attempts": _integers(_numbers(dense, "attempts", count)),
        "latency_ms": _floats(_numbers(dense, "latency_ms", count)),
        "started_at": _datetimes(_numbers(dense, "started_at_ms", count)),
        "finished_at": _datetimes(_numbers(dense, "finished_at_ms", count)),
    }
    return pd.DataFrame(data, columns=list(RESULT_COLUMNS)[1:])


def _read_arrow(path: Path, query: str) -> pa.Table:
    """The result of ``query`` on the ledger as an Arrow table (read-only)."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with adbc_sqlite.connect(uri) as connection, connection.cursor() as cursor:
        cursor.adbc_statement.set_options(
            **{"adbc.sqlite.query.batch_rows": _BATCH_ROWS}
        )
        cursor.execute(query)
        return cursor.fetch_arrow_table()


def _numbers(table: pa.Table, name: str, count: int) -> NumberArray:
    """A numeric column, -1 where the ledger holds nothing."""
    if table.num_rows == 0:
        return np.full(count, -1)
    values: NumberArray = table.column(name).to_numpy()
    return values


def _texts(table: pa.Table, name: str, count: int) -> Any:
    if table.num_rows == 0:
        return pd.array([""] * count, dtype="string")
    return _string_array(table.column(name).combine_chunks())


def _string_array(values: pa.Array) -> Any:
    """A pandas string column over Arrow memory, without a copy per value."""
    return pd.arrays.ArrowStringArray(values.cast(pa.large_string()))


def _integers(values: NumberArray) -> Any:
    """Nullable integers; -1 means missing."""
    return pd.arrays.IntegerArray(values.astype(np.int64), values < 0)


def _floats(values: NumberArray) -> Any:
    return pd.arrays.FloatingArray(values.astype(np.float64), values < 0)


def _datetimes(values: NumberArray) -> pd.DatetimeIndex:
    """UTC datetimes at millisecond resolution (what NCP and the ledger keep)."""
    moments = values.astype(np.int64).astype("datetime64[ms]")
    moments[values < 0] = np.datetime64("NaT")
    return pd.DatetimeIndex(moments).tz_localize("UTC")


def _categories(
    table: pa.Table, name: str, dtype: pd.CategoricalDtype, count: int
) -> pd.Categorical:
    """A categorical from Arrow's dictionary encoding; unknown values are NA."""
    if table.num_rows == 0:
        return pd.Categorical.from_codes(np.full(count, -1), dtype=dtype)
    encoded = pc.dictionary_encode(table.column(name)).combine_chunks()
    known = list(dtype.categories)
    lookup = np.array(
        [known.index(v) if v in known else -1 for v in encoded.dictionary.to_pylist()],
        dtype=np.int8,
    )
    codes = lookup[encoded.indices.to_numpy()] if len(lookup) else np.full(count, -1)
    return pd.Categorical.from_codes(codes, dtype=dtype)


def _scattered(sparse: pa.Table, name: str, positions: NumberArray, count: int) -> Any:
    """A text column that is empty except at ``positions``."""
    if sparse.num_rows == 0:
        return pd.array([None] * count, dtype="string")
    values = sparse.column(name).combine_chunks()
    values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    picks = np.full(count, -1, dtype=np.int64)
    picks[positions] = np.arange(len(positions))
    # Taking with a null index yields null: one C call fills the whole column.
    return _string_array(pc.take(values, pa.array(picks, mask=picks < 0)))


def _rejected_frame(connection: sqlite3.Connection) -> pd.DataFrame:
    """One row per rejected input row, with the same columns and dtypes."""
    rows = connection.execute(
        "SELECT input_row, key_tag, version, reason FROM rejected ORDER BY rowid"
    ).fetchall()
    count = len(rows)
    nothing = np.full(count, -1)
    data = {
        "seq": _integers(nothing),
        "input_row": _integers(np.array([row[0] for row in rows], dtype=np.int64)),
        "key_tag": pd.array([row[1] for row in rows], dtype="string"),
        "version": pd.array([_version_or_none(row[2]) for row in rows], dtype="Int64"),
        "outcome": pd.Categorical(
            [Outcome.REJECTED.value] * count, dtype=OUTCOME_DTYPE
        ),
        "version_status": pd.Categorical([None] * count, dtype=STATUS_DTYPE),
        "status_date": _datetimes(nothing),
        "http_status": _integers(nothing),
        "error_code": pd.array([None] * count, dtype="string"),
        "error_type": pd.array(["InvalidInputError"] * count, dtype="string"),
        "message": pd.array([row[3] for row in rows], dtype="string"),
        "attempts": _integers(np.zeros(count)),
        "latency_ms": _floats(nothing),
        "started_at": _datetimes(nothing),
        "finished_at": _datetimes(nothing),
    }
    return pd.DataFrame(data, columns=list(RESULT_COLUMNS)[1:])


def _version_or_none(text: str | None) -> int | None:
    """A rejected row's version when it is a plain integer, else None."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 15:
        return None
    return int(text)
