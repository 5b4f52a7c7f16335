"""NCP API credentials: an access key id and its secret key, and where to find them.

The secret is masked on the object itself: ``repr``, ``str`` and equality
never show it, so it cannot leak through a log line, a traceback or a notebook
output by accident. Each key must be a non-empty string of printable ASCII
without spaces, which is what NCP issues and what an HTTP header carries
intact; anything else is refused before it is sent, with an error that names
the key and where it came from but never its text.

``resolve_credentials`` looks where other NCP tools look, in this order:

1. the ``access_key`` and ``secret_key`` arguments;
2. the environment: ``NCLOUD_ACCESS_KEY_ID`` (else ``NCLOUD_ACCESS_KEY``) and
   ``NCLOUD_SECRET_ACCESS_KEY`` (else ``NCLOUD_SECRET_KEY``);
3. the INI file ``~/.ncloud/configure``: the profile named by the ``profile``
   argument, else by ``NCLOUD_PROFILE``, else ``[DEFAULT]``, with the keys
   ``ncloud_access_key_id`` and ``ncloud_secret_access_key``.

When none of them holds a usable pair, one ``CredentialsError`` lists every
place looked in and what each lacked.
"""

from __future__ import annotations

import configparser
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from kms_toolkit.errors import CredentialsError, InvalidCredentialsError

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
ARGUMENTS_SHOWN: Final = "explicit arguments"
NO_CREDENTIALS: Final = "no usable NCP credentials: "

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

    Raises:
        InvalidCredentialsError: when a key is not a non-empty string of
            printable ASCII without spaces.
    """

    access_key: str
    secret_key: str = field(repr=False)
    source: str = "explicit"

    def __post_init__(self) -> None:
        for name in ("access_key", "secret_key"):
            value = getattr(self, name)
            problem = _key_problem(value, name, secret=name == "secret_key")
            if problem is not None:
                raise InvalidCredentialsError(
                    f"unusable NCP credentials from {self.source!r}: {problem}"
                )
            # A str subclass could override encode() or __str__, which signing
            # and the header use: keep only its value.
            object.__setattr__(self, name, str.__str__(value))

    def __repr__(self) -> str:
        return (
            f"Credentials(access_key={self.access_key!r}, secret_key={MASK!r}, "
            f"source={self.source!r})"
        )

    __str__ = __repr__


def _key_problem(value: object, name: str, *, secret: bool) -> str | None:
    """What makes ``value`` unusable as the key ``name``, or None if nothing does.

    The answer never quotes the value. It names an offending character by its
    code point in an access key, and only by its kind in a ``secret`` one.
    """
    # type() as well as isinstance(): an object can claim str as its __class__.
    if not isinstance(value, str) or not issubclass(type(value), str):
        return f"{name} must be a str, not {type(value).__name__}"
    value = str.__str__(value)  # a subclass's own __iter__ could hide characters
    if not value:
        return f"{name} is empty"
    for position, char in enumerate(value, start=1):
        # Printable ASCII without the space: what NCP issues, and what an HTTP
        # header carries without being refused, re-encoded or split.
        if not "!" <= char <= "~":
            kind = _character_kind(char)
            if not secret:
                kind += f" (U+{ord(char):04X})"
            return (
                f"{name} has {kind} at character {position}; NCP keys are "
                "printable ASCII without spaces"
            )
    return None


def _pair_problem(
    access_key: str, access_name: str, secret_key: str, secret_name: str
) -> str | None:
    """The first problem of an access key and its secret, named as given."""
    return _key_problem(access_key, access_name, secret=False) or _key_problem(
        secret_key, secret_name, secret=True
    )


def _character_kind(char: str) -> str:
    """A word for a character a key may not hold."""
    if char == " ":
        return "a space"
    if char.isspace():
        return "whitespace"
    if char.isascii():
        return "a control character"
    return "a non-ASCII character"


@dataclass(frozen=True, slots=True)
class _Lookup:
    """What one place held: a usable pair, or a note on what it lacked."""

    credentials: Credentials | None = None
    note: str = ""
    #: The place holds keys, but not a usable pair. Looking further could
    #: complete it with another account's key, so the search stops here.
    conclusive: bool = False


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
            f"{NO_CREDENTIALS}{ARGUMENTS_SHOWN}: {missing} is missing or empty "
            "(pass both access_key and secret_key, or neither)"
        )
    problem = _pair_problem(access_key, "access_key", secret_key, "secret_key")
    if problem is not None:
        raise CredentialsError(f"{NO_CREDENTIALS}{ARGUMENTS_SHOWN}: {problem}")
    return Credentials(access_key, secret_key, source="explicit")


def _from_environment_or_file(
    profile: str | None, environ: Mapping[str, str], config_path: Path | None
) -> Credentials:
    """The environment's pair, else the configure file's; one error if neither."""
    chosen = profile or environ.get(PROFILE_VARIABLE) or DEFAULT_PROFILE
    path, where = _configure_file(config_path, chosen)
    looked = [f"{ARGUMENTS_SHOWN}: not given"]
    # NOTE: an explicitly named profile wins over the environment, as a
    # command-line --profile does in other cloud tools; NCLOUD_PROFILE does not.
    if profile:
        looked.append(f"environment: not consulted, profile {profile!r} was named")
    else:
        found = _from_environment(environ)
        if found.credentials is not None:
            return found.credentials
        looked.append(found.note)
        if found.conclusive:
            looked.append(f"{where}: not consulted, the environment sets keys")
            raise CredentialsError(NO_CREDENTIALS + "; ".join(looked))
    found = _from_file(path, where, chosen)
    if found.credentials is not None:
        return found.credentials
    looked.append(found.note)
    raise CredentialsError(NO_CREDENTIALS + "; ".join(looked))


def _from_environment(environ: Mapping[str, str]) -> _Lookup:
    """The environment's pair, or what the environment lacked."""
    access_var = next((v for v in ACCESS_KEY_VARIABLES if environ.get(v)), None)
    secret_var = next((v for v in SECRET_KEY_VARIABLES if environ.get(v)), None)
    if access_var and secret_var:
        access, secret = environ[access_var], environ[secret_var]
        problem = _pair_problem(access, access_var, secret, secret_var)
        if problem is not None:
            return _Lookup(note=f"environment: {problem}", conclusive=True)
        source = f"environment ({access_var})"
        return _Lookup(Credentials(access, secret, source))
    if access_var or secret_var:
        # NOTE: half a pair in the environment is a misconfiguration; it is
        # reported rather than completed from the file, which may hold another
        # account's key.
        have = access_var or secret_var
        lacking = SECRET_KEY_VARIABLES if access_var else ACCESS_KEY_VARIABLES
        return _Lookup(
            note=f"environment: {have} is set but neither {' nor '.join(lacking)} "
            "is; set both halves of the key pair",
            conclusive=True,
        )
    names = ", ".join((*ACCESS_KEY_VARIABLES, *SECRET_KEY_VARIABLES))
    return _Lookup(note=f"environment: none of {names} is set")


def _configure_file(path: Path | None, profile: str) -> tuple[Path, str]:
    """The configure file to read, and how messages show it with its profile."""
    shown = CONFIGURE_FILE_SHOWN if path is None else str(path)
    path = Path.home() / ".ncloud" / "configure" if path is None else path
    return path, f"{shown} [{profile}]"


def _from_file(path: Path, where: str, profile: str) -> _Lookup:
    """The profile's pair from the configure file, or what was missing."""
    sections, unreadable = _read_configure_file(path)
    if sections is None:
        return _Lookup(note=f"{where}: {unreadable}")
    if profile not in sections:
        known = ", ".join(sorted(sections)) or "none"
        return _Lookup(note=f"{where}: no such profile (profiles in the file: {known})")
    values = sections[profile]
    missing = [o for o in (ACCESS_KEY_OPTION, SECRET_KEY_OPTION) if not values.get(o)]
    if missing:
        return _Lookup(note=f"{where}: {' and '.join(missing)} missing or empty")
    access, secret = values[ACCESS_KEY_OPTION], values[SECRET_KEY_OPTION]
    problem = _pair_problem(access, ACCESS_KEY_OPTION, secret, SECRET_KEY_OPTION)
    if problem is not None:
        return _Lookup(note=f"{where}: {problem}")
    return _Lookup(Credentials(access, secret, source=where))


def _read_configure_file(path: Path) -> tuple[dict[str, dict[str, str]] | None, str]:
    """Every section of the INI file as plain dicts, or None and why not."""
    # Each failure becomes a note inside its except block and is raised, if at
    # all, well after it: a decoding error holds the file's bytes, and nothing
    # raised later may carry it as __context__.
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, "file not found"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot be read ({type(exc).__name__})"
    sections, error, line = _parse_ini(text)
    if error is configparser.MissingSectionHeaderError:
        # NCP's docs also show a file with no section at all: read it as DEFAULT.
        sections, error, line = _parse_ini(f"[{DEFAULT_PROFILE}]\n{text}")
        line = line - 1 if line else line  # the added header is not in the file
    if sections is None:
        at = f" at line {line}" if line else ""
        kind = error.__name__ if error else "error"
        return None, f"not a valid INI file{at} ({kind})"
    return sections, ""


def _parse_ini(
    text: str,
) -> tuple[dict[str, dict[str, str]] | None, type[Exception] | None, int | None]:
    """The sections of ``text``, else the parse error's class and line number.

    configparser's errors quote the offending line, which may hold the secret,
    so only the class and the line number leave the except block.
    """
    parser = configparser.ConfigParser(
        default_section=_NO_TEMPLATE_SECTION, interpolation=None
    )
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        errors = getattr(exc, "errors", None)
        line = getattr(exc, "lineno", None) or (errors[0][0] if errors else None)
        return None, type(exc), line
    return {name: dict(parser[name]) for name in parser.sections()}, None, None
