"""The KMS client facade: validated, signed, typed calls, sync and async.

``KmsClient`` and ``AsyncKmsClient`` wrap the operations of the generated
client (``generated_client``): they check arguments before anything is sent,
sign every request with ``SignatureV2``, turn every failure into an error of
``kms_toolkit.errors`` and return the typed results of ``kms_toolkit.models``.

Example:
    >>> with KmsClient(site="public") as kms:  # doctest: +SKIP
    ...     kms.enable_key_version("my-key-tag", 3).status
    <KeyVersionStatus.ENABLE: 'ENABLE'>
"""

from __future__ import annotations

import ipaddress
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType, TracebackType
from typing import Any, Final, Generic, Self, TypeVar

import httpx

from generated_client import models as generated
from generated_client.api.key_versions import (
    disable_key_version,
    enable_key_version,
    get_key_version_list,
)
from generated_client.api.keys import get_key_info, get_key_list
from generated_client.client import Client as GeneratedClient
from generated_client.types import Response, Unset
from kms_toolkit.auth import SignatureV2, same_origin
from kms_toolkit.credentials import Credentials, resolve_credentials
from kms_toolkit.errors import (
    ApiError,
    InvalidInputError,
    MalformedResponseError,
    RequestTimeoutError,
    TransportError,
    UnsuccessfulResponseError,
    api_error_from_response,
    parse_http_date,
)
from kms_toolkit.http_client import KmsAsyncHttpClient
from kms_toolkit.models import (
    KeyInfo,
    KeyPage,
    KeyStatus,
    KeySummary,
    KeyVersion,
    KeyVersionChange,
    KeyVersionList,
    KeyVersionStatus,
    datetime_from_epoch_ms,
)
from kms_toolkit.validation import validate_key_tag, validate_version

__all__ = [
    "MAX_PAGE_SIZE",
    "SITES",
    "AsyncKmsClient",
    "KmsClient",
    "resolve_base_url",
]

logger = logging.getLogger(__name__)

SITES: Final[dict[str, str]] = {
    "public": "https://ocapi.ncloud.com/kms/v1",
    "kr": "https://ocapi-kr.ncloud.com/kms/v1",
    "jp": "https://ocapi-jp.ncloud.com/kms/v1",
    "gov": "https://ocapi.gov-ncloud.com/kms/v1",
}
MAX_PAGE_SIZE: Final = 200
_MAX_PORT: Final = 65_535
_MAX_REDIRECTS: Final = 5
SUCCESS: Final = "SUCCESS"

ResultT = TypeVar("ResultT")

# What the generated parsers raise on a body that is not the documented JSON:
# they index dicts (KeyError), build enums and HTTPStatus (ValueError, which
# JSONDecodeError also is) and call dict() on whatever arrived (TypeError).
_PARSE_ERRORS: Final = (KeyError, ValueError, TypeError, AttributeError)
# Converting adds dates, which fail on absurd values with these two.
_CONVERT_ERRORS: Final = (*_PARSE_ERRORS, OverflowError, OSError)

# The generated operations parse the answer inside the call, so when parsing
# fails their exception carries no response. A response hook keeps the last
# response here; a context variable keeps concurrent tasks and threads apart.
_last_response: ContextVar[httpx.Response | None] = ContextVar(
    "kms_last_response", default=None
)


def resolve_base_url(site: str = "public", endpoint: str | None = None) -> str:
    """The base URL to call: ``endpoint`` if given, else the site's NCP URL.

    An endpoint comes back as httpx reads it (lower-case scheme and host, IDNA
    host, no trailing slash), which is the URL the requests go to. Plain
    ``http://`` is accepted only for loopback hosts (a local emulator), so a
    signed request never crosses a network unencrypted.

    Example:
        >>> resolve_base_url("kr")
        'https://ocapi-kr.ncloud.com/kms/v1'
        >>> resolve_base_url(endpoint="http://127.0.0.1:8080/kms/v1/")
        'http://127.0.0.1:8080/kms/v1'

    Raises:
        InvalidInputError: for an unknown site or an unusable endpoint.
    """
    if endpoint is None:
        if site not in SITES:
            known = ", ".join(SITES)
            raise InvalidInputError(f"unknown site {site!r}; known sites: {known}")
        return SITES[site]
    return _checked_endpoint(endpoint)


def _checked_endpoint(endpoint: object) -> str:
    """``endpoint`` as httpx will send to it, without a trailing slash, if safe."""
    if not isinstance(endpoint, str):
        raise InvalidInputError(
            f"endpoint must be a string, not {type(endpoint).__name__}"
        )
    # httpx refuses some of these and percent-encodes others into the path, so
    # the URL sent would not be the one checked (or not be sent at all).
    bad = [c for c in endpoint if c.isspace() or not c.isprintable()]
    if bad:
        codes = ", ".join(sorted({f"U+{ord(c):04X}" for c in bad}))
        raise InvalidInputError(
            f"endpoint {endpoint[:200]!r} contains whitespace or control "
            f"characters ({codes})"
        )
    # Parsed by httpx, which sends the requests: another parser (urlsplit) can
    # see another host, port or path in the same text.
    try:
        url = httpx.URL(endpoint)
    except httpx.InvalidURL as exc:
        raise InvalidInputError(
            f"endpoint {endpoint!r} is not a valid URL: {exc}"
        ) from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidInputError(
            f"endpoint {endpoint!r} is not an http(s) URL with a host, "
            "for example https://ocapi.ncloud.com/kms/v1"
        )
    if url.port is not None and not 1 <= url.port <= _MAX_PORT:
        raise InvalidInputError(
            f"endpoint {endpoint!r} has port {url.port}; ports run from 1 to "
            f"{_MAX_PORT}"
        )
    # An empty "?" or "#" parses to nothing but would still be sent.
    if url.query or url.fragment or url.userinfo or {"?", "#"} & set(endpoint):
        raise InvalidInputError(
            f"endpoint {endpoint!r} must not carry a query, a fragment or a user"
        )
    if url.scheme == "http" and not _is_loopback(url.host):
        raise InvalidInputError(
            f"endpoint {endpoint!r} uses plain http to a non-loopback host; "
            "use https (plain http is only for a local emulator on loopback)"
        )
    return str(url).rstrip("/")


def _is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _validate_page(page_no: object, page_size: object) -> None:
    """Refuse page numbers below 1 and page sizes outside 1-200."""
    for name, value, upper in (
        ("page_no", page_no, None),
        ("page_size", page_size, MAX_PAGE_SIZE),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInputError(
                f"{name} must be an integer, not {type(value).__name__} {value!r:.40}"
            )
        if value < 1 or (upper is not None and value > upper):
            bounds = f"from 1 to {upper}" if upper else "1 or more"
            raise InvalidInputError(f"{name} {value} is out of range: it runs {bounds}")


@dataclass(frozen=True, slots=True)
class _Call(Generic[ResultT]):
    """One generated operation to call, with its arguments and its converter."""

    operation: str
    method: str
    path: str
    module: ModuleType
    kwargs: Mapping[str, Any]
    expected: type[Any]
    convert: Callable[[Any], ResultT]


# Conversions from the generated models. The generated parsers check presence
# but not types, so each field is checked here; a wrong type is a malformed body.


def _optional(value: object, kind: type[Any], field: str) -> Any:
    """``value`` if it is a ``kind`` (None if absent), else TypeError."""
    if value is None or isinstance(value, Unset):
        return None
    if isinstance(value, bool) and kind is not bool:
        raise TypeError(f"field {field!r} should be {kind.__name__}, not bool")
    if not isinstance(value, kind):
        raise TypeError(
            f"field {field!r} should be {kind.__name__}, not {type(value).__name__}"
        )
    return value


def _required(value: object, kind: type[Any], field: str) -> Any:
    """``value`` if it is a ``kind``; a missing value is a malformed body."""
    checked = _optional(value, kind, field)
    if checked is None:
        raise KeyError(field)
    return checked


def _required_date(value: object, field: str) -> datetime:
    """A UTC datetime from a required epoch-milliseconds field."""
    return datetime.fromtimestamp(_required(value, int, field) / 1000, tz=UTC)


def _key_version_change(
    key_tag: str, version: int, parsed: generated.KeyVersionStatusResponse
) -> KeyVersionChange:
    """The typed answer to enabling or disabling a version."""
    data = parsed.data
    answered = _required(data.version, int, "version")
    if answered != version:
        raise ValueError(f"the answer is for version {answered}, not {version}")
    return KeyVersionChange(
        key_tag=key_tag,
        version=answered,
        status=KeyVersionStatus(data.status.value),
        status_date=_required_date(data.status_date, "statusDate"),
    )


def _key_summary(item: generated.KeySummary) -> KeySummary:
    """One key of the key list."""
    return KeySummary(
        key_tag=_required(item.key_tag, str, "keyTag"),
        status=KeyStatus(item.status.value),
        key_id=_optional(item.key_id, int, "keyId"),
        key_name=_optional(item.key_name, str, "keyName"),
        key_type=_optional(item.key_type, str, "keyType"),
        protection_type=_optional(item.protection_type, str, "protectionType"),
        is_convergent=_optional(item.is_convergent, bool, "isConvergent"),
        register_date=datetime_from_epoch_ms(
            _optional(item.register_date, int, "registerDate")
        ),
        destroy_date=datetime_from_epoch_ms(
            _optional(item.destroy_date, int, "destroyDate")
        ),
    )


def _key_list_items(parsed: generated.KeyListResponse) -> list[generated.KeySummary]:
    """The keys of a list answer: ``keyList`` or ``KeyList``, in or beside data."""
    data = parsed.data
    if not isinstance(data.key_list, Unset):
        return data.key_list
    for holder in (data.additional_properties, parsed.additional_properties):
        for name in ("keyList", "KeyList"):
            raw = holder.get(name)
            if isinstance(raw, list):
                return [generated.KeySummary.from_dict(item) for item in raw]
    raise KeyError("keyList")


def _paging_counter(parsed: generated.KeyListResponse, name: str) -> int | None:
    """A paging counter from inside ``data``, else from beside it."""
    data = parsed.data
    inside: object = {
        "currentPageNo": data.current_page_no,
        "totalPageNo": data.total_page_no,
        "totalCount": data.total_count,
    }[name]
    if isinstance(inside, Unset):
        inside = None
    value = inside if inside is not None else parsed.additional_properties.get(name)
    result: int | None = _optional(value, int, name)
    return result


def _key_page(
    page_no: int, page_size: int, parsed: generated.KeyListResponse
) -> KeyPage:
    """One typed page of the key list, whichever layout NCP answered with."""
    keys = tuple(_key_summary(item) for item in _key_list_items(parsed))
    current = _paging_counter(parsed, "currentPageNo") or page_no
    total_count = _paging_counter(parsed, "totalCount")
    total_pages = _paging_counter(parsed, "totalPageNo")
    if total_pages is None and total_count is not None:
        total_pages = -(-total_count // page_size)
    if total_pages is None or total_count is None:
        # NOTE: NCP documents the counters, but its pages disagree on where
        # they sit; without them a short page is taken as the last one.
        is_last = len(keys) < page_size
        total_pages = current if is_last else current + 1
        total_count = (current - 1) * page_size + len(keys)
    return KeyPage(
        keys=keys, page_no=current, total_pages=total_pages, total_count=total_count
    )


def _key_info(parsed: generated.KeyInfoResponse) -> KeyInfo:
    """One key in full."""
    data = parsed.data
    return KeyInfo(
        key_tag=_required(data.key_tag, str, "keyTag"),
        status=KeyStatus(data.status.value),
        key_id=_optional(data.key_id, int, "keyId"),
        key_name=_optional(data.key_name, str, "keyName"),
        key_type=_optional(data.key_type, str, "keyType"),
        protection_type=_optional(data.protection_type, str, "protectionType"),
        current_version=_optional(data.current_version, int, "currentVersion"),
        keystore_id=_optional(data.keystore_id, str, "keystoreId"),
        nrn=_optional(data.nrn, str, "nrn"),
        register_date=datetime_from_epoch_ms(
            _optional(data.register_date, int, "registerDate")
        ),
    )


def _key_version_list(parsed: generated.KeyVersionListResponse) -> KeyVersionList:
    """All versions of one key."""
    data = parsed.data
    versions = tuple(
        KeyVersion(
            version=_required(item.version, int, "version"),
            status=KeyVersionStatus(item.status.value),
            status_date=datetime_from_epoch_ms(
                _optional(item.status_date, int, "statusDate")
            ),
            rotated_date=datetime_from_epoch_ms(
                _optional(item.rotated_date, int, "rotatedDate")
            ),
        )
        for item in data.version_list
    )
    return KeyVersionList(
        key_tag=_required(data.key_tag, str, "keyTag"),
        current_version=_optional(data.current_version, int, "currentVersion"),
        versions=versions,
    )


def _describe_parse_failure(exc: BaseException) -> str:
    """What was wrong with a body, in words (never more than a short excerpt)."""
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        return "the body is not JSON"
    if isinstance(exc, KeyError):
        return f"the field {exc.args[0]!r} is missing"
    return f"unexpected content ({type(exc).__name__}: {str(exc)[:200]})"


class _KmsClientCore:
    """What the sync and async clients share: set-up, requests to make, answers."""

    def __init__(
        self,
        credentials: Credentials | None,
        *,
        site: str,
        endpoint: str | None,
        profile: str | None,
        timeout: float,
        clock: Callable[[], float],
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise InvalidInputError(f"timeout must be a number of seconds: {timeout!r}")
        if not timeout > 0:
            raise InvalidInputError(f"timeout must be above 0 seconds, not {timeout}")
        self._base_url = resolve_base_url(site, endpoint)
        self._base_path = httpx.URL(self._base_url).raw_path.decode("ascii")
        if credentials is None:
            credentials = resolve_credentials(profile=profile)
        self._credentials = credentials
        self._timeout = float(timeout)
        self._clock = clock
        self._auth = SignatureV2(
            credentials,
            clock=clock,
            follow_redirects=True,
            max_redirects=_MAX_REDIRECTS,
        )
        self._generated = GeneratedClient(base_url=self._base_url)

    @property
    def base_url(self) -> str:
        """The URL every operation path is appended to."""
        return self._base_url

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._base_url!r}, "
            f"credentials={self._credentials!r})"
        )

    # Calls to make. Arguments are validated here, before anything is sent.

    def _enable_call(self, key_tag: str, version: int) -> _Call[KeyVersionChange]:
        return self._version_change_call(
            "enableKeyVersion", enable_key_version, key_tag, version, "enable"
        )

    def _disable_call(self, key_tag: str, version: int) -> _Call[KeyVersionChange]:
        return self._version_change_call(
            "disableKeyVersion", disable_key_version, key_tag, version, "disable"
        )

    def _version_change_call(
        self, operation: str, module: ModuleType, key_tag: str, version: int, verb: str
    ) -> _Call[KeyVersionChange]:
        key_tag, version = validate_key_tag(key_tag), validate_version(version)
        return _Call(
            operation=operation,
            method="POST",
            path=f"/keys/{key_tag}/versions/{version}/{verb}",
            module=module,
            kwargs={"key_tag": key_tag, "version": version},
            expected=generated.KeyVersionStatusResponse,
            convert=lambda parsed: _key_version_change(key_tag, version, parsed),
        )

    def _list_keys_call(self, page_no: int, page_size: int) -> _Call[KeyPage]:
        _validate_page(page_no, page_size)
        return _Call(
            operation="getKeyList",
            method="GET",
            path=f"/keys?pageNo={page_no}&pageSize={page_size}",
            module=get_key_list,
            kwargs={"page_no": page_no, "page_size": page_size},
            expected=generated.KeyListResponse,
            convert=lambda parsed: _key_page(page_no, page_size, parsed),
        )

    def _get_key_call(self, key_tag: str) -> _Call[KeyInfo]:
        key_tag = validate_key_tag(key_tag)
        return _Call(
            operation="getKeyInfo",
            method="GET",
            path=f"/keys/{key_tag}",
            module=get_key_info,
            kwargs={"key_tag": key_tag},
            expected=generated.KeyInfoResponse,
            convert=_key_info,
        )

    def _list_versions_call(self, key_tag: str) -> _Call[KeyVersionList]:
        key_tag = validate_key_tag(key_tag)
        return _Call(
            operation="getKeyVersionList",
            method="GET",
            path=f"/keys/{key_tag}/versions",
            module=get_key_version_list,
            kwargs={"key_tag": key_tag},
            expected=generated.KeyVersionListResponse,
            convert=_key_version_list,
        )

    # Answers: a typed result, or the error the answer amounts to.

    def _result(self, call: _Call[ResultT], response: Response[Any]) -> ResultT:
        """The typed result of a parsed answer, or raise the error it amounts to."""
        status = int(response.status_code)
        if not 200 <= status < 300:
            raise self._api_error(call, status, response.content, response.headers)
        parsed = response.parsed
        if not isinstance(parsed, call.expected):
            raise self._body_error(call, status, response.content, "undocumented 2xx")
        if parsed.code != SUCCESS:
            raise self._body_error(call, status, response.content, "")
        try:
            return call.convert(parsed)
        except _CONVERT_ERRORS as exc:
            problem = _describe_parse_failure(exc)
            raise self._body_error(call, status, response.content, problem) from exc

    def _unparsable_error(
        self, call: _Call[Any], raw: httpx.Response, exc: Exception
    ) -> ApiError:
        """The error for an answer the generated parser choked on."""
        if not 200 <= raw.status_code < 300:
            return self._api_error(call, raw.status_code, raw.content, raw.headers)
        problem = _describe_parse_failure(exc)
        return self._body_error(call, raw.status_code, raw.content, problem)

    def _api_error(
        self,
        call: _Call[Any],
        status: int,
        body: bytes,
        headers: Mapping[str, str],
    ) -> ApiError:
        refused = self._redirect_error(call, status, body, headers)
        if refused is not None:
            return refused
        return api_error_from_response(
            status_code=status,
            body=body,
            headers=headers,
            operation=call.operation,
            clock_skew_seconds=self._clock_skew_seconds(headers),
        )

    def _redirect_error(
        self,
        call: _Call[Any],
        status: int,
        body: bytes,
        headers: Mapping[str, str],
    ) -> ApiError | None:
        """The error for a redirect the signer did not follow, naming it."""
        raw = _last_response.get()
        next_hop = raw.next_request if raw is not None else None
        if raw is None or next_hop is None or raw.status_code != status:
            return None
        if same_origin(next_hop.url, raw.request.url):
            why = f"{_MAX_REDIRECTS} redirects in a row were already followed"
        else:
            origin = f"{raw.request.url.scheme}://{raw.request.url.netloc.decode()}"
            why = (
                f"it leaves {origin}, and a signed request is only redirected "
                "within the same scheme, host and port"
            )
        return ApiError(
            status_code=status,
            message=f"redirect to {str(next_hop.url)[:200]} refused: {why}",
            operation=call.operation,
            request_id=headers.get("x-ncp-trace-id") or headers.get("x-request-id"),
            raw_body=body.decode("utf-8", errors="replace"),
        )

    def _body_error(
        self, call: _Call[Any], status: int, body: bytes, problem: str
    ) -> ApiError:
        """Unsuccessful if the body says a code other than SUCCESS, else malformed."""
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            document = None
        code = document.get("code") if isinstance(document, dict) else None
        text = body.decode("utf-8", errors="replace")
        if code is not None and code != SUCCESS:
            message = document.get("message") if isinstance(document, dict) else None
            detail = f": {message}" if isinstance(message, str) else ""
            return UnsuccessfulResponseError(
                status_code=status,
                error_code=str(code),
                message=f"code {str(code)[:60]!r} instead of {SUCCESS}{detail}",
                operation=call.operation,
                raw_body=text,
            )
        return MalformedResponseError(
            status_code=status,
            message=problem or "the body is not the documented JSON",
            operation=call.operation,
            raw_body=text,
        )

    def _clock_skew_seconds(self, headers: Mapping[str, str]) -> float | None:
        """Server time minus local time, from the ``Date`` header, if there is one."""
        date = headers.get("date")
        server_time = parse_http_date(date) if date else None
        return None if server_time is None else server_time - self._clock()

    def _transport_error(self, call: _Call[Any], exc: Exception) -> TransportError:
        """The error for a request that got no HTTP answer."""
        # httpx_aiohttp re-raises aiohttp's errors under httpx names that can
        # mislead (a refused connection becomes ConnectTimeout): name the cause.
        cause = exc.__cause__
        from_aiohttp = isinstance(cause, _aiohttp_client_error())
        kind = type(cause if from_aiohttp else exc).__name__
        detail = str(exc)[:200] or kind
        if _is_timeout(exc):
            return RequestTimeoutError(
                f"{call.operation}: no answer from {self._base_url} within "
                f"{self._timeout:g} s ({detail})",
                operation=call.operation,
            )
        return TransportError(
            f"{call.operation}: no HTTP answer from {self._base_url} "
            f"({kind}: {detail})",
            operation=call.operation,
        )

    def _log_request(
        self, call: _Call[Any], started: float, outcome: int | str
    ) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.debug(
            "%s %s%s -> %s in %.1f ms",
            call.method,
            self._base_path,
            call.path,
            outcome,
            elapsed_ms,
        )


def _is_timeout(exc: Exception) -> bool:
    """True if ``exc`` means the time ran out, not that the connection failed."""
    # httpx_aiohttp maps every aiohttp connection error, refused connections
    # included, to httpx.ConnectTimeout; the aiohttp cause tells the truth.
    cause = exc.__cause__
    if isinstance(cause, _aiohttp_client_error()):
        return isinstance(cause, TimeoutError)
    return isinstance(exc, httpx.TimeoutException | TimeoutError)


def _aiohttp_client_error() -> type[Exception]:
    """aiohttp's base error, or a stand-in when aiohttp was never imported.

    aiohttp costs a large part of a second to import, which a synchronous
    script or command should not pay for an ``isinstance`` check.
    """
    aiohttp = sys.modules.get("aiohttp")
    error: type[Exception] = aiohttp.ClientError if aiohttp else _NeverRaised
    return error


class _NeverRaised(Exception):
    """Matches nothing: what an aiohttp error check uses without aiohttp."""


def _remember_response(response: httpx.Response) -> None:
    _last_response.set(response)


async def _remember_response_async(response: httpx.Response) -> None:
    _last_response.set(response)


class KmsClient(_KmsClientCore):
    """A synchronous NCP KMS client: validated, signed, typed calls.

    Args:
        credentials: the key pair; None finds it with ``resolve_credentials``.
        site: ``public`` (default), ``kr``, ``jp`` or ``gov``.
        endpoint: a base URL that overrides ``site``, e.g. a local emulator's.
        profile: the ``~/.ncloud/configure`` profile when ``credentials`` is None.
        timeout: seconds to wait for each step of a request.
        clock: seconds since the epoch, for signing.
        transport: an httpx transport, e.g. ``httpx.MockTransport`` in tests.

    Example:
        >>> from kms_toolkit import Credentials
        >>> local = "http://127.0.0.1:8080/kms/v1"
        >>> kms = KmsClient(Credentials("AK", "SK"), endpoint=local)
        >>> kms.base_url
        'http://127.0.0.1:8080/kms/v1'
        >>> kms.close()
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        site: str = "public",
        endpoint: str | None = None,
        profile: str | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            credentials,
            site=site,
            endpoint=endpoint,
            profile=profile,
            timeout=timeout,
            clock=clock,
        )
        # NOTE: the gateway is not known to redirect. httpx's own redirect
        # following would re-send the first hop's signature, so it stays off
        # and the signer follows same-origin redirects, signing each hop.
        self._http = httpx.Client(
            base_url=self._base_url,
            auth=self._auth,
            timeout=self._timeout,
            transport=transport,
            follow_redirects=False,
            event_hooks={"response": [_remember_response]},
        )
        self._generated.set_httpx_client(self._http)

    def enable_key_version(self, key_tag: str, version: int) -> KeyVersionChange:
        """Enable one version of a key and return its new status."""
        return self._send(self._enable_call(key_tag, version))

    def disable_key_version(self, key_tag: str, version: int) -> KeyVersionChange:
        """Disable one version of a key and return its new status."""
        return self._send(self._disable_call(key_tag, version))

    def list_keys(self, page_no: int = 1, page_size: int = 100) -> KeyPage:
        """One page of the account's keys."""
        return self._send(self._list_keys_call(page_no, page_size))

    def iter_keys(self, page_size: int = 100) -> Iterator[KeySummary]:
        """Every key of the account, fetching pages as the iteration needs them."""
        _validate_page(1, page_size)
        return self._iter_keys(page_size)

    def _iter_keys(self, page_size: int) -> Iterator[KeySummary]:
        page_no = 1
        while True:
            page = self.list_keys(page_no, page_size)
            yield from page.keys
            if not page.keys or page_no >= page.total_pages:
                return
            page_no += 1

    def get_key(self, key_tag: str) -> KeyInfo:
        """One key in full."""
        return self._send(self._get_key_call(key_tag))

    def list_key_versions(self, key_tag: str) -> KeyVersionList:
        """Every version of one key, with its status."""
        return self._send(self._list_versions_call(key_tag))

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _send(self, call: _Call[ResultT]) -> ResultT:
        """Make the call through the generated operation; map what goes wrong."""
        _last_response.set(None)
        started = time.perf_counter()
        try:
            response = call.module.sync_detailed(client=self._generated, **call.kwargs)
        except httpx.RequestError as exc:
            self._log_request(call, started, type(exc).__name__)
            raise self._transport_error(call, exc) from exc
        except _PARSE_ERRORS as exc:
            raw = _last_response.get()
            if raw is None:
                raise  # no answer arrived: a fault in the transport, not a body
            self._log_request(call, started, raw.status_code)
            raise self._unparsable_error(call, raw, exc) from exc
        self._log_request(call, started, int(response.status_code))
        return self._result(call, response)


class AsyncKmsClient(_KmsClientCore):
    """An asyncio NCP KMS client: the same calls as ``KmsClient``, awaitable.

    By default requests go through aiohttp (``httpx_aiohttp``), which costs far
    less CPU per request than httpx's own async transport at high concurrency.

    Args:
        transport: an httpx async transport, e.g. ``httpx.ASGITransport(app)``.
        max_connections: the most connections open at once (default transport).

    Other arguments are those of ``KmsClient``.

    Example:
        >>> async def enable_all(tags):  # doctest: +SKIP
        ...     async with AsyncKmsClient() as kms:
        ...         return await asyncio.gather(
        ...             *(kms.enable_key_version(tag, 1) for tag in tags))
    """

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        site: str = "public",
        endpoint: str | None = None,
        profile: str | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 100,
    ) -> None:
        super().__init__(
            credentials,
            site=site,
            endpoint=endpoint,
            profile=profile,
            timeout=timeout,
            clock=clock,
        )
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise InvalidInputError(
                f"max_connections must be an integer: {max_connections!r}"
            )
        if max_connections < 1:
            raise InvalidInputError(
                f"max_connections must be 1 or more: {max_connections}"
            )
        if transport is None:
            transport = _aiohttp_transport(max_connections)
        # Redirects: as in KmsClient, the signer follows them.
        self._http = KmsAsyncHttpClient(
            base_url=self._base_url,
            auth=self._auth,
            timeout=self._timeout,
            transport=transport,
            follow_redirects=False,
            event_hooks={"response": [_remember_response_async]},
        )
        self._generated.set_async_httpx_client(self._http)

    async def enable_key_version(self, key_tag: str, version: int) -> KeyVersionChange:
        """Enable one version of a key and return its new status."""
        return await self._send(self._enable_call(key_tag, version))

    async def disable_key_version(self, key_tag: str, version: int) -> KeyVersionChange:
        """Disable one version of a key and return its new status."""
        return await self._send(self._disable_call(key_tag, version))

    async def list_keys(self, page_no: int = 1, page_size: int = 100) -> KeyPage:
        """One page of the account's keys."""
        return await self._send(self._list_keys_call(page_no, page_size))

    def iter_keys(self, page_size: int = 100) -> AsyncIterator[KeySummary]:
        """Every key of the account, fetching pages as the iteration needs them."""
        _validate_page(1, page_size)
        return self._iter_keys(page_size)

    async def _iter_keys(self, page_size: int) -> AsyncIterator[KeySummary]:
        page_no = 1
        while True:
            page = await self.list_keys(page_no, page_size)
            for key in page.keys:
                yield key
            if not page.keys or page_no >= page.total_pages:
                return
            page_no += 1

    async def get_key(self, key_tag: str) -> KeyInfo:
        """One key in full."""
        return await self._send(self._get_key_call(key_tag))

    async def list_key_versions(self, key_tag: str) -> KeyVersionList:
        """Every version of one key, with its status."""
        return await self._send(self._list_versions_call(key_tag))

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(self, call: _Call[ResultT]) -> ResultT:
        """Make the call through the generated operation; map what goes wrong."""
        _last_response.set(None)
        started = time.perf_counter()
        try:
            response = await call.module.asyncio_detailed(
                client=self._generated, **call.kwargs
            )
        except (httpx.RequestError, _aiohttp_client_error(), TimeoutError) as exc:
            # aiohttp errors that httpx_aiohttp does not translate surface as is.
            self._log_request(call, started, type(exc).__name__)
            raise self._transport_error(call, exc) from exc
        except _PARSE_ERRORS as exc:
            raw = _last_response.get()
            if raw is None:
                raise  # no answer arrived: a fault in the transport, not a body
            self._log_request(call, started, raw.status_code)
            raise self._unparsable_error(call, raw, exc) from exc
        self._log_request(call, started, int(response.status_code))
        return self._result(call, response)


def _aiohttp_transport(max_connections: int) -> httpx.AsyncBaseTransport:
    """The toolkit's aiohttp transport with a pool of ``max_connections``."""
    from kms_toolkit.transport import AiohttpTransport

    # AiohttpTransport sizes aiohttp's connector from limits.max_connections
    # and its keep-alive from limits.keepalive_expiry. It hands aiohttp the URL
    # marked as encoded, so yarl does not re-quote the target httpx signed
    # (see test_aiohttp_sends_the_signed_target_unchanged).
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    transport: httpx.AsyncBaseTransport = AiohttpTransport(limits=limits)
    return transport
