"""The default async transport: httpx_aiohttp's, with less work per request.

``AiohttpTransport`` keeps everything of ``httpx_aiohttp.AiohttpTransport``
(its connection pool, its error mapping) and changes how one request is sent:

- the URL goes to aiohttp already parsed and marked as encoded, so yarl
  neither parses it from text again nor re-quotes it: the request target on
  the wire is exactly the one ``SignatureV2`` signed;
- one ``aiohttp.ClientTimeout`` serves every request with the same timeouts,
  instead of a new one per request;
- the body is read before the response is handed to httpx: KMS answers are
  small, and httpx would read it at once anyway (the toolkit never streams).
  httpx then reads it from memory instead of through aiohttp's stream, and
  the aiohttp response is released at once, not when the garbage collector
  finds the httpx response's reference cycle.

Measured with ``benchmarks/bulk_throughput.py`` (see ``benchmarks/README.md``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import aiohttp
import httpx
import yarl
from httpx_aiohttp import AiohttpTransport as _HttpxAiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions

__all__ = ["AiohttpTransport"]


class AiohttpTransport(_HttpxAiohttpTransport):
    """An httpx transport over one aiohttp session, built for many small calls.

    Requests through a proxy or a Unix socket take httpx_aiohttp's own path.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through aiohttp and answer with its body read."""
        if self.proxy is not None or self.uds is not None:
            return await super().handle_async_request(request)
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()

        with map_aiohttp_exceptions():
            async with self.client.request(
                request.method,
                _aiohttp_url(request.url),
                headers=request.headers,
                data=_body(request),
                allow_redirects=False,
                auto_decompress=False,
                compress=False,
                timeout=_client_timeout(**request.extensions.get("timeout", {})),
                server_hostname=request.extensions.get("sni_hostname"),
            ) as answer:
                body = await answer.read()
        return _httpx_response(request, answer, body)


def _aiohttp_url(url: httpx.URL) -> yarl.URL:
    """``url`` for aiohttp, as encoded as httpx made it: nothing is re-quoted."""
    return yarl.URL(str(url), encoded=True)


def _body(request: httpx.Request) -> bytes | httpx.AsyncByteStream | None:
    """The request body for aiohttp: bytes if httpx holds them, else the stream."""
    try:
        content = request.content
    except httpx.RequestNotRead:
        request.headers.pop("transfer-encoding", None)  # aiohttp frames the stream
        return request.stream  # type: ignore[return-value]
    return content or None


@lru_cache(maxsize=32)
def _client_timeout(
    connect: float | None = None,
    read: float | None = None,
    pool: float | None = None,
    **_: float | None,
) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for httpx's, mapped as httpx_aiohttp maps them.

    ``ClientTimeout`` is immutable, so one per set of timeouts is enough.
    httpx's write timeout has no aiohttp counterpart and is left out.
    """
    return aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)


def _httpx_response(
    request: httpx.Request, answer: aiohttp.ClientResponse, body: bytes
) -> httpx.Response:
    """The httpx response for an aiohttp answer whose body is read."""
    extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
    if answer.reason:
        extensions["reason_phrase"] = answer.reason.encode()
    return httpx.Response(
        status_code=answer.status,
        headers=answer.raw_headers,
        stream=httpx.ByteStream(body),
        request=request,
        extensions=extensions,
    )
