"""The httpx client the async facade sends through: httpx, minus two costs.

``KmsAsyncHttpClient`` is an ``httpx.AsyncClient`` that behaves the same and
does less work per request, where httpx's general path does work a KMS call
never needs:

- a path such as ``/keys/k/versions/3/enable`` is joined to the base URL as
  text and parsed once, where httpx parses the path, joins and parses the
  whole URL again;
- an answer without a ``Set-Cookie`` header skips httpx's cookie extraction,
  which wraps every response and request for ``http.cookiejar`` (building a
  ``urllib`` request and an ``email`` message) only to find no cookie.
  Answers that set cookies are stored as before.

Measured with ``benchmarks/bulk_throughput.py`` (see ``benchmarks/README.md``).
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["KmsAsyncHttpClient"]

# Headers http.cookiejar reads cookies from (Set-Cookie2 is RFC 2965's).
_COOKIE_HEADERS = ("set-cookie", "set-cookie2")


class _AnswerCookies(httpx.Cookies):
    """httpx's cookie store, looking into an answer only if it sets cookies."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Store the cookies ``response`` sets, if its headers set any."""
        if any(name in response.headers for name in _COOKIE_HEADERS):
            super().extract_cookies(response)


class KmsAsyncHttpClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that builds requests and reads answers faster.

    Takes the arguments of ``httpx.AsyncClient``.
    """

    def __init__(self, *, cookies: Any = None, **options: Any) -> None:
        super().__init__(**options)
        self.cookies = cookies

    # httpx reads and replaces a client's cookies through this property only,
    # so overriding it is enough to keep them in an _AnswerCookies.

    @property
    def cookies(self) -> httpx.Cookies:
        """The client's cookies, kept in an ``_AnswerCookies``."""
        return self._answer_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._answer_cookies = _AnswerCookies(cookies)

    def build_request(
        self, method: str, url: httpx.URL | str, **options: Any
    ) -> httpx.Request:
        """httpx's request, with a plain path joined to the base URL as text."""
        base_url = self.base_url
        if isinstance(url, str) and base_url.is_absolute_url and _is_plain_path(url):
            url = httpx.URL(f"{base_url}{url[1:]}")
        return super().build_request(method, url, **options)


def _is_plain_path(url: str) -> bool:
    """True for ``/a/b?c``: one leading slash, no fragment.

    Joined as text to the base URL (which httpx ends with ``/``), such a path
    parses to the URL httpx's own merge gives; anything else is left to httpx.
    """
    return url.startswith("/") and not url.startswith("//") and "#" not in url
