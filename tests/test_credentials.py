"""Where credentials come from, and proof that the secret never leaks."""

from __future__ import annotations

import contextlib
import logging
import traceback
from pathlib import Path

import httpx
import pytest

from kms_toolkit.auth import SignatureV2
from kms_toolkit.client import AsyncKmsClient, KmsClient
from kms_toolkit.credentials import Credentials, resolve_credentials
from kms_toolkit.errors import (
    CredentialsError,
    InvalidCredentialsError,
    KmsToolkitError,
)
from tests.conftest import ACCESS_KEY, CANARY_SECRET, FakeNcp

CONFIG = """\
[DEFAULT]
ncloud_access_key_id = FILE-DEFAULT-AK
ncloud_secret_access_key = file-default-sk

[prod]
ncloud_access_key_id = FILE-PROD-AK
ncloud_secret_access_key = file-prod-sk
ncloud_api_url = https://ncloud.apigw.ntruss.com
"""

FULL_ENV = {
    "NCLOUD_ACCESS_KEY_ID": "ENV-ID-AK",
    "NCLOUD_SECRET_ACCESS_KEY": "env-id-sk",
    "NCLOUD_ACCESS_KEY": "ENV-SHORT-AK",
    "NCLOUD_SECRET_KEY": "env-short-sk",
}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "configure"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_explicit_arguments_win_over_environment_and_file(config_file: Path) -> None:
    """Both explicit halves beat everything else."""
    creds = resolve_credentials(
        "ARG-AK", "arg-sk", environ=FULL_ENV, config_path=config_file
    )

    assert (creds.access_key, creds.secret_key, creds.source) == (
        "ARG-AK",
        "arg-sk",
        "explicit",
    )


def test_environment_id_names_win_over_short_names(config_file: Path) -> None:
    """NCLOUD_ACCESS_KEY_ID/NCLOUD_SECRET_ACCESS_KEY beat the Terraform names."""
    creds = resolve_credentials(environ=FULL_ENV, config_path=config_file)

    assert (creds.access_key, creds.secret_key) == ("ENV-ID-AK", "env-id-sk")
    assert creds.source == "environment (NCLOUD_ACCESS_KEY_ID)"


def test_environment_short_names_are_used_without_id_names(config_file: Path) -> None:
    """NCLOUD_ACCESS_KEY/NCLOUD_SECRET_KEY serve when the _ID names are unset."""
    env = {"NCLOUD_ACCESS_KEY": "ENV-SHORT-AK", "NCLOUD_SECRET_KEY": "env-short-sk"}

    creds = resolve_credentials(environ=env, config_path=config_file)

    assert (creds.access_key, creds.secret_key) == ("ENV-SHORT-AK", "env-short-sk")
    assert creds.source == "environment (NCLOUD_ACCESS_KEY)"


def test_environment_beats_file_profile_named_by_ncloud_profile(
    config_file: Path,
) -> None:
    """NCLOUD_PROFILE picks the file's profile but does not outrank the env keys."""
    env = {**FULL_ENV, "NCLOUD_PROFILE": "prod"}

    creds = resolve_credentials(environ=env, config_path=config_file)

    assert creds.access_key == "ENV-ID-AK"


def test_file_profile_from_ncloud_profile(config_file: Path) -> None:
    """Without env keys, NCLOUD_PROFILE names the profile read from the file."""
    creds = resolve_credentials(
        environ={"NCLOUD_PROFILE": "prod"}, config_path=config_file
    )

    assert (creds.access_key, creds.secret_key) == ("FILE-PROD-AK", "file-prod-sk")
    assert creds.source == f"{config_file} [prod]"


def test_profile_argument_beats_ncloud_profile(config_file: Path) -> None:
    """The profile argument outranks NCLOUD_PROFILE."""
    creds = resolve_credentials(
        profile="DEFAULT", environ={"NCLOUD_PROFILE": "prod"}, config_path=config_file
    )

    assert creds.access_key == "FILE-DEFAULT-AK"


def test_profile_argument_goes_straight_to_the_file(config_file: Path) -> None:
    """Naming a profile explicitly reads the file even when env keys are set."""
    creds = resolve_credentials(
        profile="prod", environ=FULL_ENV, config_path=config_file
    )

    assert creds.access_key == "FILE-PROD-AK"


def test_file_default_profile_without_any_profile_named(config_file: Path) -> None:
    """With no env keys and no profile named, [DEFAULT] is read."""
    creds = resolve_credentials(environ={}, config_path=config_file)

    assert (creds.access_key, creds.secret_key) == (
        "FILE-DEFAULT-AK",
        "file-default-sk",
    )
    assert creds.source == f"{config_file} [DEFAULT]"


def test_default_path_is_under_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without config_path the file is ~/.ncloud/configure, shown with a tilde."""
    (tmp_path / ".ncloud").mkdir()
    (tmp_path / ".ncloud" / "configure").write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path))

    creds = resolve_credentials(environ={})

    assert creds.access_key == "FILE-DEFAULT-AK"
    assert creds.source == "~/.ncloud/configure [DEFAULT]"


def test_sectionless_file_is_read_as_default(tmp_path: Path) -> None:
    """A file with no section header is taken as [DEFAULT]."""
    path = tmp_path / "configure"
    path.write_text(
        "ncloud_access_key_id = BARE-AK\nncloud_secret_access_key = bare-sk\n",
        encoding="utf-8",
    )

    creds = resolve_credentials(environ={}, config_path=path)

    assert (creds.access_key, creds.secret_key) == ("BARE-AK", "bare-sk")
    assert creds.source.endswith("[DEFAULT]")


def test_profile_never_borrows_half_a_pair_from_default(tmp_path: Path) -> None:
    """A profile missing its secret is an error, not DEFAULT's secret."""
    path = tmp_path / "configure"
    path.write_text(CONFIG + "\n[half]\nncloud_access_key_id = HALF-AK\n")

    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(profile="half", environ={}, config_path=path)

    assert "[half]: ncloud_secret_access_key missing" in str(caught.value)


def test_partial_environment_names_what_is_missing(config_file: Path) -> None:
    """Only an access key in the env is an error naming both secret variables."""
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(
            environ={"NCLOUD_ACCESS_KEY_ID": "ENV-ID-AK"}, config_path=config_file
        )

    message = str(caught.value)
    assert "environment: NCLOUD_ACCESS_KEY_ID is set" in message
    assert "NCLOUD_SECRET_ACCESS_KEY nor NCLOUD_SECRET_KEY" in message


NO_ENVIRONMENT_NOTE = (
    "environment: none of NCLOUD_ACCESS_KEY_ID, NCLOUD_ACCESS_KEY, "
    "NCLOUD_SECRET_ACCESS_KEY, NCLOUD_SECRET_KEY is set"
)


def test_nothing_anywhere_names_every_place_looked_in(tmp_path: Path) -> None:
    """No arguments, no env keys and no file: one error naming all three."""
    missing = tmp_path / "nowhere" / "configure"

    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(environ={}, config_path=missing)

    assert str(caught.value) == (
        "no usable NCP credentials: explicit arguments: not given; "
        f"{NO_ENVIRONMENT_NOTE}; {missing} [DEFAULT]: file not found"
    )


def test_unreadable_file_keeps_every_other_place_in_the_error(tmp_path: Path) -> None:
    """A configure file that is a directory is one more note, not the only one."""
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(environ={"NCLOUD_PROFILE": "prod"}, config_path=tmp_path)

    assert str(caught.value) == (
        "no usable NCP credentials: explicit arguments: not given; "
        f"{NO_ENVIRONMENT_NOTE}; {tmp_path} [prod]: cannot be read "
        "(IsADirectoryError)"
    )
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_named_profile_error_lists_the_environment_as_not_consulted(
    tmp_path: Path,
) -> None:
    """A named profile skips the environment, and the error says so."""
    missing = tmp_path / "configure"

    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(profile="prod", environ=FULL_ENV, config_path=missing)

    assert str(caught.value) == (
        "no usable NCP credentials: explicit arguments: not given; "
        "environment: not consulted, profile 'prod' was named; "
        f"{missing} [prod]: file not found"
    )


def test_half_a_pair_in_the_environment_lists_every_place(tmp_path: Path) -> None:
    """Half an env pair stops the search; the file is named as not consulted."""
    missing = tmp_path / "configure"

    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(environ={"NCLOUD_SECRET_KEY": "sk"}, config_path=missing)

    assert str(caught.value) == (
        "no usable NCP credentials: explicit arguments: not given; "
        "environment: NCLOUD_SECRET_KEY is set but neither NCLOUD_ACCESS_KEY_ID "
        "nor NCLOUD_ACCESS_KEY is; set both halves of the key pair; "
        f"{missing} [DEFAULT]: not consulted, the environment sets keys"
    )


def test_unknown_profile_lists_the_profiles_there_are(config_file: Path) -> None:
    """A profile that does not exist is named, with the file's profiles."""
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(
            environ={"NCLOUD_PROFILE": "staging"}, config_path=config_file
        )

    message = str(caught.value)
    assert "[staging]: no such profile" in message
    assert "DEFAULT, prod" in message
    assert "environment: none of" in message


def test_partial_explicit_pair_is_refused(config_file: Path) -> None:
    """An explicit access key without its secret is an error, not a fallback."""
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials("ARG-AK", None, environ=FULL_ENV, config_path=config_file)

    assert "explicit arguments: secret_key is missing" in str(caught.value)


def test_broken_ini_names_the_line_but_not_its_content(tmp_path: Path) -> None:
    """A parse error points at the line number; no chained error quotes it."""
    path = tmp_path / "configure"
    path.write_text(f"[DEFAULT]\nncloud_access_key_id = AK\n{CANARY_SECRET}\n")

    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(environ={}, config_path=path)

    assert f"{path} [DEFAULT]: not a valid INI file at line 3 (ParsingError)" in str(
        caught.value
    )
    assert CANARY_SECRET not in every_text_of(caught.value)
    assert caught.value.__context__ is None


def test_broken_sectionless_ini_names_its_own_line_but_not_its_content(
    tmp_path: Path,
) -> None:
    """A file without sections that fails to parse keeps the secret off the chain.

    Reading it as [DEFAULT] is a second parse; neither parse's error, both of
    which quote the secret's line, may ride along on the one raised.
    """
    path = tmp_path / "configure"
    path.write_text(f"{CANARY_SECRET}\nncloud_access_key_id = AK\n")

    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(environ={}, config_path=path)

    assert f"{path} [DEFAULT]: not a valid INI file at line 1 (ParsingError)" in str(
        caught.value
    )
    assert CANARY_SECRET not in every_text_of(caught.value)


def test_undecodable_file_keeps_its_bytes_off_the_chain(tmp_path: Path) -> None:
    """A file that is not UTF-8 is named; its bytes, secret included, are not kept."""
    path = tmp_path / "configure"
    path.write_bytes(
        b"[DEFAULT]\nncloud_access_key_id = AK\n"
        + f"ncloud_secret_access_key = {CANARY_SECRET}".encode()
        + b"\xff\n"
    )

    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(environ={}, config_path=path)

    assert str(caught.value).endswith(
        f"{path} [DEFAULT]: cannot be read (UnicodeDecodeError)"
    )
    assert CANARY_SECRET not in every_text_of(caught.value)


def test_source_is_logged_at_info_without_the_keys(
    config_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The INFO line says where the credentials came from, not what they are."""
    caplog.set_level(logging.INFO, logger="kms_toolkit.credentials")

    resolve_credentials(environ={}, config_path=config_file)

    assert f"NCP credentials from {config_file} [DEFAULT]" in caplog.messages
    assert "file-default-sk" not in caplog.text
    assert "FILE-DEFAULT-AK" not in caplog.text


# The canary: a unique secret planted in the credentials, looked for everywhere.


def test_secret_is_absent_from_reprs(credentials: Credentials) -> None:
    """repr and str of credentials, the signer and both clients hide the secret."""
    signer = SignatureV2(credentials)
    sync_client = KmsClient(credentials)
    async_client = AsyncKmsClient(
        credentials, transport=httpx.MockTransport(lambda _: httpx.Response(200))
    )
    try:
        shown = [repr(credentials), str(credentials), repr(signer), str(signer)]
        shown += [repr(sync_client), str(sync_client), repr(async_client)]
    finally:
        sync_client.close()

    assert all(CANARY_SECRET not in text for text in shown)
    assert ACCESS_KEY in repr(sync_client)


def test_secret_is_absent_from_debug_logs_of_real_requests(
    credentials: Credentials, fake_ncp: FakeNcp, caplog: pytest.LogCaptureFixture
) -> None:
    """Every log record of a real request over loopback lacks the secret."""
    caplog.set_level(logging.DEBUG)

    with KmsClient(credentials, endpoint=fake_ncp.base_url) as kms:
        kms.enable_key_version("canary-key", 2)
        with pytest.raises(KmsToolkitError):
            kms.get_key("canary-key")

    assert any("enable -> 200" in m for m in caplog.messages)
    assert fake_ncp.seen[0].signature_ok
    assert all(CANARY_SECRET not in record.getMessage() for record in caplog.records)
    assert CANARY_SECRET not in caplog.text


async def test_secret_is_absent_from_debug_logs_of_async_requests(
    credentials: Credentials, fake_ncp: FakeNcp, caplog: pytest.LogCaptureFixture
) -> None:
    """The same holds for the async client over aiohttp."""
    caplog.set_level(logging.DEBUG)

    async with AsyncKmsClient(credentials, endpoint=fake_ncp.base_url) as kms:
        await kms.enable_key_version("canary-key", 2)

    assert any("enable -> 200" in m for m in caplog.messages)
    assert CANARY_SECRET not in caplog.text


def failing_answers() -> list[httpx.Response | Exception]:
    """One of each way a request can fail."""
    return [
        httpx.Response(401, json={"error": {"errorCode": "200", "message": "Auth"}}),
        httpx.Response(404, text="<html>not here</html>"),
        httpx.Response(429, json={"error": {"errorCode": "420"}}),
        httpx.Response(200, json={"code": "FAIL", "message": "no"}),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"code": "SUCCESS", "data": {"version": 1}}),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
    ]


def every_text_of(error: BaseException) -> str:
    """The traceback of an error, and every exception on its chain in full.

    The chain is walked through ``__cause__`` and ``__context__`` alike, since
    ``raise ... from None`` only hides a context from the traceback: it is still
    reachable, and so is every attribute of every exception on it.
    """
    texts = ["".join(traceback.format_exception(error))]
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        texts += [repr(current), repr(current.args), repr(vars(current))]
        texts += attribute_texts(current)
        pending += [e for e in (current.__cause__, current.__context__) if e]
    return "\n".join(texts)


def attribute_texts(error: BaseException) -> list[str]:
    """The repr of each public attribute, C-level ones (``object``) included."""
    texts = []
    for name in dir(error):
        if name.startswith("__"):
            continue
        # Some properties raise when nothing is behind them (httpx's request).
        with contextlib.suppress(Exception):
            value = getattr(error, name)
            if not callable(value):
                texts.append(repr(value))
    return texts


@pytest.mark.parametrize("answer", failing_answers(), ids=lambda a: repr(a)[:30])
def test_secret_is_absent_from_every_failure(
    credentials: Credentials, answer: httpx.Response | Exception
) -> None:
    """No error raised by a failed request shows the secret, chain included."""

    def respond(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    with (
        KmsClient(credentials, transport=httpx.MockTransport(respond)) as kms,
        pytest.raises(KmsToolkitError) as caught,
    ):
        kms.enable_key_version("canary-key", 1)

    assert CANARY_SECRET not in every_text_of(caught.value)


def test_secret_is_absent_from_credentials_errors(tmp_path: Path) -> None:
    """A half-set environment holding only the secret never echoes it."""
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(
            environ={"NCLOUD_SECRET_KEY": CANARY_SECRET},
            config_path=tmp_path / "configure",
        )

    assert "NCLOUD_SECRET_KEY is set" in str(caught.value)
    assert CANARY_SECRET not in every_text_of(caught.value)


@pytest.mark.parametrize("answer", failing_answers(), ids=lambda a: repr(a)[:30])
async def test_secret_is_absent_from_every_async_failure(
    credentials: Credentials, answer: httpx.Response | Exception
) -> None:
    """No error the async client raises shows the secret, chain included."""

    def respond(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    async with AsyncKmsClient(
        credentials, transport=httpx.MockTransport(respond)
    ) as kms:
        with pytest.raises(KmsToolkitError) as caught:
            await kms.enable_key_version("canary-key", 1)

    assert CANARY_SECRET not in every_text_of(caught.value)


async def test_secret_is_absent_from_async_failures_over_aiohttp(
    credentials: Credentials, fake_ncp: FakeNcp
) -> None:
    """Through the default aiohttp transport, refused and failed calls stay clean."""
    fake_ncp.answer = (503, {"error": {"errorCode": "500", "message": "down"}})
    caught: list[BaseException] = []

    async with AsyncKmsClient(credentials, endpoint=fake_ncp.base_url) as kms:
        with pytest.raises(KmsToolkitError) as failed:
            await kms.enable_key_version("canary-key", 1)
        caught.append(failed.value)
    fake_ncp.secret = "another-secret"  # every request is now refused as unsigned
    async with AsyncKmsClient(credentials, endpoint=fake_ncp.base_url) as kms:
        with pytest.raises(KmsToolkitError) as refused:
            await kms.get_key("canary-key")
        caught.append(refused.value)

    assert [type(error).__name__ for error in caught] == [
        "EndpointError",
        "AuthenticationError",
    ]
    assert all(CANARY_SECRET not in every_text_of(error) for error in caught)


# Keys are checked when credentials are made: nothing unusable is ever signed.

BAD_PAIRS: dict[str, tuple[object, object, str]] = {
    "both-empty": ("", "", "access_key is empty"),
    "empty-secret": ("AK", "", "secret_key is empty"),
    "secret-none": ("AK", None, "secret_key must be a str, not NoneType"),
    "access-none": (None, CANARY_SECRET, "access_key must be a str, not NoneType"),
    "access-bytes": (b"AK", CANARY_SECRET, "access_key must be a str, not bytes"),
    "access-crlf": (
        "AK\r\nX-Injected: 1",
        CANARY_SECRET,
        "access_key has whitespace (U+000D) at character 3",
    ),
    "access-nul": ("AK\x00", CANARY_SECRET, "a control character (U+0000)"),
    "access-non-ascii": (
        "AKé",
        CANARY_SECRET,
        "access_key has a non-ASCII character (U+00E9) at character 3",
    ),
    "access-space": ("A K", CANARY_SECRET, "access_key has a space (U+0020)"),
    "secret-newline": (
        "AK",
        CANARY_SECRET + "\n",
        f"secret_key has whitespace at character {len(CANARY_SECRET) + 1}",
    ),
    "secret-control": ("AK", CANARY_SECRET + "\x7f", "a control character at"),
    "secret-non-ascii": ("AK", CANARY_SECRET + "é", "a non-ASCII character at"),
}


@pytest.mark.parametrize("case", BAD_PAIRS)
def test_unusable_keys_are_refused_naming_the_key_and_the_source(case: str) -> None:
    """Empty, non-str or non-printable keys fail at once, naming key and source."""
    access_key, secret_key, wanted = BAD_PAIRS[case]

    with pytest.raises(InvalidCredentialsError) as caught:
        Credentials(access_key, secret_key, source="unit test")  # type: ignore[arg-type]

    message = str(caught.value)
    assert message.startswith("unusable NCP credentials from 'unit test': ")
    assert wanted in message
    assert isinstance(caught.value, CredentialsError)
    assert isinstance(caught.value, ValueError)
    assert CANARY_SECRET not in every_text_of(caught.value)
    assert not any(c in message for c in "\r\n\x00\x7fé")
    assert "X-Injected" not in message


def test_secret_problems_name_no_code_point() -> None:
    """A bad character in the secret is described by kind only."""
    with pytest.raises(InvalidCredentialsError) as caught:
        Credentials("AK", "abc\x01def")

    assert "U+" not in str(caught.value)


def test_str_subclass_keys_are_kept_as_plain_strings() -> None:
    """A str subclass's own methods never reach signing."""

    class Shouting(str):
        def encode(self, *args: object, **kwargs: object) -> bytes:
            return b"SOMETHING ELSE"

    credentials = Credentials(Shouting("AK"), Shouting("sk"))

    assert type(credentials.access_key) is str
    assert type(credentials.secret_key) is str


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        (
            {"NCLOUD_ACCESS_KEY_ID": "AK\r\n", "NCLOUD_SECRET_ACCESS_KEY": "sk"},
            "environment: NCLOUD_ACCESS_KEY_ID has whitespace (U+000D) at "
            "character 3; NCP keys are printable ASCII without spaces",
        ),
        (
            {"NCLOUD_ACCESS_KEY_ID": "ÄK", "NCLOUD_SECRET_KEY": "sk"},
            "environment: NCLOUD_ACCESS_KEY_ID has a non-ASCII character (U+00C4) "
            "at character 1",
        ),
        (
            {"NCLOUD_ACCESS_KEY": "AK", "NCLOUD_SECRET_KEY": f"{CANARY_SECRET} "},
            "environment: NCLOUD_SECRET_KEY has a space at character",
        ),
    ],
)
def test_unusable_environment_keys_stop_the_search(
    config_file: Path, environ: dict[str, str], wanted: str
) -> None:
    """A malformed key in the environment is an error naming the variable."""
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(environ=environ, config_path=config_file)

    message = str(caught.value)
    assert wanted in message
    assert message.startswith("no usable NCP credentials: explicit arguments: not ")
    assert message.endswith("[DEFAULT]: not consulted, the environment sets keys")
    assert CANARY_SECRET not in every_text_of(caught.value)


def test_unusable_file_keys_are_named_with_their_option(tmp_path: Path) -> None:
    """A malformed key in the file is named by its option and profile."""
    path = tmp_path / "configure"
    path.write_text(
        "[prod]\nncloud_access_key_id = AK\n"
        f"ncloud_secret_access_key = {CANARY_SECRET}\u00e9\n",
        encoding="utf-8",
    )

    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(profile="prod", environ={}, config_path=path)

    assert str(caught.value).endswith(
        f"{path} [prod]: ncloud_secret_access_key has a non-ASCII character at "
        "character "
        f"{len(CANARY_SECRET) + 1}; NCP keys are printable ASCII without spaces"
    )
    assert CANARY_SECRET not in every_text_of(caught.value)


def test_unusable_explicit_keys_are_named(config_file: Path) -> None:
    """Malformed explicit arguments are refused, not replaced from elsewhere."""
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(
            "AK\t", CANARY_SECRET, environ=FULL_ENV, config_path=config_file
        )

    assert str(caught.value) == (
        "no usable NCP credentials: explicit arguments: access_key has whitespace "
        "(U+0009) at character 3; NCP keys are printable ASCII without spaces"
    )


def test_client_from_a_non_ascii_environment_key_fails_as_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client built from the process environment refuses the key before sending."""
    for name in ("NCLOUD_ACCESS_KEY", "NCLOUD_SECRET_KEY", "NCLOUD_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NCLOUD_ACCESS_KEY_ID", "키")
    monkeypatch.setenv("NCLOUD_SECRET_ACCESS_KEY", CANARY_SECRET)
    sent: list[httpx.Request] = []

    with pytest.raises(CredentialsError) as caught:
        KmsClient(transport=httpx.MockTransport(sent.append))  # type: ignore[arg-type]

    assert "NCLOUD_ACCESS_KEY_ID has a non-ASCII character (U+D0A4)" in str(
        caught.value
    )
    assert sent == []
