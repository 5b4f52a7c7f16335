"""The default async transport: aiohttp underneath, httpx's answers on top."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kms_toolkit.transport import AiohttpTransport
from tests.conftest import FakeNcp


async def test_targets_reach_the_server_as_httpx_encoded_them(
    fake_ncp: FakeNcp,
) -> None:
    """Escapes yarl would normalise (%7E, %2C in a query) go out unchanged."""
    targets = ["/kms/v1/keys/a%7Eb", "/kms/v1/keys?q=a%2Cb", "/kms/v1/keys/a%2Fb"]
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        origin = fake_ncp.base_url.removesuffix("/kms/v1")
        for target in targets:
            await client.get(origin + target)

    assert [seen.target for seen in fake_ncp.seen] == targets


async def test_answer_is_httpx_response_with_its_body(fake_ncp: FakeNcp) -> None:
    """Status, headers, reason and body arrive as an ordinary httpx response."""
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        response = await client.post(fake_ncp.base_url + "/keys", content=b"{}")

    assert response.status_code == 401  # the fake gateway wants a signature
    assert response.reason_phrase == "Unauthorized"
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["errorCode"] == "200"
    assert response.elapsed.total_seconds() >= 0


async def _chunks() -> AsyncIterator[bytes]:
    yield b'{"a":'
    yield b"1}"


@pytest.mark.parametrize("streamed", [False, True], ids=["bytes", "stream"])
async def test_request_body_arrives_whole(streamed: bool) -> None:
    """A body httpx holds as bytes, or has not read yet, reaches the server."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app = web.Application()
    app.router.add_post("/echo", echo)
    content = _chunks() if streamed else b'{"a":1}'
    async with (
        TestServer(app, host="127.0.0.1") as server,
        httpx.AsyncClient(transport=AiohttpTransport()) as client,
    ):
        response = await client.post(str(server.make_url("/echo")), content=content)

    assert response.status_code == 200
    assert response.content == b'{"a":1}'


async def test_refused_connection_is_an_httpx_error_from_aiohttp() -> None:
    """aiohttp's errors come out mapped as httpx_aiohttp maps them."""
    import aiohttp

    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        with pytest.raises(httpx.TransportError) as caught:
            await client.get("http://127.0.0.1:9/kms/v1/keys")

    assert isinstance(caught.value.__cause__, aiohttp.ClientError)
