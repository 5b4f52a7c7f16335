"""Reading and validating targets: CSV, DataFrame and pairs; hostile input."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import string
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kms_toolkit.bulk import (
    InvalidTargetsError,
    Target,
    TargetSet,
    enable_versions,
    load_targets,
)
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.credentials import Credentials
from kms_toolkit.errors import InvalidInputError


def write_csv(tmp_path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path = tmp_path / "targets.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_pairs_are_deduplicated_in_first_order() -> None:
    """Repeated targets collapse into the first and are counted."""
    targets = load_targets([("b", 2), ("a", 1), ("b", 2), ("b", "2")])

    assert targets.targets == (Target("b", 2), Target("a", 1))
    assert targets.duplicates == 2


def test_csv_with_bom_blank_lines_and_spaces_is_read(tmp_path: Path) -> None:
    """A BOM, blank lines and spaces around cells are ignored."""
    path = write_csv(tmp_path, "\ufeffkey_tag, version\n\nkey-a, 3 \n\n  \nkey_b,10\n")

    targets = load_targets(path)

    assert targets.targets == (Target("key-a", 3), Target("key_b", 10))
    assert targets.row_kind == "line"


def test_csv_bad_versions_are_reported_by_file_line(tmp_path: Path) -> None:
    """'3.5', '' and 'true' are refused with the line they are on."""
    path = write_csv(tmp_path, "key_tag,version\nk,1\n\nk,3.5\nk,\nk,true\nk,+3\n")

    with pytest.raises(InvalidTargetsError) as caught:
        load_targets(path)

    message = str(caught.value)
    assert [item.row for item in caught.value.rejected] == [4, 5, 6, 7]
    assert "line 4: key version must be an integer, not str '3.5'" in message
    assert "line 5: key version is missing" in message
    assert "line 6:" in message
    assert "nothing was sent" in message


def test_csv_empty_cells_are_missing_values(tmp_path: Path) -> None:
    """An empty or blank cell is missing, as a DataFrame's NA is, not text ''."""
    path = write_csv(tmp_path, "key_tag,version\nk,\nk,   \n,3\n  ,3\nk\n")

    targets = load_targets(path, skip_invalid=True)

    assert [(r.row, r.reason) for r in targets.rejected] == [
        (2, "key version is missing"),
        (3, "key version is missing"),
        (4, "key tag is missing"),
        (5, "key tag is missing"),
        (6, "key version is missing"),
    ]


def test_negative_versions_are_out_of_range_not_text(tmp_path: Path) -> None:
    """'-1' is an integer outside 1-100, in a CSV and as text in a pair."""
    path = write_csv(tmp_path, "key_tag,version\nk,-1\nk, -0 \n")

    in_csv = load_targets(path, skip_invalid=True)
    in_pairs = load_targets([("k", "-7")], skip_invalid=True)

    assert [r.reason for r in in_csv.rejected] == [
        "key version -1 is out of range: NCP key versions run from 1 to 100",
        "key version 0 is out of range: NCP key versions run from 1 to 100",
    ]
    assert in_pairs.rejected[0].reason == (
        "key version -7 is out of range: NCP key versions run from 1 to 100"
    )


def test_unclosed_quote_is_a_csv_syntax_error_with_its_line(tmp_path: Path) -> None:
    """A quote never closed is reported where its record starts, not as a cell."""
    path = write_csv(tmp_path, 'key_tag,version\nk,1\n"k2,3\nk3,4\n')

    with pytest.raises(InvalidTargetsError) as caught:
        load_targets(path, skip_invalid=True)

    assert str(caught.value) == (
        f"{path} line 3: CSV syntax error: unexpected end of data (a quoted cell "
        "is never closed); nothing was sent"
    )


def test_stray_quote_is_a_csv_syntax_error(tmp_path: Path) -> None:
    """Text after a closing quote is a syntax error on that line."""
    path = write_csv(tmp_path, 'key_tag,version\nk,1\nk,"2"x\n')

    with pytest.raises(InvalidTargetsError, match="line 3: CSV syntax error"):
        load_targets(path, skip_invalid=True)


@pytest.mark.parametrize(
    "header",
    [
        "key_tag,version,key_tag",
        "key_tag,version,Version ",
        "key_tag,version,action,ACTION",
    ],
)
def test_csv_header_with_a_repeated_column_is_refused(
    tmp_path: Path, header: str
) -> None:
    """Two columns of one name: which holds the targets would be a guess."""
    path = write_csv(tmp_path, f"{header}\nk,1,j,x\n")

    with pytest.raises(InvalidTargetsError, match=r"line 1: the header names .* more"):
        load_targets(path, skip_invalid=True)


def test_frame_with_a_repeated_column_is_refused() -> None:
    """A DataFrame with two version columns is refused, not half-read."""
    frame = pd.DataFrame([["k", 1, 2]], columns=["key_tag", "version", "version"])

    with pytest.raises(InvalidTargetsError, match="more than one version column"):
        load_targets(frame, skip_invalid=True)


def test_header_only_csv_has_no_targets(tmp_path: Path) -> None:
    """A header without rows loads as an empty set (the CLI refuses it)."""
    targets = load_targets(write_csv(tmp_path, "key_tag,version\n\n"))

    assert (targets.targets, targets.rejected, targets.duplicates) == ((), (), 0)


PLAN_CSV = """key_tag,key_name,version,version_status,action,reason
key-a,pay,1,ENABLE,skip,already enabled
key-a,pay,2,DISABLE,enable,version is disabled
key-a,pay,3,DISABLE, Enable ,version is disabled
key-b,off,,,skip,key is DISABLE: NCP does not enable versions of such keys
key-c,pay,1,ENABLE,SKIP,already enabled
key-d,pay,4,DISABLE,enable,version is disabled
"""


def test_csv_action_column_keeps_only_enable_rows(tmp_path: Path) -> None:
    """Skip rows are left out, counted by reason, and never validated."""
    targets = load_targets(write_csv(tmp_path, PLAN_CSV))

    assert targets.targets == (
        Target("key-a", 2),
        Target("key-a", 3),
        Target("key-d", 4),
    )
    assert targets.rejected == ()
    assert targets.left_out == (
        ("skip: already enabled", 2),
        ("skip: key is DISABLE: NCP does not enable versions of such keys", 1),
    )
    assert targets.left_out_count == 3


def test_frame_action_column_keeps_only_enable_rows() -> None:
    """The same rule for a DataFrame, a categorical action column included."""
    frame = pd.read_csv(io.StringIO(PLAN_CSV), dtype={"version": "Int64"})
    frame["action"] = frame["action"].str.strip().astype("category")

    targets = load_targets(frame)

    assert targets.targets == (
        Target("key-a", 2),
        Target("key-a", 3),
        Target("key-d", 4),
    )
    assert targets.left_out_count == 3


def test_unknown_or_missing_action_is_a_bad_row(tmp_path: Path) -> None:
    """A typo in the action is not silently skipped: the row is refused."""
    path = write_csv(tmp_path, "key_tag,version,action\nk,1,enabel\nk,2,\nk,3,skip\n")

    targets = load_targets(path, skip_invalid=True)

    assert [(r.row, r.reason) for r in targets.rejected] == [
        (2, "action must be enable or skip, not 'enabel'"),
        (3, "action is missing; it must be enable or skip"),
    ]
    assert targets.left_out == (("skip", 1),)


def test_csv_missing_column_is_named(tmp_path: Path) -> None:
    """A header without a version column is refused, naming what it has."""
    path = write_csv(tmp_path, "key_tag,ver\nk,1\n")

    with pytest.raises(InvalidTargetsError, match=r"no version column .*key_tag, ver"):
        load_targets(path)


def test_csv_without_rows_or_file_is_refused(tmp_path: Path) -> None:
    """An empty file and a missing file get clear errors."""
    with pytest.raises(InvalidTargetsError, match="is empty"):
        load_targets(write_csv(tmp_path, "\n\n"))
    with pytest.raises(InvalidTargetsError, match="cannot read targets"):
        load_targets(tmp_path / "missing.csv")


def test_csv_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are named as such."""
    path = write_csv(tmp_path, "key_tag,version\nk\xe9,1\n", encoding="latin-1")

    with pytest.raises(InvalidTargetsError, match="not UTF-8"):
        load_targets(path)


def test_frame_with_numpy_integers_is_accepted() -> None:
    """Versions as numpy or nullable integers are integers."""
    frame = pd.DataFrame({"key_tag": ["a", "b"], "version": np.array([1, 2])})
    nullable = frame.astype({"version": "Int64"})

    assert load_targets(frame).targets == (Target("a", 1), Target("b", 2))
    assert load_targets(nullable).targets == (Target("a", 1), Target("b", 2))


def test_frame_float_and_missing_versions_are_rejected() -> None:
    """A float version and a missing one are refused with their row numbers."""
    frame = pd.DataFrame({"key_tag": ["a", "b", "c"], "version": [1.0, None, 2.5]})

    targets = load_targets(frame, skip_invalid=True)

    assert targets.targets == ()
    assert [(r.row, r.reason) for r in targets.rejected] == [
        (1, "key version must be an integer, not float 1.0"),
        (2, "key version is missing"),
        (3, "key version must be an integer, not float 2.5"),
    ]


def test_frame_missing_columns_are_named() -> None:
    """A frame without key_tag is refused, listing its columns."""
    with pytest.raises(
        InvalidTargetsError, match=r"no key_tag column;.*it has: tag, version"
    ):
        load_targets(pd.DataFrame({"tag": ["a"], "version": [1]}))


def test_odd_items_are_rejected_not_guessed() -> None:
    """Items that are not pairs are rejected with what they are."""
    targets = load_targets(
        ["abc", ("a", 1, 2), None, {"key_tag": "k"}], skip_invalid=True
    )

    assert [r.reason for r in targets.rejected] == [
        "expected a (key_tag, version) pair, got str",
        "expected a (key_tag, version) pair, got tuple",
        "expected a (key_tag, version) pair, got NoneType",
        "key version is missing",
    ]


def test_a_source_of_the_wrong_kind_is_refused() -> None:
    """Bytes and plain numbers are not target sources."""
    with pytest.raises(InvalidTargetsError, match="not bytes"):
        load_targets(b"key_tag,version")
    with pytest.raises(InvalidTargetsError, match="not int"):
        load_targets(3)


def test_invalid_targets_error_is_an_invalid_input_error() -> None:
    """Callers catching InvalidInputError or ValueError catch it too."""
    with pytest.raises(InvalidInputError):
        load_targets([("a", 0)])
    with pytest.raises(ValueError, match="row 1: key version 0 is out of range"):
        load_targets([("a", 0)])


# Hostile input. Rows come from two kinds of generator: known-good ones, whose
# target is known by construction, and known-bad ones, each wrong in a way the
# documented rules name. The oracle is the generator, not the rule.

GOOD_TAG_ALPHABET = string.ascii_letters + string.digits + "-_"
# Characters no key tag may hold; line breaks are left to the CSV tests with
# exact lines (a quoted line break spans two file lines).
BAD_TAG_CHARACTERS = st.characters(
    blacklist_categories=["Cs"],
    blacklist_characters=GOOD_TAG_ALPHABET + "\r\n",
)
STATUS_DATE_MS = 1_733_460_541_703


@dataclass(frozen=True)
class Row:
    """One generated input row and what must become of it.

    ``target`` is the target a known-good row means; None for a known-bad row,
    whose ``field`` (``"key tag"``, ``"key version"`` or ``"either"``) says
    what its reason must be about.
    """

    key_tag: object
    version: object
    target: Target | None
    field: str = ""


good_tag_text = st.one_of(
    st.sampled_from(["key-a", "key_b", "K9"]),  # a small pool, so rows repeat
    st.text(alphabet=GOOD_TAG_ALPHABET, min_size=1, max_size=128),
)
bad_tag_text = st.one_of(
    st.just(""),
    st.text(alphabet=GOOD_TAG_ALPHABET, min_size=129, max_size=300),
    # A forbidden character between good ones: stripping cannot remove it.
    st.builds(
        lambda before, bad, after: before + bad + after,
        st.text(alphabet=GOOD_TAG_ALPHABET, min_size=1, max_size=5),
        BAD_TAG_CHARACTERS,
        st.text(alphabet=GOOD_TAG_ALPHABET, min_size=1, max_size=5),
    ),
    st.sampled_from(["a/b", "../x", "a?b", "a b", "é", "a%2Fb", "a\ufeffb"]),
)
good_numbers = st.one_of(st.sampled_from([1, 2, 3]), st.integers(1, 100))
bad_version_text = st.one_of(
    st.sampled_from(["3.5", "+3", "1e2", "true", "٣", "0x10", "3 4", "", "101"]),
    st.integers(-(2**70), 0).map(str),
    st.integers(101, 2**70).map(str),
    st.builds(
        lambda number, letter: f"{number}{letter}",
        good_numbers,
        st.sampled_from(string.ascii_letters + ".,;"),
    ),
)


def padded(text: str) -> st.SearchStrategy[str]:
    """The text with spaces around it, or not (CSV cells are stripped)."""
    return st.builds(
        lambda left, right: f"{left}{text}{right}",
        st.sampled_from(["", " ", "  "]),
        st.sampled_from(["", " ", "\t"]),
    )


@st.composite
def good_csv_rows(draw: st.DrawFn) -> Row:
    """A row that is valid by construction, as CSV text."""
    tag, number = draw(good_tag_text), draw(good_numbers)
    return Row(draw(padded(tag)), draw(padded(str(number))), Target(tag, number))


@st.composite
def bad_csv_rows(draw: st.DrawFn) -> Row:
    """A row that is invalid by construction, as CSV text; None cells are absent."""
    tag, number = draw(good_tag_text), draw(good_numbers)
    return draw(
        st.one_of(
            st.builds(
                Row, bad_tag_text, st.just(str(number)), st.none(), st.just("key tag")
            ),
            st.builds(
                Row, st.just(tag), bad_version_text, st.none(), st.just("key version")
            ),
            # Both cells blank would make a blank line, which is skipped, not bad.
            st.builds(
                Row, bad_tag_text, bad_version_text, st.none(), st.just("either")
            ).filter(lambda row: bool(f"{row.key_tag}{row.version}".strip())),
            # A short row: the version cell is missing, perhaps the tag's too.
            st.just(Row(tag, None, None, "either")),
        )
    )


blank_lines = st.sampled_from(["", "   ", ",", " , ", "\t"])


@dataclass(frozen=True)
class HostileCsv:
    """A generated CSV file's text and its rows, each with its file line."""

    text: str
    rows: tuple[tuple[int, Row], ...]


def csv_line(cells: Sequence[object]) -> str:
    """One record written by the standard library's writer (quoting as needed)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


@st.composite
def hostile_csv(draw: st.DrawFn, *, min_bad: int = 0) -> HostileCsv:
    """A CSV with a BOM or not, blank lines anywhere, columns in any order."""
    columns = draw(
        st.permutations(["key_tag", "version", "note"]).map(list)
        | st.permutations(["key_tag", "version"]).map(list)
    )
    header = [
        draw(st.sampled_from([name, name.upper(), f" {name} "])) for name in columns
    ]
    good = draw(st.lists(good_csv_rows(), max_size=6))
    bad = draw(st.lists(bad_csv_rows(), min_size=min_bad, max_size=6))
    rows = draw(st.permutations(good + bad))
    lines = [draw(blank_lines) + "\n" for _ in range(draw(st.integers(0, 2)))]
    lines.append(csv_line(header))
    numbered = []
    for row in rows:
        lines.extend(draw(blank_lines) + "\n" for _ in range(draw(st.integers(0, 2))))
        cells = {"key_tag": row.key_tag, "version": row.version, "note": 'n, "x"'}
        record = [cells[name] for name in columns]
        if row.version is None:
            # A short row ends before its version cell; when nothing would be
            # left (a blank line), the version cell is left empty instead.
            short = record[: columns.index("version")]
            record = short if any(str(c).strip() for c in short) else record
        lines.append(csv_line(record))
        numbered.append((len(lines), row))
    bom = "\ufeff" if draw(st.booleans()) else ""
    return HostileCsv(bom + "".join(lines), tuple(numbered))


def expected_targets(rows: Sequence[Row]) -> tuple[tuple[Target, ...], int]:
    """The unique targets of the known-good rows in first order, and the repeats."""
    good = [row.target for row in rows if row.target is not None]
    unique = tuple(dict.fromkeys(good))
    return unique, len(good) - len(unique)


def assert_each_row_accounted_for(
    targets: TargetSet, numbered: Sequence[tuple[int, Row]]
) -> None:
    """Every row is exactly one of: a target, a duplicate, a rejection with a reason."""
    rows = [row for _, row in numbered]
    unique, repeats = expected_targets(rows)
    bad = [(number, row) for number, row in numbered if row.target is None]

    assert targets.targets == unique
    assert targets.duplicates == repeats
    assert [item.row for item in targets.rejected] == [number for number, _ in bad]
    assert len(targets.targets) + targets.duplicates + len(targets.rejected) == len(
        rows
    )
    for item, (_, row) in zip(targets.rejected, bad, strict=True):
        about = ("key tag", "key version") if row.field == "either" else (row.field,)
        assert any(item.reason.startswith(field) for field in about), item.reason


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests; answers an enable with NCP's documented success body."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(f"{request.method} {request.url.path}")
        parts = request.url.path.split("/")
        if request.method != "POST" or parts[-1] != "enable":
            return httpx.Response(404, json={"error": {"errorCode": "300"}})
        data = {"version": int(parts[-2]), "status": "ENABLE"}
        body = {"code": "SUCCESS", "data": {**data, "statusDate": STATUS_DATE_MS}}
        return httpx.Response(200, content=json.dumps(body).encode())


def run_against(
    transport: CountingTransport, source: object, ledger: Path, **options: object
) -> None:
    """enable_versions over ``transport``, the client always closed."""

    async def attempt() -> None:
        async with AsyncKmsClient(
            Credentials("AK", "canary-secret"),
            endpoint="http://127.0.0.1:9/kms/v1",
            transport=transport,
        ) as client:
            await enable_versions(client, source, ledger_path=ledger, **options)

    asyncio.run(attempt())


def fresh_ledger(directory: Path) -> Path:
    """A new ledger path: hypothesis runs many examples in one tmp_path."""
    return directory / f"run-{uuid.uuid4().hex}.sqlite"


def enable_paths(targets: Sequence[Target]) -> list[str]:
    return [
        f"POST /kms/v1/keys/{t.key_tag}/versions/{t.version}/enable" for t in targets
    ]


HYPOTHESIS = settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HYPOTHESIS
@given(generated=hostile_csv())
def test_hostile_csv_rows_are_each_a_target_a_duplicate_or_a_rejection(
    generated: HostileCsv, tmp_path: Path
) -> None:
    """BOMs, blank lines, odd headers, short rows: each row is accounted for once."""
    path = tmp_path / "hostile.csv"
    path.write_text(generated.text, encoding="utf-8")

    targets = load_targets(path, skip_invalid=True)

    assert_each_row_accounted_for(targets, generated.rows)


@HYPOTHESIS
@given(generated=hostile_csv(min_bad=1))
def test_hostile_csv_sends_nothing(generated: HostileCsv, tmp_path: Path) -> None:
    """A CSV with a bad row stops before a request and before the ledger."""
    path = tmp_path / "hostile.csv"
    path.write_text(generated.text, encoding="utf-8")
    transport = CountingTransport()
    ledger = tmp_path / "never.sqlite"

    with pytest.raises(InvalidTargetsError) as caught:
        run_against(transport, path, ledger)

    assert transport.paths == []
    assert not ledger.exists()
    assert len(caught.value.rejected) == sum(
        r.target is None for _, r in generated.rows
    )


@HYPOTHESIS
@given(generated=hostile_csv(min_bad=1))
def test_skipped_bad_csv_rows_are_never_sent(
    generated: HostileCsv, tmp_path: Path
) -> None:
    """With skip_invalid, exactly the good targets are sent, once each."""
    path = tmp_path / "hostile.csv"
    path.write_text(generated.text, encoding="utf-8")
    transport = CountingTransport()
    unique, _ = expected_targets([row for _, row in generated.rows])

    run_against(
        transport, path, fresh_ledger(tmp_path), skip_invalid=True, precheck=False
    )

    assert sorted(transport.paths) == sorted(enable_paths(unique))


@HYPOTHESIS
@given(
    columns=st.sampled_from([["key_tag"], ["version"], ["tag", "version"], ["note"]]),
    bom=st.booleans(),
    rows=st.lists(good_csv_rows(), max_size=3),
)
def test_csv_without_a_required_column_sends_nothing(
    columns: list[str], bom: bool, rows: list[Row], tmp_path: Path
) -> None:
    """A header that lacks key_tag or version refuses the file, even when skipping."""
    path = tmp_path / "hostile.csv"
    body = "".join(csv_line([row.key_tag, row.version][: len(columns)]) for row in rows)
    path.write_text(("\ufeff" if bom else "") + csv_line(columns) + body, "utf-8")
    transport = CountingTransport()

    with pytest.raises(InvalidTargetsError, match="line 1: the header has no"):
        run_against(transport, path, tmp_path / "never.sqlite", skip_invalid=True)

    assert transport.paths == []


@st.composite
def good_values(draw: st.DrawFn) -> Row:
    """A valid row as DataFrame or pair values: int, numpy int or integer text."""
    tag, number = draw(good_tag_text), draw(good_numbers)
    version = draw(
        st.sampled_from([number, np.int64(number), np.int16(number), str(number)])
        | padded(str(number))
    )
    return Row(tag, version, Target(tag, number))


bad_tag_values = st.one_of(
    bad_tag_text,
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.binary(max_size=5),
    st.none(),
    st.just(pd.NA),
)
bad_version_values = st.one_of(
    bad_version_text,
    st.integers(-(2**70), 0),
    st.integers(101, 2**70),
    st.booleans(),
    st.floats(allow_nan=True),  # 3.0 too: a float column means trouble upstream
    st.sampled_from([None, pd.NA, np.nan, np.float64(2.0), b"3", [3]]),
)


@st.composite
def bad_values(draw: st.DrawFn) -> Row:
    """An invalid row as DataFrame or pair values."""
    tag, number = draw(good_tag_text), draw(good_numbers)
    return draw(
        st.one_of(
            st.builds(
                Row, bad_tag_values, st.just(number), st.none(), st.just("key tag")
            ),
            st.builds(
                Row, st.just(tag), bad_version_values, st.none(), st.just("key version")
            ),
            st.builds(
                Row, bad_tag_values, bad_version_values, st.none(), st.just("either")
            ),
        )
    )


def object_frame(rows: Sequence[Row]) -> pd.DataFrame:
    """The rows as object columns, so no value is converted on the way in."""
    return pd.DataFrame(
        {
            "key_tag": pd.Series([row.key_tag for row in rows], dtype=object),
            "version": pd.Series([row.version for row in rows], dtype=object),
        }
    )


@HYPOTHESIS
@given(
    rows=st.lists(good_values(), max_size=5).flatmap(
        lambda good: st.lists(bad_values(), max_size=5).flatmap(
            lambda bad: st.permutations(good + bad)
        )
    )
)
def test_hostile_frames_and_pairs_are_each_accounted_for(rows: list[Row]) -> None:
    """The same accounting for a DataFrame and for pairs, numbered from 1."""
    numbered = list(enumerate(rows, start=1))

    from_frame = load_targets(object_frame(rows), skip_invalid=True)
    from_pairs = load_targets([(r.key_tag, r.version) for r in rows], skip_invalid=True)

    assert_each_row_accounted_for(from_frame, numbered)
    assert_each_row_accounted_for(from_pairs, numbered)


@HYPOTHESIS
@given(
    good=st.lists(good_values(), max_size=4),
    bad=st.lists(bad_values(), min_size=1, max_size=4),
    as_frame=st.booleans(),
)
def test_hostile_frames_and_pairs_send_nothing(
    good: list[Row], bad: list[Row], as_frame: bool, tmp_path: Path
) -> None:
    """A bad row among DataFrame rows or pairs stops the run before any request."""
    rows = bad + good
    source: object = (
        object_frame(rows) if as_frame else [(r.key_tag, r.version) for r in rows]
    )
    transport = CountingTransport()
    ledger = tmp_path / "never.sqlite"

    with pytest.raises(InvalidTargetsError):
        run_against(transport, source, ledger)

    assert transport.paths == []
    assert not ledger.exists()


@HYPOTHESIS
@given(good=st.lists(good_values(), max_size=4), bad=st.lists(bad_values(), max_size=4))
def test_skipped_bad_frame_rows_are_never_sent(
    good: list[Row], bad: list[Row], tmp_path: Path
) -> None:
    """With skip_invalid, a DataFrame's good targets are sent once each, no more."""
    rows = good + bad
    transport = CountingTransport()
    unique, _ = expected_targets(rows)

    run_against(
        transport,
        object_frame(rows),
        fresh_ledger(tmp_path),
        skip_invalid=True,
        precheck=False,
    )

    assert sorted(transport.paths) == sorted(enable_paths(unique))


def test_frame_without_a_required_column_sends_nothing(tmp_path: Path) -> None:
    """A DataFrame lacking version is refused, even when skipping, before a request."""
    transport = CountingTransport()

    with pytest.raises(InvalidTargetsError, match="no version column"):
        run_against(
            transport,
            pd.DataFrame({"key_tag": ["k"], "ver": [1]}),
            tmp_path / "never.sqlite",
            skip_invalid=True,
        )

    assert transport.paths == []
