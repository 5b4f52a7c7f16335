"""Reading and validating targets: CSV, DataFrame and pairs; hostile input."""

from __future__ import annotations

import asyncio
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
    enable_versions,
    load_targets,
)
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.credentials import Credentials
from kms_toolkit.errors import InvalidInputError
from kms_toolkit.validation import validate_key_tag, validate_version


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
    assert "line 5:" in message
    assert "line 6:" in message
    assert "nothing was sent" in message


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


hostile_tags = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["", "a/b", "../x", "a?b", "a b", "é", "x" * 500, "a%2Fb"]),
    st.integers(),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.binary(max_size=10),
)
hostile_versions = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["3", " 3 ", "3.5", "", "true", "1e2", "0", "101", "٣"]),
    st.none(),
)


def expected_valid(key_tag: object, version: object) -> bool:
    """Whether the facade's rules accept the pair (text versions per the docs)."""
    try:
        validate_key_tag(key_tag)
        if isinstance(version, str):
            text = version.strip()
            if not (text.isascii() and text.isdigit()):
                return False
            version = int(text)
        validate_version(version)
    except InvalidInputError:
        return False
    return True


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests and answers none: nothing should reach it."""

    def __init__(self) -> None:
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(500)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pairs=st.lists(st.tuples(hostile_tags, hostile_versions), min_size=1, max_size=8)
)
def test_hostile_targets_send_nothing_and_each_has_a_reason(
    pairs: list[tuple[object, object]], tmp_path: Path
) -> None:
    """Any invalid pair stops the run before a request; each gets its reason."""
    transport = CountingTransport()
    valid = [expected_valid(tag, version) for tag, version in pairs]

    async def attempt() -> None:
        client = AsyncKmsClient(
            Credentials("AK", "canary-secret"),
            endpoint="http://127.0.0.1:9/kms/v1",
            transport=transport,
        )
        try:
            await enable_versions(client, pairs, ledger_path=tmp_path / "never.sqlite")
        finally:
            await client.aclose()

    if all(valid):
        return
    with pytest.raises(InvalidTargetsError) as caught:
        asyncio.run(attempt())
    assert transport.requests == 0
    assert not (tmp_path / "never.sqlite").exists()
    rejected_rows = [item.row for item in caught.value.rejected]
    assert rejected_rows == [i for i, ok in enumerate(valid, start=1) if not ok]
    assert all(item.reason for item in caught.value.rejected)


csv_cells = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=20,
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(csv_cells, csv_cells), max_size=6), bom=st.booleans())
def test_hostile_csv_rows_are_each_accepted_or_explained(
    rows: list[tuple[str, str]], bom: bool, tmp_path: Path
) -> None:
    """Every CSV data row ends as a target, a duplicate or a rejected line."""
    frame = pd.DataFrame(rows, columns=["key_tag", "version"])
    path = tmp_path / "hostile.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8")

    if not rows:
        # A header alone: no data rows, nothing to accept or refuse.
        assert load_targets(path).targets == ()
        return
    targets = load_targets(path, skip_invalid=True)
    assert all(item.reason for item in targets.rejected)
    assert all(item.row >= 2 for item in targets.rejected)
    for target in targets.targets:
        assert validate_key_tag(target.key_tag) == target.key_tag
