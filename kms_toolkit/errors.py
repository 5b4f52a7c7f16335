"""Every failure the toolkit raises, as one tree.

::

    KmsToolkitError
    ├── InvalidInputError (also ValueError)   bad input, caught before any request
    │   ├── InvalidKeyTagError
    │   └── InvalidVersionError
    ├── CredentialsError                      no usable credentials were found
    │   └── InvalidCredentialsError           a malformed key (also ValueError)
    ├── TransportError                        no HTTP answer: connect, read, protocol
    │   └── RequestTimeoutError
    └── ApiError                              an HTTP answer that is not a success
        ├── BadRequestError                   400/100, 413/430
        ├── AuthenticationError               401/200 (signature, key, clock skew)
        ├── PermissionDeniedError             401/210, 403/230
        ├── NotFoundError                     404/300
        ├── QuotaExceededError                429/400 (a quota: retrying won't help)
        ├── ThrottledError                    429/410, 429/420 (carries retry_after)
        ├── EndpointError                     503/500, 500/900
        ├── EndpointTimeoutError              504/510
        ├── UnsuccessfulResponseError         2xx whose ``code`` is not SUCCESS
        └── MalformedResponseError            a body that is not the documented JSON

A redirect the client does not follow (to another origin, or one hop too many)
is a plain ``ApiError`` whose message names the redirect.

``retryable`` on each class says whether the same request may succeed later;
the bulk engine retries only those. Messages are built from the status, the
gateway's ``errorCode`` and its short message: never from headers, request
bodies or credentials.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "CredentialsError",
    "EndpointError",
    "EndpointTimeoutError",
    "InvalidCredentialsError",
    "InvalidInputError",
    "InvalidKeyTagError",
    "InvalidVersionError",
    "KmsToolkitError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RequestTimeoutError",
    "ThrottledError",
    "TransportError",
    "UnsuccessfulResponseError",
    "api_error_from_response",
    "parse_http_date",
    "parse_retry_after",
]

#: How much of an undocumented body an error keeps, for reports.
RAW_BODY_LIMIT = 2_000


class KmsToolkitError(Exception):
    """The base of every error the toolkit raises."""

    retryable: ClassVar[bool] = False


class InvalidInputError(KmsToolkitError, ValueError):
    """An argument is wrong; nothing was sent."""


class InvalidKeyTagError(InvalidInputError):
    """A key tag is empty, too long or holds characters NCP key tags never have."""


class InvalidVersionError(InvalidInputError):
    """A key version is not an integer from 1 to 100."""


class CredentialsError(KmsToolkitError):
    """No complete, usable access key and secret key pair was found."""


class InvalidCredentialsError(CredentialsError, ValueError):
    """A key is not a non-empty string of printable ASCII without spaces.

    The message names the key (``access_key`` or ``secret_key``) and where the
    pair came from, never the key's text: it may be the secret.
    """


class TransportError(KmsToolkitError):
    """The request got no HTTP answer (connection refused, reset, protocol error).

    Attributes:
        operation: the API operation, for example ``enableKeyVersion``.
    """

    retryable = True

    def __init__(self, message: str = "", *, operation: str = "") -> None:
        self.operation = operation
        super().__init__(message)


class RequestTimeoutError(TransportError):
    """The request got no answer within the client's timeout."""


class ApiError(KmsToolkitError):
    """An HTTP answer that is not a success.

    Attributes:
        status_code: the HTTP status.
        error_code: the gateway's ``errorCode`` as a string, or None.
        message: the gateway's short message, or a description of the body.
        operation: the API operation, for example ``enableKeyVersion``.
        request_id: the gateway's request id header, when it sends one.
        raw_body: the start of the body, kept for reports (never headers).
    """

    def __init__(
        self,
        *,
        status_code: int,
        error_code: str | None = None,
        message: str = "",
        operation: str = "",
        request_id: str | None = None,
        raw_body: str = "",
    ) -> None:
        self.status_code = status_code
        self.error_code = error_code
        self.message = message
        self.operation = operation
        self.request_id = request_id
        self.raw_body = raw_body[:RAW_BODY_LIMIT]
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        code = f" errorCode {self.error_code}" if self.error_code else ""
        text = f": {self.message}" if self.message else ""
        return f"{where}HTTP {self.status_code}{code}{text}"


class BadRequestError(ApiError):
    """The gateway refused the request's shape (400/100, 413/430)."""


class AuthenticationError(ApiError):
    """The gateway did not accept the signature, the access key or the timestamp."""

    def __init__(self, *, clock_skew_seconds: float | None = None, **kwargs: Any):
        self.clock_skew_seconds = clock_skew_seconds
        super().__init__(**kwargs)

    def _describe(self) -> str:
        text = super()._describe()
        skew = self.clock_skew_seconds
        # The gateway answers a stale timestamp with the same 200 code as a bad
        # signature; the Date header is the only hint that the clock is to blame.
        if skew is not None and abs(skew) >= 60:
            side = "behind" if skew > 0 else "ahead of"
            text += (
                f" (the local clock is {abs(skew) / 60:.0f} minutes {side} the "
                "server's; NCP rejects timestamps 5 minutes or more off: "
                "synchronise the clock)"
            )
        return text


class PermissionDeniedError(ApiError):
    """The credentials are valid but may not do this (401/210, 403/230)."""


class NotFoundError(ApiError):
    """The key or the version does not exist (404/300)."""


class QuotaExceededError(ApiError):
    """The account's quota is used up (429/400); waiting a moment won't help."""


class ThrottledError(ApiError):
    """Too many requests (429/410 or 429/420); try again after ``retry_after``."""

    retryable = True

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)


class EndpointError(ApiError):
    """The service behind the gateway failed (503/500, 500/900)."""

    retryable = True


class EndpointTimeoutError(ApiError):
    """The service behind the gateway did not answer in time (504/510)."""

    # Enabling a version is idempotent, so sending it again is safe.
    retryable = True


class UnsuccessfulResponseError(ApiError):
    """A 2xx answer whose ``code`` is not ``SUCCESS``."""


class MalformedResponseError(ApiError):
    """A body that is not JSON, or JSON without the documented fields."""


_BY_ERROR_CODE: dict[str, type[ApiError]] = {
    "100": BadRequestError,
    "200": AuthenticationError,
    "210": PermissionDeniedError,
    "230": PermissionDeniedError,
    "300": NotFoundError,
    "400": QuotaExceededError,
    "410": ThrottledError,
    "420": ThrottledError,
    "430": BadRequestError,
    "500": EndpointError,
    "510": EndpointTimeoutError,
    "900": EndpointError,
}

# When the body carries no errorCode the toolkit knows (for example the KMS
# service's own failure body, which NCP does not document), the status decides.
_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: BadRequestError,
    429: ThrottledError,
    500: EndpointError,
    502: EndpointError,
    503: EndpointError,
    504: EndpointTimeoutError,
}


def parse_retry_after(
    value: str | None,
    *,
    date: str | None = None,
    now: Callable[[], float] = time.time,
) -> float | None:
    """Seconds from a ``Retry-After`` header, or None when it says nothing usable.

    The header is either a number of seconds or an HTTP-date. A date is
    measured from the answer's own ``Date`` header when there is one, so a
    skewed local clock does not stretch or shorten the wait; else from
    ``now()``.
    """
    if value is None:
        return None
    seconds: float | None
    try:
        seconds = float(value)
    except ValueError:
        seconds = _seconds_until(value, date, now)
    if seconds is None:
        return None
    # "inf" and "nan" parse as floats but would stall a run forever.
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _seconds_until(
    http_date: str, date: str | None, now: Callable[[], float]
) -> float | None:
    """Seconds from the answer's ``Date`` (or ``now()``) to ``http_date``."""
    until = parse_http_date(http_date)
    if until is None:
        return None
    since = parse_http_date(date) if date is not None else None
    return until - (since if since is not None else now())


def parse_http_date(http_date: str) -> float | None:
    """An HTTP-date (a ``Date`` or ``Retry-After`` header) as epoch seconds.

    None when the text is not a date.
    """
    try:
        parsed = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses naive
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


def _gateway_error_fields(body: bytes) -> tuple[str | None, str]:
    """The ``errorCode`` and message of a gateway error body, when it is one."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, ""
    error = document.get("error") if isinstance(document, Mapping) else None
    if not isinstance(error, Mapping):
        return None, ""
    code = error.get("errorCode")
    message = error.get("message")
    code_text = str(code) if isinstance(code, str | int) and code != "" else None
    return code_text, message if isinstance(message, str) else ""


def api_error_from_response(
    *,
    status_code: int,
    body: bytes,
    headers: Mapping[str, str],
    operation: str,
    clock_skew_seconds: float | None = None,
) -> ApiError:
    """Build the error for a non-2xx answer from its status, body and headers."""
    error_code, message = _gateway_error_fields(body)
    error_class = _BY_ERROR_CODE.get(error_code or "") or _BY_STATUS.get(
        status_code, ApiError
    )
    if status_code >= 500 and error_class is ApiError:
        error_class = EndpointError
    common: dict[str, Any] = {
        "status_code": status_code,
        "error_code": error_code,
        "message": message or f"undocumented error body ({len(body)} bytes)",
        "operation": operation,
        "request_id": headers.get("x-ncp-trace-id") or headers.get("x-request-id"),
        "raw_body": body.decode("utf-8", errors="replace"),
    }
    if error_class is ThrottledError:
        return ThrottledError(
            retry_after=parse_retry_after(
                headers.get("retry-after"), date=headers.get("date")
            ),
            **common,
        )
    if error_class is AuthenticationError:
        return AuthenticationError(clock_skew_seconds=clock_skew_seconds, **common)
    return error_class(**common)
