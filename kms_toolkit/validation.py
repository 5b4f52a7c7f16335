"""Checks on key tags and versions, made before anything is sent.

NCP documents a key tag only as "derived from the key name", with examples of
52 lowercase letters and digits, and 64-68 characters with a ``kr-`` or
``jpn-`` prefix for region-isolated keys. The toolkit accepts ASCII letters,
digits, ``-`` and ``_``, 1 to 128 characters: wide enough for every documented
form, narrow enough that a tag never needs percent-encoding and can never
smuggle a ``/``, ``?``, ``..`` or a space into the request path.
"""

from __future__ import annotations

import operator
import re
from typing import Final

from kms_toolkit.errors import InvalidKeyTagError, InvalidVersionError

__all__ = [
    "KEY_TAG_MAX_LENGTH",
    "KEY_TAG_PATTERN",
    "MAX_VERSION",
    "MIN_VERSION",
    "validate_key_tag",
    "validate_version",
]

# NOTE: the alphabet is the toolkit's decision (see the module docstring);
# widen it here, and in openapi/kms.yaml, if NCP ever documents other characters.
KEY_TAG_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]+")
KEY_TAG_MAX_LENGTH: Final = 128
MIN_VERSION: Final = 1
MAX_VERSION: Final = 100


def validate_key_tag(key_tag: object) -> str:
    """Return ``key_tag`` as a plain ``str`` if NCP could have issued it, else raise.

    A ``str`` subclass is reduced to its value first: the request path is built
    with ``str()``, which a subclass may override to put anything on the wire.

    Raises:
        InvalidKeyTagError: with what is wrong with the tag.
    """
    # type() as well as isinstance(): an object can claim str as its __class__.
    if not isinstance(key_tag, str) or not issubclass(type(key_tag), str):
        raise InvalidKeyTagError(
            f"key tag must be a string, not {type(key_tag).__name__}"
        )
    key_tag = str.__str__(key_tag)
    if not key_tag:
        raise InvalidKeyTagError("key tag is empty")
    if len(key_tag) > KEY_TAG_MAX_LENGTH:
        raise InvalidKeyTagError(
            f"key tag is {len(key_tag)} characters long; "
            f"NCP key tags have at most {KEY_TAG_MAX_LENGTH}"
        )
    if not KEY_TAG_PATTERN.fullmatch(key_tag):
        bad = sorted({c for c in key_tag if not KEY_TAG_PATTERN.fullmatch(c)})
        shown = ", ".join(repr(c) for c in bad[:5])
        raise InvalidKeyTagError(
            f"key tag {key_tag[:40]!r} contains {shown}; NCP key tags hold only "
            "ASCII letters, digits, '-' and '_'"
        )
    return key_tag


def validate_version(version: object) -> int:
    """Return ``version`` as a plain ``int`` if it is from 1 to 100, else raise.

    Booleans are refused although Python counts them as integers: ``True``
    is a mistake, not version 1. An ``int`` subclass is reduced to its value
    first, so neither its comparisons nor its ``str()`` (which builds the
    request path) can differ from the number checked here.

    Raises:
        InvalidVersionError: with what is wrong with the version.
    """
    kind = type(version)
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or not issubclass(kind, int)
    ):
        shown = repr(version)[:60]
        raise InvalidVersionError(
            f"key version must be an integer, not {kind.__name__} {shown}"
        )
    version = operator.index(version)
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise InvalidVersionError(
            f"key version {version} is out of range: NCP key versions run from "
            f"{MIN_VERSION} to {MAX_VERSION}"
        )
    return version
