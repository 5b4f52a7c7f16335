"""What every ``kms-toolkit`` subcommand shares: options, exit statuses, errors.

No command that calls NCP takes a secret on the command line, where it would
end up in the shell history and in ``ps``: credentials come from the
environment or from ``~/.ncloud/configure`` (see ``kms_toolkit.credentials``).
Only ``emulator --secret-key`` takes one: the emulator's own throwaway key.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Final

from kms_toolkit.client import SITES, AsyncKmsClient, KmsClient
from kms_toolkit.errors import (
    AuthenticationError,
    CredentialsError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)

__all__ = [
    "EXIT_AUTH",
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "add_connection_arguments",
    "async_client_from_args",
    "client_from_args",
    "exit_status_for",
    "positive_int",
    "positive_rate",
    "report_error",
]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_AUTH: Final = 3
EXIT_NOT_FOUND: Final = 4

CREDENTIALS_HELP: Final = (
    "Credentials come from NCLOUD_ACCESS_KEY_ID/NCLOUD_SECRET_ACCESS_KEY (or "
    "NCLOUD_ACCESS_KEY/NCLOUD_SECRET_KEY), else from ~/.ncloud/configure."
)


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--endpoint``/``--site`` (one or the other) and ``--profile``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--endpoint",
        metavar="URL",
        help="base URL to call instead of a site's, e.g. a local emulator's "
        "http://127.0.0.1:8080/kms/v1 (plain http only on loopback)",
    )
    where.add_argument(
        "--site",
        choices=tuple(SITES),
        default="public",
        help="NCP site whose KMS endpoint to call (default: public)",
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="read the credentials from this profile of ~/.ncloud/configure "
        "only (the environment is not consulted)",
    )


def client_from_args(args: argparse.Namespace) -> KmsClient:
    """A ``KmsClient`` for the parsed connection arguments."""
    return KmsClient(site=args.site, endpoint=args.endpoint, profile=args.profile)


def async_client_from_args(args: argparse.Namespace, **kwargs: Any) -> AsyncKmsClient:
    """An ``AsyncKmsClient`` for the parsed connection arguments.

    ``kwargs`` go to ``AsyncKmsClient`` (for example ``max_connections``).
    """
    return AsyncKmsClient(
        site=args.site, endpoint=args.endpoint, profile=args.profile, **kwargs
    )


def exit_status_for(error: BaseException) -> int:
    """The exit status a command ends with when ``error`` stops it."""
    if isinstance(error, InvalidInputError):
        return EXIT_BAD_INPUT
    if isinstance(
        error, CredentialsError | AuthenticationError | PermissionDeniedError
    ):
        return EXIT_AUTH
    if isinstance(error, NotFoundError):
        return EXIT_NOT_FOUND
    return EXIT_FAILED


def positive_int(text: str) -> int:
    """An argparse type: an integer of 1 or more (``--concurrency``)."""
    try:
        value = int(text.strip(), 10)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be an integer of 1 or more, not {text[:40]!r}"
        )
    return value


def positive_rate(text: str) -> float:
    """An argparse type: a positive, finite number (``--rate-limit``)."""
    # Imported here: the package brings the engine, which ``enable`` never needs.
    from kms_toolkit.bulk.ratecontrol import check_rate_limit

    try:
        value = check_rate_limit(float(text))
    except ValueError:  # InvalidInputError is one too
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(
            f"must be a positive, finite number of requests per second, "
            f"not {text[:40]!r}"
        )
    return value


def report_error(error: BaseException) -> int:
    """Print ``error`` on stderr and return its exit status.

    A one-line message stays one line; a message that lists things (the bad
    rows of a targets file) keeps one item per line, indented under the first.
    """
    lines = [" ".join(line.split()) for line in str(error).splitlines()]
    lines = [line for line in lines if line] or [type(error).__name__]
    print(f"kms-toolkit: error: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(f"  {line}", file=sys.stderr)
    return exit_status_for(error)
