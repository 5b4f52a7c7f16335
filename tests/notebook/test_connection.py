"""connect(): the real NCP when configured, else a local emulator; never a secret."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kms_toolkit.emulator import serve
from kms_toolkit.errors import CredentialsError
from kms_toolkit.notebook import connect

SECRET = "canary-secret-9f3e1c"


def test_without_credentials_it_starts_the_demo_emulator(tmp_path: Path) -> None:
    """Nothing configured: a demo emulator is started and announced."""
    lines: list[str] = []
    connection = connect(
        environ={}, config_path=tmp_path / "none", announce=lines.append
    )
    try:
        page = connection.client.list_keys()
        assert page.total_count == len(connection.emulator.state)
        assert connection.emulator.running
    finally:
        emulator = connection.emulator
        asyncio.run(connection.aclose())
    assert not emulator.running
    assert connection.emulator is None
    assert lines == [connection.description]
    assert lines[0].startswith("Using a local KMS emulator at http://127.0.0.1:")
    assert "demo data set" in lines[0]


def test_endpoint_variable_points_at_a_running_emulator(tmp_path: Path) -> None:
    """KMS_TOOLKIT_ENDPOINT and the environment's key pair reach that endpoint."""
    with serve(dataset="demo") as emulator:
        environ = {
            "KMS_TOOLKIT_ENDPOINT": emulator.url,
            "NCLOUD_ACCESS_KEY_ID": emulator.credentials.access_key,
            "NCLOUD_SECRET_ACCESS_KEY": emulator.credentials.secret_key,
        }
        lines: list[str] = []
        connection = connect(
            environ=environ, config_path=tmp_path / "none", announce=lines.append
        )
        try:
            keys = list(connection.client.iter_keys())
        finally:
            asyncio.run(connection.aclose())
        secret = emulator.credentials.secret_key
    assert len(keys) == len(emulator.state)
    assert connection.emulator is None
    assert lines[0].startswith(
        f"Using the KMS endpoint in KMS_TOOLKIT_ENDPOINT: {emulator.url}"
    )
    assert secret not in lines[0]


def test_endpoint_variable_honours_a_profile_named_in_the_call(
    tmp_path: Path,
) -> None:
    """With KMS_TOOLKIT_ENDPOINT, connect(profile=...) signs with that profile."""
    config = tmp_path / "configure"
    with serve(dataset="demo") as emulator:
        config.write_text(
            "[emulator]\n"
            f"ncloud_access_key_id = {emulator.credentials.access_key}\n"
            f"ncloud_secret_access_key = {emulator.credentials.secret_key}\n",
            encoding="utf-8",
        )
        environ = {
            "KMS_TOOLKIT_ENDPOINT": emulator.url,
            "NCLOUD_ACCESS_KEY_ID": "AKWRONG",
            "NCLOUD_SECRET_ACCESS_KEY": SECRET,
        }
        connection = connect(
            profile="emulator",
            environ=environ,
            config_path=config,
            announce=lambda _: None,
        )
        try:
            total = connection.client.list_keys().total_count
        finally:
            asyncio.run(connection.aclose())
    assert total == len(emulator.state)
    assert f"from {config} [emulator]" in connection.description


def test_endpoint_variable_with_an_unknown_profile_names_it(tmp_path: Path) -> None:
    """A profile named in the call but absent from the file is an error."""
    config = tmp_path / "configure"
    config.write_text(
        f"[DEFAULT]\nncloud_access_key_id = AK\nncloud_secret_access_key = {SECRET}\n",
        encoding="utf-8",
    )
    with pytest.raises(CredentialsError, match=r"\[staging\]: no such profile"):
        connect(
            profile="staging",
            environ={"KMS_TOOLKIT_ENDPOINT": "http://127.0.0.1:9/kms/v1"},
            config_path=config,
            announce=lambda _: None,
        )


def test_environment_credentials_choose_real_ncp_without_showing_the_secret(
    tmp_path: Path,
) -> None:
    """NCLOUD_* variables select NCP's public site; the secret never shows."""
    environ = {
        "NCLOUD_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "NCLOUD_SECRET_ACCESS_KEY": SECRET,
    }
    lines: list[str] = []
    connection = connect(
        environ=environ, config_path=tmp_path / "none", announce=lines.append
    )
    try:
        shown = [lines[0], repr(connection), connection._repr_html_()]
    finally:
        asyncio.run(connection.aclose())
    assert lines[0].startswith("Using NCP KMS at https://ocapi.ncloud.com/kms/v1")
    assert "AKID…" in lines[0]
    assert "AKIDEXAMPLE" not in lines[0]
    assert all(SECRET not in text for text in shown)


def test_configure_file_chooses_real_ncp_for_its_site(tmp_path: Path) -> None:
    """A ~/.ncloud/configure profile selects NCP, at the site asked for."""
    config = tmp_path / "configure"
    config.write_text(
        "[DEFAULT]\nncloud_access_key_id = AKFILE1\n"
        f"ncloud_secret_access_key = {SECRET}\n",
        encoding="utf-8",
    )
    connection = connect(
        site="kr", environ={}, config_path=config, announce=lambda _: None
    )
    asyncio.run(connection.aclose())
    assert connection.description.startswith(
        "Using NCP KMS at https://ocapi-kr.ncloud.com/kms/v1"
    )
    assert SECRET not in connection.description


def test_half_a_key_pair_fails_instead_of_falling_back(tmp_path: Path) -> None:
    """An access key without its secret is an error, not a silent emulator."""
    with pytest.raises(CredentialsError, match="NCLOUD_ACCESS_KEY_ID is set but"):
        connect(
            environ={"NCLOUD_ACCESS_KEY_ID": "AK"},
            config_path=tmp_path / "none",
            announce=lambda _: None,
        )


def test_endpoint_without_credentials_names_what_is_missing(tmp_path: Path) -> None:
    """KMS_TOOLKIT_ENDPOINT alone says which credentials were looked for."""
    with pytest.raises(CredentialsError, match="none of NCLOUD_ACCESS_KEY_ID"):
        connect(
            environ={"KMS_TOOLKIT_ENDPOINT": "http://127.0.0.1:9/kms/v1"},
            config_path=tmp_path / "none",
            announce=lambda _: None,
        )
