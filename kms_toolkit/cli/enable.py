"""``kms-toolkit enable KEY_TAG VERSION``: enable one key version.

The result is one JSON object on stdout, for scripts to read::

    {"key_tag": "...", "version": 3, "status": "ENABLE",
     "status_date": "2024-12-06T04:49:01.703000+00:00",
     "status_date_ms": 1733460541703}
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from kms_toolkit.cli._common import (
    EXIT_OK,
    add_connection_arguments,
    client_from_args,
    report_error,
)
from kms_toolkit.credentials import CONFIGURE_FILE_SHOWN
from kms_toolkit.errors import InvalidVersionError, KmsToolkitError
from kms_toolkit.models import KeyVersionChange
from kms_toolkit.validation import validate_key_tag, validate_version

__all__ = ["register"]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Leading zeros apart, few enough digits for int() (which refuses thousands)
# and enough for the range check to name a number that is too large.
ASCII_DIGITS: Final = re.compile(r"0*(?P<significant>[0-9]{1,18})")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``enable`` subcommand."""
    parser = subparsers.add_parser(
        "enable",
        help="enable one version of a key",
        description="Enable one version of an NCP KMS key and print the result "
        "as one JSON object. Credentials come from NCLOUD_ACCESS_KEY_ID and "
        "NCLOUD_SECRET_ACCESS_KEY (or NCLOUD_ACCESS_KEY and NCLOUD_SECRET_KEY), "
        f"else from {CONFIGURE_FILE_SHOWN}.",
        epilog="exit status: 0 enabled, 1 failed, 2 bad input, "
        "3 credentials or permission, 4 key or version not found",
    )
    parser.add_argument("key_tag", metavar="KEY_TAG", help="the key's tag")
    parser.add_argument("version", metavar="VERSION", help="the version, 1 to 100")
    add_connection_arguments(parser)
    parser.set_defaults(handler=run_enable)


def run_enable(args: argparse.Namespace) -> int:
    """Validate, enable, print the result; return the exit status."""
    try:
        key_tag = validate_key_tag(args.key_tag)
        version = parse_version(args.version)
        with client_from_args(args) as kms:
            change = kms.enable_key_version(key_tag, version)
    except KmsToolkitError as error:
        return report_error(error)
    print(json.dumps(change_as_json(change)))
    return EXIT_OK


def parse_version(text: str) -> int:
    """The VERSION argument as an integer from 1 to 100."""
    # int() also reads "1_0", "+3" and digits of other scripts ("٣"): a
    # version on the command line is plain ASCII digits.
    digits = ASCII_DIGITS.fullmatch(text.strip())
    if digits is None:
        raise InvalidVersionError(
            f"VERSION must be an integer from 1 to 100, not {text[:40]!r}"
        )
    return validate_version(int(digits["significant"]))


def change_as_json(change: KeyVersionChange) -> dict[str, Any]:
    """The printed form of an enable result."""
    return {
        "key_tag": change.key_tag,
        "version": change.version,
        "status": change.status.value,
        "status_date": change.status_date.isoformat(),
        "status_date_ms": (change.status_date - EPOCH) // timedelta(milliseconds=1),
    }
