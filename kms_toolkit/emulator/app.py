"""The emulator's HTTP face: a raw ASGI application speaking NCP KMS under ``/kms/v1``.

A request goes through the same stages as at NCP: the gateway finds the
operation (404/300 if none), checks the signature (401/200), applies the rate
limit (429/420); then the injected latency and faults; then the service's
rules. Raw ASGI rather than a framework, because this is the hot path of
every benchmark. Whatever fails inside the emulator itself answers 500/900,
like NCP's gateway does for an unexpected error.

The emulator's own routes live under ``/_emulator`` (outside ``/kms/v1``;
NCP has nothing like them), answer loopback clients only and need no
signature:

- ``GET /_emulator/health``: liveness and the number of keys.
- ``GET /_emulator/counters``; ``POST /_emulator/counters/reset``.
- ``GET /_emulator/config``; ``POST /_emulator/config`` with a JSON object of
  injection settings to change (``latency_ms``, ``jitter_ms``, ``rate_limit``,
  ``fault_rate``, ``fault_kinds``).
- ``POST /_emulator/faults`` with a JSON fault rule; ``DELETE`` clears them.
- ``GET /_emulator/state``: key and version counts;
  ``GET /_emulator/disabled-versions``: every disabled ``[keyTag, version]``.

Example (in-process, no network):
    >>> import httpx
    >>> app = EmulatorApp(build_state("demo"), gateway=Gateway([pair]))
    >>> client = httpx.AsyncClient(transport=httpx.ASGITransport(app),
    ...                            base_url="http://emulator", auth=SignatureV2(pair))
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final, NamedTuple

import httpx

from kms_toolkit.emulator.counters import Counters
from kms_toolkit.emulator.errors import (
    EmulatorError,
    GatewayError,
    InvalidParameterError,
    route_not_found,
    unexpected_error,
)
from kms_toolkit.emulator.faults import (
    GATEWAY_FAULTS,
    Fault,
    FaultRule,
    Injector,
    gateway_error_for,
)
from kms_toolkit.emulator.gateway import Gateway
from kms_toolkit.emulator.state import (
    DEFAULT_PAGE_SIZE,
    KEY_TAG_PATTERN,
    KeyRecord,
    KmsState,
    VersionRecord,
)

__all__ = ["API_PREFIX", "DROP_EXTENSION", "ConnectionDropped", "EmulatorApp"]

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

API_PREFIX: Final = "/kms/v1"
# NOTE: [admin-routes] the emulator's own routes (health, counters, injection,
# state) live under /_emulator, outside /kms/v1, since NCP has nothing like
# them; they answer loopback clients only and need no signature.
ADMIN_PREFIX: Final = "/_emulator/"
#: The ASGI scope extension through which a server lets the app close the
#: connection without answering (see ``server.DroppingHttpToolsProtocol``).
DROP_EXTENSION: Final = "kms_toolkit.emulator.drop_connection"
# NOTE: [integer-parameters] the version in the path and pageNo/pageSize
# must be written as plain decimal integers: no sign but "-", no leading
# zeros, no spaces (so "001", "+5" and " 5" are 400 INVALID_PARAMETER). NCP
# does not say how leniently it parses them; the strict reading catches
# clients that build paths or queries by hand.
INTEGER_PATTERN: Final = re.compile(r"-?(?:0|[1-9][0-9]{0,8})")
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost", "testclient"})
MAX_ADMIN_BODY: Final = 64 * 1024
JSON_HEADERS: Final = [(b"content-type", b"application/json;charset=UTF-8")]


class ConnectionDropped(httpx.RemoteProtocolError):
    """The emulator dropped the connection of an in-process request.

    Over a real socket the client sees the connection close; in process
    (``httpx.ASGITransport``) there is no socket, so the app raises this
    instead: it is the exception httpx raises when a server hangs up.
    """


class Operation(NamedTuple):
    """The KMS operation a request asks for, with its path parameters as sent."""

    name: str
    key_tag: str | None = None
    version_text: str | None = None


# Path shape below /kms/v1 ("*" stands for a key tag or a version) ->
# (method, operationId from openapi/kms.yaml).
OPERATIONS: Final = {
    ("keys",): ("GET", "getKeyList"),
    ("keys", "*"): ("GET", "getKeyInfo"),
    ("keys", "*", "versions"): ("GET", "getKeyVersionList"),
    ("keys", "*", "versions", "*", "enable"): ("POST", "enableKeyVersion"),
    ("keys", "*", "versions", "*", "disable"): ("POST", "disableKeyVersion"),
}


def match_operation(method: str, path: str) -> Operation:
    """The operation at ``method`` and ``path`` (below ``/kms/v1``), or 404/300."""
    segments = path.split("/")[1:]
    shape = list(segments)
    for index in (1, 3):
        if len(shape) > index:
            shape[index] = "*"
    found = OPERATIONS.get(tuple(shape))
    if found is None or "" in segments:
        raise route_not_found(f"no operation at {API_PREFIX}{path[:200]}")
    # NOTE: [wrong-method] a known path with the wrong method gets 404/300
    # like an unknown path: NCP's gateway does not document a 405, and this
    # keeps every answer inside its error table.
    if method != found[0]:
        raise route_not_found(f"{method} is not allowed here; use {found[0]}")
    # NOTE: [path-decoding] both path parameters are percent-decoded before
    # they are checked ("%31" is version 1), as HTTP treats them as the same
    # text; the signature still covers the path exactly as sent.
    tag = path_parameter(segments, 1)
    version = path_parameter(segments, 3)
    return Operation(found[1], tag, version)


def path_parameter(segments: list[str], index: int) -> str | None:
    """The percent-decoded path segment at ``index``, or None when absent."""
    if len(segments) <= index:
        return None
    text = segments[index]
    return urllib.parse.unquote(text) if "%" in text else text


class EmulatorApp:
    """The ASGI application: gateway, injection and KMS service in one callable.

    Args:
        state: the keys and versions it serves.
        gateway: checks signatures.
        injector: latency, rate limit and faults (none by default).
        counters: where answers are counted (a new set by default).
        clock: seconds since the epoch, for the ``Date`` header.
        sleep: awaited for injected latency; tests pass a fake.
    """

    def __init__(
        self,
        state: KmsState,
        *,
        gateway: Gateway,
        injector: Injector | None = None,
        counters: Counters | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.state = state
        self.gateway = gateway
        self.injector = injector or Injector()
        self.counters = counters or Counters()
        self._clock = clock
        self._sleep = sleep
        self._trace_ids = itertools.count(1)
        self._date_second = -1
        self._date_header = b""

    def __repr__(self) -> str:
        return f"EmulatorApp({self.state!r}, {self.gateway!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._serve_lifespan(receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1")
        if path.startswith(API_PREFIX + "/"):
            await self._serve_kms(scope, receive, send, path)
        elif path.startswith(ADMIN_PREFIX):
            await self._serve_admin(scope, receive, send, path)
        else:
            error = route_not_found(f"no operation at {path[:200]}")
            self.counters.record("unknown", str(error.status))
            await self._send_error(send, error)

    async def _serve_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- /kms/v1 --------------------------------------------------------------

    async def _serve_kms(
        self, scope: Scope, receive: Receive, send: Send, path: str
    ) -> None:
        """Read, authenticate, inject, act, answer; count whatever happens."""
        method = scope["method"]
        query = scope.get("query_string", b"").decode("latin-1")
        # XXX: ASGI drops a bare "?" (empty query), so a client signing
        # "/kms/v1/keys?" is refused; see test_a_bare_question_mark_is_lost.
        target = f"{path}?{query}" if query else path
        name, key_tag, version = "unknown", None, None
        try:
            # NOTE: [routing-first] routing comes before the signature check,
            # as in a gateway that only authenticates requests for operations
            # it knows: an unknown path is 404/300 even when unsigned.
            operation = match_operation(method, path[len(API_PREFIX) :])
            name, key_tag = operation.name, operation.key_tag
            self.gateway.authenticate(method, target, self._headers(scope))
            version = self._version(operation)
            # NOTE: [rate-limit-scope] only a signed request for a known
            # operation takes a rate-limit token; what the gateway refuses
            # by itself (404/300, 401/200) and the admin routes cost nothing.
            fault = await self._inject(name, key_tag, version)
            status, body, outcome = self._answer(scope, operation, query, fault)
        except EmulatorError as error:
            await self._refuse(send, error, name, f"{method} {target}")
            return
        except Exception:
            # A bug in the emulator still gets the gateway's answer to the
            # unexpected, so a client under test sees a 500 and not a hang.
            logger.exception("%s %s failed inside the emulator", method, target)
            failure = unexpected_error("the emulator failed to answer")
            await self._refuse(send, failure, name, f"{method} {target}")
            return
        # Counted before answering, so a client that has seen the answer (or
        # the hang-up) always finds it in the counters.
        self.counters.record(name, outcome, key_tag=key_tag, version=version)
        logger.debug("%s %s -> %s", method, target, outcome)
        if status:
            await self._send(send, status, body)
        else:
            await drop_connection(scope, receive)

    async def _refuse(
        self, send: Send, error: EmulatorError, name: str, request: str
    ) -> None:
        """Count and send a refusal of the request (``METHOD target``)."""
        self.counters.record(name, str(error.status))
        logger.debug("%s -> %s %s", request, error.status, error.error_code)
        await self._send_error(send, error)

    @staticmethod
    def _headers(scope: Scope) -> dict[str, str]:
        """The request's ``x-ncp-*`` headers (the only ones the gateway reads)."""
        found = {}
        for name, value in scope["headers"]:
            if name[:6] == b"x-ncp-":
                found[name.decode("latin-1")] = value.decode("latin-1")
        return found

    @staticmethod
    def _version(operation: Operation) -> int | None:
        """The version path parameter as a number; 400 when it is not one."""
        text = operation.version_text
        if text is None:
            return None
        # NOTE: [version-parameter] a version that is not an integer gets the
        # service's 400 INVALID_PARAMETER right after the signature check, one
        # outside 1-100 gets it from the service's rules; NCP does not say
        # whether its gateway or its service refuses them.
        if not INTEGER_PATTERN.fullmatch(text):
            raise InvalidParameterError(
                f"version must be an integer from 1 to 100, not {text[:20]!r}"
            )
        return int(text)

    async def _inject(
        self, operation: str, key_tag: str | None, version: int | None
    ) -> FaultRule | None:
        """Rate limit, latency, then the fault (if any) this request gets."""
        injector = self.injector
        if not injector.active:
            return None
        injector.admit()
        delay = injector.delay_seconds()
        if delay:
            await self._sleep(delay)
        return injector.choose_fault(operation, key_tag, version)

    def _answer(
        self,
        scope: Scope,
        operation: Operation,
        query: str,
        fault: FaultRule | None,
    ) -> tuple[int, bytes, str]:
        """Status, body and the outcome to count; status 0 means: hang up.

        A fault before the service means the request never reached it; one
        with ``after_apply`` fails the answer after the change was made.
        """
        if fault is not None and not fault.after_apply:
            return self._fault_answer(fault.fault)
        body = self._operate(scope, operation, query)
        if fault is not None:
            return self._fault_answer(fault.fault)
        return 200, body, "200"

    @staticmethod
    def _fault_answer(fault: Fault) -> tuple[int, bytes, str]:
        if fault in GATEWAY_FAULTS:
            raise gateway_error_for(fault, "injected by the emulator")
        if fault is Fault.DROP:
            return 0, b"", "dropped"
        # A 200 that no client can take for success is counted under the
        # fault's name: never as a served 200, nor as an enable.
        if fault is Fault.MALFORMED_BODY:
            return 200, b"<html><body>Service Unavailable</body></html>", str(fault)
        body = b'{"code":"FAIL","message":"injected by the emulator"}'
        return 200, body, str(fault)

    def _operate(self, scope: Scope, operation: Operation, query: str) -> bytes:
        """Run the operation against the state and render its success body."""
        name, tag = operation.name, operation.key_tag or ""
        if name == "getKeyList":
            return self._render_key_list(query)
        # NOTE: [malformed-key-tag] a tag NCP could never issue (see the
        # spec's pattern) is 400 INVALID_PARAMETER; a well-formed unknown tag
        # is 404 KEY_NOT_FOUND.
        if tag and not KEY_TAG_PATTERN.fullmatch(tag):
            raise InvalidParameterError(
                f"key tag {tag[:60]!r} is not 1-128 letters, digits, - or _"
            )
        if name == "getKeyInfo":
            return render_key_info(self.state.key_info(tag), base_url(scope, tag))
        if name == "getKeyVersionList":
            info = self.state.key_info(tag)
            return render_versions(info, self.state.key_versions(tag))
        version = int(operation.version_text or 0)
        if name == "enableKeyVersion":
            return render_change(self.state.enable_version(tag, version))
        return render_change(self.state.disable_version(tag, version))

    def _render_key_list(self, query: str) -> bytes:
        # NOTE: [query-parameters] unknown query parameters are ignored, an
        # empty value (``pageNo=``) counts as absent, and pageNo or pageSize
        # given twice is 400 INVALID_PARAMETER rather than a guess at which
        # one counts.
        fields = urllib.parse.parse_qs(query)
        page_no = query_integer(fields, "pageNo", 1)
        page_size = query_integer(fields, "pageSize", DEFAULT_PAGE_SIZE)
        page = self.state.list_keys(page_no, page_size)
        # NOTE: [paging-fields] NCP's pages disagree on where the paging
        # fields sit; the emulator puts them inside ``data``, next to
        # ``keyList``.
        data = {
            "keyList": [summarise_key(key) for key in page.keys],
            "currentPageNo": page.current_page_no,
            "totalPageNo": page.total_page_no,
            "totalCount": page.total_count,
        }
        return dump_success(data)

    # -- answering ------------------------------------------------------------

    async def _send_error(self, send: Send, error: EmulatorError) -> None:
        await self._send(send, error.status, error.body(), error.headers())

    async def _send(
        self,
        send: Send,
        status: int,
        body: bytes,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        headers = [
            (b"content-type", content_type_of(body)),
            (b"content-length", str(len(body)).encode()),
            (b"date", self._date()),
            (b"x-ncp-trace-id", b"emu-%d" % next(self._trace_ids)),
        ]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": headers + (extra or []),
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _date(self) -> bytes:
        # NOTE: [date-header] the Date header follows the emulator's clock (so
        # a client can see a skew it injected); formatting it once a second
        # keeps it cheap.
        now = self._clock()
        if int(now) != self._date_second:
            self._date_second = int(now)
            self._date_header = email.utils.formatdate(now, usegmt=True).encode()
        return self._date_header

    # -- /_emulator -------------------------------------------------------------

    async def _serve_admin(
        self, scope: Scope, receive: Receive, send: Send, path: str
    ) -> None:
        """The emulator's own routes: loopback only, no signature."""
        client = scope.get("client")
        if (
            client is not None
            and client[0] not in LOOPBACK_HOSTS
            and not str(client[0]).startswith("127.")
        ):
            await self._send_error(
                send,
                GatewayError(403, "230", "Forbidden", "admin routes are loopback-only"),
            )
            return
        try:
            body = await read_body(receive)
            answer = self._admin_answer(
                scope["method"], path[len(ADMIN_PREFIX) :], body
            )
        except EmulatorError as error:
            await self._send_error(send, error)
            return
        except (ValueError, TypeError) as error:
            await self._send_error(send, InvalidParameterError(str(error)[:300]))
            return
        except Exception:
            logger.exception("%s %s failed inside the emulator", scope["method"], path)
            await self._send_error(send, unexpected_error("the admin route failed"))
            return
        await self._send(send, 200, json.dumps(answer).encode())

    def _admin_answer(self, method: str, route: str, body: bytes) -> Any:
        """Run one admin route; 404/300 for a route that does not exist."""
        handlers: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", "health"): lambda: {"status": "ok", "keys": len(self.state)},
            ("GET", "counters"): self.counters.snapshot,
            ("POST", "counters/reset"): self._reset_counters,
            ("GET", "config"): self.injector.describe,
            ("POST", "config"): lambda: self._configure(json_object(body)),
            ("POST", "faults"): lambda: self._schedule(json_object(body)),
            ("DELETE", "faults"): self._clear_schedule,
            ("GET", "state"): lambda: self.state.summary() | {"keys": len(self.state)},
            ("GET", "disabled-versions"): lambda: self.state.disabled_versions(
                enabled_keys_only=True
            ),
        }
        handler = handlers.get((method, route))
        if handler is None:
            raise route_not_found(f"no emulator route {method} {ADMIN_PREFIX}{route}")
        return handler()

    def _reset_counters(self) -> dict[str, Any]:
        self.counters.reset()
        return self.counters.snapshot()

    def _configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        self.injector.configure(**changes)
        return self.injector.describe()

    def _schedule(self, rule: dict[str, Any]) -> dict[str, Any]:
        return self.injector.schedule(FaultRule(**rule)).to_dict()

    def _clear_schedule(self) -> dict[str, Any]:
        self.injector.clear_schedule()
        return self.injector.describe()


# -- rendering (NCP's success shape) -------------------------------------------


def dump_success(data: Any) -> bytes:
    """``{"code": "SUCCESS", "data": ...}`` as compact JSON."""
    return json.dumps({"code": "SUCCESS", "data": data}, separators=(",", ":")).encode()


def render_change(change: VersionRecord) -> bytes:
    """The enable/disable answer, formatted directly: it is the hot path."""
    return b'{"code":"SUCCESS","data":{"version":%d,"status":"%s","statusDate":%d}}' % (
        change.version,
        change.status.encode(),
        change.status_date,
    )


def summarise_key(key: KeyRecord) -> dict[str, Any]:
    """One ``keyList`` entry."""
    summary: dict[str, Any] = {
        "keyId": key.key_id,
        "keyTag": key.key_tag,
        "keyName": key.key_name,
        "keyType": key.key_type,
        "status": str(key.status),
        "protectionType": key.protection_type,
        "isConvergent": key.is_convergent,
        "registerDate": key.register_date,
    }
    # NOTE: [destroy-date] destroyDate is sent only for keys pending deletion.
    if key.destroy_date is not None:
        summary["destroyDate"] = key.destroy_date
    return summary


def render_key_info(key: KeyRecord, url: str) -> bytes:
    """The key info answer."""
    return dump_success(
        {
            "keyId": key.key_id,
            "keyTag": key.key_tag,
            "keyName": key.key_name,
            # NOTE: [nrn] NCP does not document the nrn format; the emulator
            # makes one that names itself and the key tag.
            "nrn": f"nrn:PUB:KMS::emulator:Key/{key.key_tag}",
            # NOTE: [base-url] NCP does not say what baseUrl holds; the
            # emulator gives the key's URL as this request reached it.
            "baseUrl": url,
            "keyType": key.key_type,
            "status": str(key.status),
            "keystoreId": key.keystore_id,
            "currentVersion": key.current_version,
            "protectionType": key.protection_type,
            "registerDate": key.register_date,
        }
    )


def render_versions(key: KeyRecord, versions: tuple[VersionRecord, ...]) -> bytes:
    """The key version list answer."""
    version_list = [
        {
            "version": record.version,
            "status": str(record.status),
            "statusDate": record.status_date,
            "rotatedDate": record.rotated_date,
        }
        for record in versions
    ]
    return dump_success(
        {
            "keyTag": key.key_tag,
            "currentVersion": key.current_version,
            "versionList": version_list,
        }
    )


def base_url(scope: Scope, key_tag: str) -> str:
    """The key's URL as this request reached it (NCP's ``baseUrl`` field)."""
    host = next(
        (
            value.decode("latin-1")
            for name, value in scope["headers"]
            if name == b"host"
        ),
        "localhost",
    )
    return f"{scope.get('scheme', 'http')}://{host}{API_PREFIX}/keys/{key_tag}"


def content_type_of(body: bytes) -> bytes:
    """JSON for JSON bodies; HTML for the injected malformed body."""
    return b"text/html" if body.startswith(b"<") else JSON_HEADERS[0][1]


def query_integer(fields: dict[str, list[str]], name: str, default: int) -> int:
    """A paging parameter as a number; 400 when it is not one integer."""
    values = fields.get(name)
    if not values:
        return default
    if len(values) > 1:
        raise InvalidParameterError(f"{name} is given {len(values)} times")
    text = values[0]
    if not INTEGER_PATTERN.fullmatch(text):
        raise InvalidParameterError(f"{name} must be an integer, not {text[:20]!r}")
    return int(text)


def json_object(body: bytes) -> dict[str, Any]:
    """An admin request's JSON object body."""
    document = json.loads(body or b"{}")
    if not isinstance(document, dict):
        raise ValueError("the body must be a JSON object")
    return document


async def read_body(receive: Receive) -> bytes:
    """The whole request body, up to 64 KiB."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_ADMIN_BODY:
            raise GatewayError(413, "430", "Request Entity Too Large", "over 64 KiB")
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def drop_connection(scope: Scope, receive: Receive) -> None:
    """Close the client's connection without answering.

    Under the emulator's uvicorn server, the scope carries a hook that closes
    the socket; the app then waits for the server to notice, so uvicorn sees
    a vanished client rather than an app that forgot to answer. Elsewhere
    (in process) it raises :class:`ConnectionDropped`.
    """
    close = scope.get("extensions", {}).get(DROP_EXTENSION)
    if close is None:
        raise ConnectionDropped("Server disconnected without sending a response.")
    close()
    while (await receive())["type"] != "http.disconnect":
        pass
