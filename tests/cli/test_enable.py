"""``kms-toolkit enable`` end to end: the installed command against a loopback NCP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from kms_toolkit.cli import main
from tests.conftest import ACCESS_KEY, CANARY_SECRET, FakeNcp, expected_signature

COMMAND = str(Path(sys.executable).parent / "kms-toolkit")


def run_cli(
    *args: str, home: Path, secret: str | None = CANARY_SECRET
) -> subprocess.CompletedProcess[str]:
    """Run the installed command with credentials in the environment only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCLOUD_")}
    env["HOME"] = str(home)
    if secret is not None:
        env["NCLOUD_ACCESS_KEY_ID"] = ACCESS_KEY
        env["NCLOUD_SECRET_ACCESS_KEY"] = secret
    return subprocess.run(
        [COMMAND, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_enable_prints_one_json_object(fake_ncp: FakeNcp, tmp_path: Path) -> None:
    """A signed, accepted enable exits 0 and prints the result as JSON."""
    result = run_cli(
        "enable", "cli-key", "3", "--endpoint", fake_ncp.base_url, home=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "key_tag": "cli-key",
        "version": 3,
        "status": "ENABLE",
        "status_date": "2024-12-06T04:49:01.703000+00:00",
        "status_date_ms": 1733460541703,
    }
    assert len(result.stdout.strip().splitlines()) == 1
    assert [(s.method, s.target) for s in fake_ncp.seen] == [
        ("POST", "/kms/v1/keys/cli-key/versions/3/enable")
    ]
    assert fake_ncp.seen[0].signature_ok


@pytest.mark.parametrize(
    ("key_tag", "version", "wanted"),
    [
        ("cli-key", "abc", "VERSION must be an integer from 1 to 100, not 'abc'"),
        ("cli-key", "1_0", "VERSION must be an integer from 1 to 100, not '1_0'"),
        ("cli-key", "\u0663", "VERSION must be an integer from 1 to 100, not '\u0663'"),
        ("cli-key", "0", "key version 0 is out of range"),
        ("cli-key", "101", "key version 101 is out of range"),
        ("bad/tag", "1", "contains '/'"),
    ],
)
def test_bad_input_exits_2_before_any_request(
    fake_ncp: FakeNcp, tmp_path: Path, key_tag: str, version: str, wanted: str
) -> None:
    """A bad tag or version exits 2 with the reason, and nothing reaches the server."""
    result = run_cli(
        "enable", key_tag, version, "--endpoint", fake_ncp.base_url, home=tmp_path
    )

    assert result.returncode == 2
    assert wanted in result.stderr
    assert result.stdout == ""
    assert fake_ncp.seen == []


def test_wrong_secret_exits_3(fake_ncp: FakeNcp, tmp_path: Path) -> None:
    """The server's own check refuses a bad signature with 401/200: exit 3."""
    result = run_cli(
        "enable",
        "cli-key",
        "1",
        "--endpoint",
        fake_ncp.base_url,
        home=tmp_path,
        secret="not-the-right-secret",
    )

    assert result.returncode == 3
    assert "HTTP 401 errorCode 200: Authentication Failed" in result.stderr
    assert fake_ncp.seen[0].signature_ok is False


def test_missing_credentials_exit_3_without_a_request(
    fake_ncp: FakeNcp, tmp_path: Path
) -> None:
    """No credentials anywhere exits 3 naming where it looked."""
    result = run_cli(
        "enable",
        "cli-key",
        "1",
        "--endpoint",
        fake_ncp.base_url,
        home=tmp_path,
        secret=None,
    )

    assert result.returncode == 3
    assert "explicit arguments: not given" in result.stderr
    assert "~/.ncloud/configure [DEFAULT]: file not found" in result.stderr
    assert fake_ncp.seen == []


def test_not_found_exits_4(fake_ncp: FakeNcp, tmp_path: Path) -> None:
    """A 404/300 from the gateway exits 4."""
    body = {"error": {"errorCode": "300", "message": "Not Found Exception"}}
    fake_ncp.answer = (404, body)

    result = run_cli(
        "enable", "cli-key", "9", "--endpoint", fake_ncp.base_url, home=tmp_path
    )

    assert result.returncode == 4
    assert "enableKeyVersion: HTTP 404 errorCode 300" in result.stderr


def test_endpoint_error_exits_1(fake_ncp: FakeNcp, tmp_path: Path) -> None:
    """A 503/500 from the gateway exits 1 with one line on stderr."""
    fake_ncp.answer = (
        503,
        {"error": {"errorCode": "500", "message": "Endpoint Error"}},
    )

    result = run_cli(
        "enable", "cli-key", "2", "--endpoint", fake_ncp.base_url, home=tmp_path
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "kms-toolkit: error: enableKeyVersion: HTTP 503 errorCode 500: Endpoint Error"
    ]
    assert result.stdout == ""


def test_secret_never_reaches_the_output(fake_ncp: FakeNcp, tmp_path: Path) -> None:
    """Neither success nor failure output shows the secret."""
    ok = run_cli(
        "enable", "cli-key", "1", "--endpoint", fake_ncp.base_url, home=tmp_path
    )
    fake_ncp.answer = (401, {"error": {"errorCode": "200", "message": "x"}})
    failed = run_cli(
        "enable", "cli-key", "1", "--endpoint", fake_ncp.base_url, home=tmp_path
    )

    for result in (ok, failed):
        assert CANARY_SECRET not in result.stdout + result.stderr


def test_plain_http_to_a_remote_host_exits_2(tmp_path: Path) -> None:
    """An endpoint that would send signed requests unencrypted is refused."""
    result = run_cli(
        "enable",
        "cli-key",
        "1",
        "--endpoint",
        "http://example.com/kms/v1",
        home=tmp_path,
    )

    assert result.returncode == 2
    assert "plain http to a non-loopback host" in result.stderr


def test_site_and_endpoint_are_mutually_exclusive(tmp_path: Path) -> None:
    """--site and --endpoint together are a usage error (exit 2)."""
    result = run_cli(
        "enable",
        "k",
        "1",
        "--site",
        "kr",
        "--endpoint",
        "https://h/kms/v1",
        home=tmp_path,
    )

    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr


def test_help_describes_the_command(tmp_path: Path) -> None:
    """--help exits 0 and shows the arguments, options and exit statuses."""
    result = run_cli("enable", "--help", home=tmp_path)

    assert result.returncode == 0
    for text in (
        "KEY_TAG",
        "VERSION",
        "--endpoint",
        "--site",
        "--profile",
        "exit status",
    ):
        assert text in result.stdout
    assert "--secret" not in result.stdout


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [(403, "230", "Forbidden"), (401, "210", "Permission Denied")],
)
def test_permission_denied_exits_3(
    fake_ncp: FakeNcp, tmp_path: Path, status: int, code: str, message: str
) -> None:
    """Valid credentials without the permission (403/230, 401/210) exit 3."""
    fake_ncp.answer = (status, {"error": {"errorCode": code, "message": message}})

    result = run_cli(
        "enable", "cli-key", "1", "--endpoint", fake_ncp.base_url, home=tmp_path
    )

    assert result.returncode == 3
    assert result.stderr.strip() == (
        f"kms-toolkit: error: enableKeyVersion: HTTP {status} errorCode {code}: "
        f"{message}"
    )
    assert fake_ncp.seen[0].signature_ok


def test_profile_reads_the_configure_file_under_home(
    fake_ncp: FakeNcp, tmp_path: Path
) -> None:
    """--profile signs with that profile of $HOME/.ncloud/configure, not the env."""
    (tmp_path / ".ncloud").mkdir()
    (tmp_path / ".ncloud" / "configure").write_text(
        "[DEFAULT]\nncloud_access_key_id = OTHERKEY\n"
        "ncloud_secret_access_key = other-secret\n\n"
        f"[prod]\nncloud_access_key_id = {ACCESS_KEY}\n"
        f"ncloud_secret_access_key = {CANARY_SECRET}\n",
        encoding="utf-8",
    )

    result = run_cli(
        "enable",
        "cli-key",
        "5",
        "--endpoint",
        fake_ncp.base_url,
        "--profile",
        "prod",
        home=tmp_path,
        secret="the-environment-secret-is-wrong",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["version"] == 5
    assert [s.signature_ok for s in fake_ncp.seen] == [True]
    assert CANARY_SECRET not in result.stdout + result.stderr


def test_unknown_profile_exits_3_naming_the_file(tmp_path: Path) -> None:
    """A --profile the file lacks exits 3 before anything is sent."""
    (tmp_path / ".ncloud").mkdir()
    (tmp_path / ".ncloud" / "configure").write_text(
        "[DEFAULT]\nncloud_access_key_id = AK\nncloud_secret_access_key = sk\n",
        encoding="utf-8",
    )

    result = run_cli(
        "enable",
        "cli-key",
        "1",
        "--endpoint",
        "http://127.0.0.1:9/kms/v1",
        "--profile",
        "prod",
        home=tmp_path,
    )

    assert result.returncode == 3
    assert "~/.ncloud/configure [prod]: no such profile" in result.stderr


SITE_URLS = {
    "public": "https://ocapi.ncloud.com/kms/v1",
    "kr": "https://ocapi-kr.ncloud.com/kms/v1",
    "jp": "https://ocapi-jp.ncloud.com/kms/v1",
    "gov": "https://ocapi.gov-ncloud.com/kms/v1",
}


@pytest.mark.parametrize("site", [None, *SITE_URLS])
def test_site_chooses_the_base_url_without_leaving_the_machine(
    site: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--site picks the documented base URL (public by default).

    The command runs in-process with httpx's network transports replaced, so
    the request is caught before it could reach a real NCP host.
    """
    sent: list[httpx.Request] = []

    def answer(transport: object, request: httpx.Request) -> httpx.Response:
        sent.append(request)
        data = {"version": 1, "status": "ENABLE", "statusDate": 1733460541703}
        return httpx.Response(200, json={"code": "SUCCESS", "data": data})

    async def refuse(transport: object, request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"a real async request to {request.url} was attempted")

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", answer)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", refuse)
    for name in ("NCLOUD_ACCESS_KEY", "NCLOUD_SECRET_KEY", "NCLOUD_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NCLOUD_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("NCLOUD_SECRET_ACCESS_KEY", CANARY_SECRET)

    status = main(["enable", "cli-key", "1", *(["--site", site] if site else [])])

    assert status == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["status"] == "ENABLE"
    assert [str(r.url) for r in sent] == [
        f"{SITE_URLS[site or 'public']}/keys/cli-key/versions/1/enable"
    ]
    request = sent[0]
    assert request.headers["x-ncp-apigw-signature-v2"] == expected_signature(
        CANARY_SECRET,
        "POST",
        request.url.raw_path.decode(),
        request.headers["x-ncp-apigw-timestamp"],
        ACCESS_KEY,
    )


@pytest.mark.parametrize(
    ("endpoint", "wanted"),
    [
        ("http://loc\talhost/kms/v1", "contains whitespace or control characters"),
        ("http://127.0.0.1:99999/kms/v1", "has port 99999"),
    ],
)
def test_unusable_endpoint_exits_2_without_a_traceback(
    tmp_path: Path, endpoint: str, wanted: str
) -> None:
    """An endpoint httpx would reject or re-read is bad input, reported in one line."""
    result = run_cli("enable", "cli-key", "1", "--endpoint", endpoint, home=tmp_path)

    assert result.returncode == 2
    assert wanted in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unusable_environment_key_exits_3_without_a_traceback(
    fake_ncp: FakeNcp, tmp_path: Path
) -> None:
    """A non-ASCII access key in the environment is refused before sending."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCLOUD_")}
    env |= {
        "HOME": str(tmp_path),
        "NCLOUD_ACCESS_KEY_ID": "AKé",
        "NCLOUD_SECRET_ACCESS_KEY": CANARY_SECRET,
    }

    result = subprocess.run(
        [COMMAND, "enable", "cli-key", "1", "--endpoint", fake_ncp.base_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 3
    assert "NCLOUD_ACCESS_KEY_ID has a non-ASCII character (U+00E9)" in result.stderr
    assert "Traceback" not in result.stderr
    assert CANARY_SECRET not in result.stderr
    assert fake_ncp.seen == []
