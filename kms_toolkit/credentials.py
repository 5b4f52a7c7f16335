"""NCP API credentials: an access key id and its secret key, and where to find them.

The secret is masked on the object itself: ``repr``, ``str`` and equality
never show it, so it cannot leak through a log line, a traceback or a notebook
output by accident.

``resolve_credentials`` looks where other NCP tools look, in this order:

1. the ``access_key`` and ``secret_key`` arguments;
2. the environment: ``NCLOUD_ACCESS_KEY_ID`` (else ``NCLOUD_ACCESS_KEY``) and
   ``NCLOUD_SECRET_ACCESS_KEY`` (else ``NCLOUD_SECRET_KEY``);
3. the INI file ``~/.ncloud/configure``: the profile named by the ``profile``
   argument, else by ``NCLOUD_PROFILE``, else ``[DEFAULT]``, with the keys
   ``ncloud_access_key_id`` and ``ncloud_secret_access_key``.
"""

from __future__ import annotations

import configparser
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from kms_toolkit.errors import CredentialsError

__all__ = ["Credentials", "resolve_credentials"]

logger = logging.getLogger(__name__)

MASK = "****"

ACCESS_KEY_VARIABLES: Final = ("NCLOUD_ACCESS_KEY_ID", "NCLOUD_ACCESS_KEY")
SECRET_KEY_VARIABLES: Final = ("NCLOUD_SECRET_ACCESS_KEY", "NCLOUD_SECRET_KEY")
PROFILE_VARIABLE: Final = "NCLOUD_PROFILE"
DEFAULT_PROFILE: Final = "DEFAULT"
ACCESS_KEY_OPTION: Final = "ncloud_access_key_id"
SECRET_KEY_OPTION: Final = "ncloud_secret_access_key"  # noqa: S105 (a key name)
CONFIGURE_FILE_SHOWN: Final = "~/.ncloud/configure"

# configparser treats its default section as a template merged into every
# other section. Renaming it to something no file uses turns [DEFAULT] into a
# plain section, so a profile never borrows half of its key pair from another.
_NO_TEMPLATE_SECTION: Final = "\x00no template section"


@dataclass(frozen=True, slots=True)
class Credentials:
    """An access key id and its secret key, plus where they were found.

    Example:
        >>> Credentials("AK", "very-secret")
        Credentials(access_key='AK', secret_key='****', source='explicit')
    """

    access_key: str
    secret_key: str = field(repr=False)
    source: str = "explicit"

    def __repr__(self) -> str:
        return (
            f"Credentials(access_key={self.access_key!r}, secret_key={MASK!r}, "
            f"source={self.source!r})"
        )

    __str__ = __repr__


def resolve_credentials(
    access_key: str | None = None,
    secret_key: str | None = None,
    *,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Credentials:
    """Find the NCP credentials to sign with: arguments, environment, then file.

    Naming a ``profile`` explicitly goes straight to the configure file.

    Example:
        >>> creds = resolve_credentials(environ={
        ...     "NCLOUD_ACCESS_KEY_ID": "AK", "NCLOUD_SECRET_ACCESS_KEY": "SK"})
        >>> creds.source
        'environment (NCLOUD_ACCESS_KEY_ID)'

    Raises:
        CredentialsError: naming every place looked in and what each lacked.
    """
    environ = os.environ if environ is None else environ
    if access_key is not None or secret_key is not None:
        credentials = _from_arguments(access_key, secret_key)
    else:
        credentials = _from_environment_or_file(profile, environ, config_path)
    logger.info("NCP credentials from %s", credentials.source)
    return credentials


def _from_arguments(access_key: str | None, secret_key: str | None) -> Credentials:
    """The explicit pair; half a pair is a mistake, not a cue to look elsewhere."""
    # NOTE: mixing an explicit access key with a secret found elsewhere could
    # sign for the wrong account, so a partial explicit pair is refused outright.
    if not access_key or not secret_key:
        missing = "secret_key" if access_key else "access_key"
        raise CredentialsError(
            f"no usable NCP credentials: explicit arguments: {missing} is missing "
            "or empty (pass both access_key and secret_key, or neither)"
        )
    return Credentials(access_key, secret_key, source="explicit")


def _from_environment_or_file(
    profile: str | None, environ: Mapping[str, str], config_path: Path | None
) -> Credentials:
    """The environment's pair, else the configure file's; one error if neither."""
    looked: list[str] = []
    # NOTE: an explicitly named profile wins over the environment, as a
    # command-line --profile does in other cloud tools; NCLOUD_PROFILE does not.
    if not profile:
        found, note = _from_environment(environ)
        if found is not None:
            return found
        looked.append(note)
    else:
        looked.append(f"environment: not consulted, profile {profile!r} was named")
    chosen = profile or environ.get(PROFILE_VARIABLE) or DEFAULT_PROFILE
    found, note = _from_file(config_path, chosen)
    if found is not None:
        return found
    looked.append(note)
    raise CredentialsError("no usable NCP credentials: " + "; ".join(looked))


def _from_environment(
    environ: Mapping[str, str],
) -> tuple[Credentials | None, str]:
    """The environment's pair, or None and what the environment lacked."""
    access_var = next((v for v in ACCESS_KEY_VARIABLES if environ.get(v)), None)
    secret_var = next((v for v in SECRET_KEY_VARIABLES if environ.get(v)), None)
    if access_var and secret_var:
        source = f"environment ({access_var})"
        return Credentials(environ[access_var], environ[secret_var], source), ""
    if access_var or secret_var:
        # NOTE: half a pair in the environment is a misconfiguration; it is
        # reported rather than completed from the file, which may hold another
        # account's key.
        have = access_var or secret_var
        lacking = SECRET_KEY_VARIABLES if access_var else ACCESS_KEY_VARIABLES
        raise CredentialsError(
            f"no usable NCP credentials: environment: {have} is set but neither "
            f"{' nor '.join(lacking)} is; set both halves of the key pair"
        )
    names = ", ".join((*ACCESS_KEY_VARIABLES, *SECRET_KEY_VARIABLES))
    return None, f"environment: none of {names} is set"


def _from_file(path: Path | None, profile: str) -> tuple[Credentials | None, str]:
    """The profile's pair from the configure file, or None and what was missing."""
    shown = CONFIGURE_FILE_SHOWN if path is None else str(path)
    path = Path.home() / ".ncloud" / "configure" if path is None else path
    where = f"{shown} [{profile}]"
    sections = _read_configure_file(path, shown)
    if sections is None:
        return None, f"{shown}: file not found"
    if profile not in sections:
        known = ", ".join(sorted(sections)) or "none"
        return None, f"{where}: no such profile (profiles in the file: {known})"
    values = sections[profile]
    missing = [o for o in (ACCESS_KEY_OPTION, SECRET_KEY_OPTION) if not values.get(o)]
    if missing:
        return None, f"{where}: {' and '.join(missing)} missing or empty"
    access, secret = values[ACCESS_KEY_OPTION], values[SECRET_KEY_OPTION]
    return Credentials(access, secret, source=where), ""


def _read_configure_file(path: Path, shown: str) -> dict[str, dict[str, str]] | None:
    """Every section of the INI file as plain dicts, or None if there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(
            f"no usable NCP credentials: {shown}: cannot be read ({type(exc).__name__})"
        ) from exc
    parser = configparser.ConfigParser(
        default_section=_NO_TEMPLATE_SECTION, interpolation=None
    )
    try:
        _parse_ini(parser, text, shown)
    except configparser.MissingSectionHeaderError:
        # NCP's docs also show a file with no section at all: read it as DEFAULT.
        _parse_ini(parser, f"[{DEFAULT_PROFILE}]\n{text}", shown)
    return {name: dict(parser[name]) for name in parser.sections()}


def _parse_ini(parser: configparser.ConfigParser, text: str, shown: str) -> None:
    """Parse ``text``; errors name the line, never its content (it may be secret)."""
    try:
        parser.read_string(text, source=shown)
    except configparser.MissingSectionHeaderError:
        raise
    except configparser.Error as exc:
        # configparser quotes the offending line, which may hold the secret:
        # keep only its number, and drop the original from the chain.
        errors = getattr(exc, "errors", None)
        line = getattr(exc, "lineno", None) or (errors[0][0] if errors else None)
        at = f" at line {line}" if line else ""
        raise CredentialsError(
            f"no usable NCP credentials: {shown}: not a valid INI file{at} "
            f"({type(exc).__name__})"
        ) from None
