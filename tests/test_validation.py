"""Key tags and versions are checked before anything is sent."""

from __future__ import annotations

import pytest

from kms_toolkit.errors import InvalidKeyTagError, InvalidVersionError
from kms_toolkit.validation import validate_key_tag, validate_version


@pytest.mark.parametrize("version", [1, 7, 100])
def test_versions_from_1_to_100_pass(version: int) -> None:
    """Integers in NCP's range are returned unchanged."""
    assert validate_version(version) == version


@pytest.mark.parametrize(
    ("version", "wanted"),
    [
        (True, "must be an integer, not bool True"),
        (False, "must be an integer, not bool False"),
        (1.0, "must be an integer, not float 1.0"),
        (2.5, "must be an integer, not float 2.5"),
        ("3", "must be an integer, not str '3'"),
        (None, "must be an integer, not NoneType None"),
        (0, "key version 0 is out of range: NCP key versions run from 1 to 100"),
        (101, "key version 101 is out of range: NCP key versions run from 1 to 100"),
        (-1, "key version -1 is out of range"),
    ],
)
def test_bad_versions_are_refused_with_the_reason(version: object, wanted: str) -> None:
    """Non-integers, booleans and out-of-range numbers say what is wrong."""
    with pytest.raises(InvalidVersionError) as caught:
        validate_version(version)

    assert wanted in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "key_tag",
    [
        "a",
        "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdef",
        "kr-" + "a" * 61,
        "Key_Tag-1",
        "x" * 128,
    ],
)
def test_documented_key_tag_forms_pass(key_tag: str) -> None:
    """Tags of every documented shape are returned unchanged."""
    assert validate_key_tag(key_tag) == key_tag


@pytest.mark.parametrize(
    ("key_tag", "wanted"),
    [
        ("", "key tag is empty"),
        ("x" * 129, "key tag is 129 characters long; NCP key tags have at most 128"),
        ("a/b", "contains '/'"),
        ("a?b=1", "contains '=', '?'"),
        ("a b", "contains ' '"),
        ("키태그", "contains"),
        ("tag\u00e9", "contains 'é'"),
        ("../etc", "contains '.', '/'"),
        (None, "key tag must be a string, not NoneType"),
        (12, "key tag must be a string, not int"),
    ],
)
def test_bad_key_tags_are_refused_with_the_reason(key_tag: object, wanted: str) -> None:
    """Empty, too long, or holding characters NCP tags never have: refused."""
    with pytest.raises(InvalidKeyTagError) as caught:
        validate_key_tag(key_tag)

    assert wanted in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_bad_key_tag_message_names_the_allowed_alphabet() -> None:
    """The message tells the user what a key tag may hold."""
    with pytest.raises(InvalidKeyTagError) as caught:
        validate_key_tag("bad tag")

    assert "hold only ASCII letters, digits, '-' and '_'" in str(caught.value)


class PathSmugglingTag(str):
    """A key tag whose str() is a path of its own choosing."""

    def __str__(self) -> str:
        return "../../x?y=1"


class PathSmugglingVersion(int):
    """A version whose str() is text, and whose comparisons always agree."""

    def __str__(self) -> str:
        return "1/../../x"

    def __le__(self, other: object) -> bool:
        return True

    def __ge__(self, other: object) -> bool:
        return True


class ClaimsToBeStr:
    """Not a str, but says it is one to isinstance()."""

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return str


def test_str_subclass_tag_comes_back_as_its_plain_value() -> None:
    """A str subclass is reduced to an exact str holding its value."""
    checked = validate_key_tag(PathSmugglingTag("key-a"))

    assert type(checked) is str
    assert str(checked) == "key-a"


def test_int_subclass_version_comes_back_as_its_plain_value() -> None:
    """An int subclass is reduced to an exact int holding its value."""
    checked = validate_version(PathSmugglingVersion(3))

    assert type(checked) is int
    assert str(checked) == "3"


def test_int_subclass_cannot_pass_the_range_check_with_its_comparisons() -> None:
    """The range is checked on the plain value, not the subclass's operators."""
    with pytest.raises(InvalidVersionError) as caught:
        validate_version(PathSmugglingVersion(500))

    assert "key version 500 is out of range" in str(caught.value)


def test_object_claiming_to_be_str_is_not_a_key_tag() -> None:
    """An impostor str is refused as bad input, not with a TypeError."""
    with pytest.raises(InvalidKeyTagError) as caught:
        validate_key_tag(ClaimsToBeStr())

    assert "key tag must be a string, not ClaimsToBeStr" in str(caught.value)
