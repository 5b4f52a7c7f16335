"""The docs' table of undocumented choices and the code's ``# NOTE:`` marks agree.

Every ``# NOTE: [mark]`` in ``kms_toolkit/emulator`` names a row of the table
in ``docs/emulator.md``, and every row names a mark in the file it points to.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "kms_toolkit" / "emulator"
DOCS = ROOT / "docs" / "emulator.md"
TABLE_HEADING = "## Where the emulator decides what NCP does not document"
MARK = re.compile(r"# NOTE: \[([a-z0-9-]+)\] \S")
ROW = re.compile(r"\| `([a-z0-9-]+)` \|.*\| `(emulator/\w+\.py)` \|")
DOCSTRING_NOTE = re.compile(r"^\s*NOTE:", re.MULTILINE)


def marks_in_code() -> list[tuple[str, str]]:
    """``(mark, file)`` of every NOTE comment in the emulator package."""
    marks = []
    for path in sorted(PACKAGE.glob("*.py")):
        where = f"emulator/{path.name}"
        source = io.StringIO(path.read_text()).readline
        for token in tokenize.generate_tokens(source):
            line = f"{where}:{token.start[0]}"
            if token.type == tokenize.COMMENT and "NOTE" in token.string:
                found = MARK.match(token.string)
                assert found, f"{line}: a NOTE without a [mark]: {token.string}"
                marks.append((found[1], where))
            elif token.type == tokenize.STRING:
                assert not DOCSTRING_NOTE.search(token.string), (
                    f"{line}: a NOTE in a docstring; make it a # NOTE: [mark] comment"
                )
    return marks


def marks_in_docs() -> list[tuple[str, str]]:
    """``(mark, file)`` of every row of the docs' table of choices."""
    section = DOCS.read_text().split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    marks = []
    for row in rows:
        found = ROW.fullmatch(row)
        assert found, f"a row of the table is not | `mark` | ... | `file` |: {row}"
        marks.append((found[1], found[2]))
    return marks


def test_every_note_in_the_code_has_its_row_in_the_docs() -> None:
    """Marks and rows match one to one, each row naming the mark's file."""
    in_code = marks_in_code()
    in_docs = marks_in_docs()

    assert len(in_code) > 20
    assert len({mark for mark, _ in in_code}) == len(in_code), "a mark is reused"
    assert len({mark for mark, _ in in_docs}) == len(in_docs), "a row is repeated"
    assert sorted(in_code) == sorted(in_docs)
