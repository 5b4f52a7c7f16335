"""Where credentials come from, and proof that the secret never leaks."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import httpx
import pytest

from kms_toolkit.auth import SignatureV2
from kms_toolkit.client import AsyncKmsClient, KmsClient
from kms_toolkit.credentials import Credentials, resolve_credentials
from kms_toolkit.errors import CredentialsError, KmsToolkitError
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


def test_nothing_anywhere_names_every_place_looked_in(tmp_path: Path) -> None:
    """No env keys and no file: one error naming both places."""
    missing = tmp_path / "nowhere" / "configure"

    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(environ={}, config_path=missing)

    message = str(caught.value)
    assert "environment: none of NCLOUD_ACCESS_KEY_ID" in message
    assert f"{missing}: file not found" in message


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
    """A parse error points at the line number and never quotes the secret."""
    path = tmp_path / "configure"
    path.write_text(f"[DEFAULT]\nncloud_access_key_id = AK\n{CANARY_SECRET}\n")

    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(environ={}, config_path=path)

    assert "not a valid INI file at line 3" in str(caught.value)
    assert CANARY_SECRET not in "".join(traceback.format_exception(caught.value))


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
    """The formatted traceback of an error, its chain and its attributes."""
    text = "".join(traceback.format_exception(error))
    return text + repr(vars(error)) + repr(error.args)


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
