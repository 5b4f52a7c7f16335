"""The facade's httpx client: the same URLs and cookies as httpx, less work."""

from __future__ import annotations

import httpx
import pytest

from kms_toolkit.http_client import KmsAsyncHttpClient

BASE_URL = "http://127.0.0.1:8080/kms/v1"


@pytest.mark.parametrize(
    "url",
    [
        "/keys/key-a/versions/3/enable",
        "/keys?pageNo=2&pageSize=50",
        "/keys/a%2Fb/versions",
        "/keys/a%7eb",
        "/keys/a b/ä",
        "/keys/./x/../y",
        "/keys?q=a b&r=%2C,",
        "/keys#fragment",
        "//elsewhere.example/keys",
        "keys/relative",
        "https://elsewhere.example/keys",
        httpx.URL("/keys/from-a-url"),
    ],
)
async def test_requests_go_to_the_url_httpx_builds(url: str | httpx.URL) -> None:
    """Joining a path as text gives the very URL httpx's own merge gives."""
    async with (
        KmsAsyncHttpClient(base_url=BASE_URL) as ours,
        httpx.AsyncClient(base_url=BASE_URL) as plain,
    ):
        built = ours.build_request("POST", url, params={"extra": "1"})
        wanted = plain.build_request("POST", url, params={"extra": "1"})

    assert built.url == wanted.url
    assert built.url.raw_path == wanted.url.raw_path
    assert built.headers == wanted.headers


async def test_without_a_base_url_paths_are_left_to_httpx() -> None:
    """With no base URL the request is built exactly as httpx builds it."""
    async with KmsAsyncHttpClient() as ours, httpx.AsyncClient() as plain:
        built = ours.build_request("GET", "/keys")
        wanted = plain.build_request("GET", "/keys")

    assert built.url == wanted.url


async def test_cookies_an_answer_sets_are_sent_back() -> None:
    """An answer's Set-Cookie is stored and sent with the next request."""
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, headers={"Set-Cookie": "route=b; Path=/"})

    transport = httpx.MockTransport(answer)
    async with KmsAsyncHttpClient(base_url=BASE_URL, transport=transport) as client:
        await client.get("/keys")
        await client.get("/keys")

    assert seen == [None, "route=b"]
    assert client.cookies["route"] == "b"


async def test_answers_without_cookies_leave_the_jar_empty() -> None:
    """An answer that sets no cookie adds none, and no Cookie header is sent."""
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json={"code": "SUCCESS"})

    transport = httpx.MockTransport(answer)
    async with KmsAsyncHttpClient(base_url=BASE_URL, transport=transport) as client:
        await client.get("/keys")
        await client.get("/keys")

    assert seen == [None, None]
    assert not client.cookies


async def test_cookies_given_to_the_client_are_sent() -> None:
    """Cookies passed at construction or set later go out like httpx's."""
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200)

    transport = httpx.MockTransport(answer)
    async with KmsAsyncHttpClient(
        base_url=BASE_URL, transport=transport, cookies={"a": "1"}
    ) as client:
        await client.get("/keys")
        client.cookies = {"b": "2"}
        await client.get("/keys")

    assert seen == ["a=1", "b=2"]
