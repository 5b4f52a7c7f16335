"""The error tree: every documented gateway answer maps to its class."""

from __future__ import annotations

import datetime
import json

import pytest

from kms_toolkit import errors
from kms_toolkit.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    CredentialsError,
    EndpointError,
    EndpointTimeoutError,
    InvalidCredentialsError,
    InvalidInputError,
    InvalidKeyTagError,
    KmsToolkitError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RequestTimeoutError,
    ThrottledError,
    TransportError,
    api_error_from_response,
    parse_retry_after,
)

# (HTTP status, errorCode, message, class, retryable): the gateway's table.
GATEWAY_TABLE = [
    (400, "100", "Bad Request Exception", BadRequestError, False),
    (401, "200", "Authentication Failed", AuthenticationError, False),
    (401, "210", "Permission Denied", PermissionDeniedError, False),
    (403, "230", "Forbidden", PermissionDeniedError, False),
    (404, "300", "Not Found Exception", NotFoundError, False),
    (413, "430", "Request Entity Too Large", BadRequestError, False),
    (429, "400", "Quota Exceeded", QuotaExceededError, False),
    (429, "410", "Throttle Limited", ThrottledError, True),
    (429, "420", "Rate Limited", ThrottledError, True),
    (503, "500", "Endpoint Error", EndpointError, True),
    (504, "510", "Endpoint Timeout", EndpointTimeoutError, True),
    (500, "900", "Unexpected Error", EndpointError, True),
]


def gateway_body(code: object, message: str = "") -> bytes:
    return json.dumps({"error": {"errorCode": code, "message": message}}).encode()


def error_for(
    status: int,
    body: bytes,
    headers: dict[str, str] | None = None,
    skew: float | None = None,
) -> ApiError:
    return api_error_from_response(
        status_code=status,
        body=body,
        headers=headers or {},
        operation="enableKeyVersion",
        clock_skew_seconds=skew,
    )


@pytest.mark.parametrize(
    ("status", "code", "message", "error_class", "retryable"),
    GATEWAY_TABLE,
    ids=[f"{row[0]}-{row[1]}" for row in GATEWAY_TABLE],
)
def test_gateway_table_row_maps_to_its_class(
    status: int,
    code: str,
    message: str,
    error_class: type[ApiError],
    retryable: bool,
) -> None:
    """Each documented (status, errorCode) gives its class, code and retryability."""
    error = error_for(status, gateway_body(code, message))

    assert type(error) is error_class
    assert error.status_code == status
    assert error.error_code == code
    assert error.message == message
    assert error.operation == "enableKeyVersion"
    assert error.retryable is retryable
    assert str(error) == f"enableKeyVersion: HTTP {status} errorCode {code}: {message}"


def test_number_typed_error_code_is_read_as_a_string() -> None:
    """Some answers send errorCode as a JSON number; it maps the same."""
    error = error_for(429, gateway_body(420, "Rate Limited"))

    assert type(error) is ThrottledError
    assert error.error_code == "420"


def test_throttled_error_carries_retry_after_seconds() -> None:
    """A Retry-After header in seconds becomes retry_after."""
    error = error_for(429, gateway_body("410"), headers={"retry-after": "2.5"})

    assert isinstance(error, ThrottledError)
    assert error.retry_after == 2.5


@pytest.mark.parametrize(
    "value", [None, "soon", "Wed, 32 Oct 2026 07:28:00 GMT", "inf", "nan"]
)
def test_retry_after_is_none_when_absent_or_unreadable(value: str | None) -> None:
    """Without a Retry-After in seconds or as an HTTP-date, retry_after is None."""
    headers = {} if value is None else {"retry-after": value}

    error = error_for(429, gateway_body("420"), headers=headers)

    assert isinstance(error, ThrottledError)
    assert error.retry_after is None


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, ThrottledError),
        (500, EndpointError),
        (502, EndpointError),
        (503, EndpointError),
        (504, EndpointTimeoutError),
        (599, EndpointError),
        (418, ApiError),
    ],
)
def test_undocumented_body_falls_back_on_the_status(
    status: int, error_class: type[ApiError]
) -> None:
    """A body without a known errorCode is classed by its HTTP status alone."""
    body = b"<html><body>upstream trouble</body></html>"

    error = error_for(status, body)

    assert type(error) is error_class
    assert error.error_code is None
    assert error.message == f"undocumented error body ({len(body)} bytes)"
    assert error.raw_body == body.decode()


def test_unknown_error_code_falls_back_on_the_status() -> None:
    """An errorCode the table lacks does not hide the status's meaning."""
    error = error_for(404, gateway_body("999", "odd"))

    assert type(error) is NotFoundError
    assert error.error_code == "999"


def test_raw_body_is_kept_but_capped() -> None:
    """The start of an undocumented body is kept for reports, not all of it."""
    error = error_for(500, b"x" * 10_000)

    assert error.raw_body == "x" * 2_000


def test_request_id_header_is_kept() -> None:
    """The gateway's trace id is kept for support requests."""
    error = error_for(404, gateway_body("300"), headers={"x-ncp-trace-id": "t-1"})

    assert error.request_id == "t-1"


def test_clock_skew_of_minutes_is_named_in_the_message() -> None:
    """An authentication failure with a far-off server clock says so."""
    behind = error_for(401, gateway_body("200", "Authentication Failed"), skew=600.0)
    ahead = error_for(401, gateway_body("200", "Authentication Failed"), skew=-420.0)

    assert "the local clock is 10 minutes behind the server's" in str(behind)
    assert "synchronise the clock" in str(behind)
    assert "the local clock is 7 minutes ahead of the server's" in str(ahead)


@pytest.mark.parametrize("skew", [None, 3.0, -59.0])
def test_small_or_unknown_skew_is_not_blamed(skew: float | None) -> None:
    """Seconds of skew, or none known, leave the message alone."""
    error = error_for(401, gateway_body("200", "Authentication Failed"), skew=skew)

    assert (
        str(error) == "enableKeyVersion: HTTP 401 errorCode 200: Authentication Failed"
    )


def test_tree_lets_callers_catch_broadly() -> None:
    """Bad input is also a ValueError; timeouts are transport errors."""
    assert issubclass(InvalidKeyTagError, InvalidInputError)
    assert issubclass(InvalidInputError, ValueError)
    assert issubclass(RequestTimeoutError, TransportError)
    assert issubclass(TransportError, KmsToolkitError)
    assert TransportError.retryable is True


def test_transport_error_carries_its_operation() -> None:
    """A transport error names the operation it interrupted."""
    error = RequestTimeoutError("no answer", operation="getKeyList")

    assert error.operation == "getKeyList"
    assert str(error) == "no answer"


def test_malformed_credentials_are_credentials_errors_and_value_errors() -> None:
    """A malformed key is a credentials problem (CLI exit 3) and a ValueError."""
    assert issubclass(InvalidCredentialsError, CredentialsError)
    assert issubclass(InvalidCredentialsError, ValueError)
    assert not issubclass(InvalidCredentialsError, InvalidInputError)


def drawn_parents(tree: str) -> dict[str, str]:
    """Each class drawn in a ``├──`` tree, mapped to the class drawn above it."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for raw in tree.splitlines():
        name = raw.strip(" │├└─").split(" ", 1)[0]
        if not name.endswith("Error"):
            continue
        depth = len(raw) - len(raw.lstrip(" │├└─"))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[name] = stack[-1][1]
        stack.append((depth, name))
    return parents


def test_module_docstring_draws_every_error_class_under_its_parent() -> None:
    """The tree in the errors module's docstring matches the classes."""
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, errors.KmsToolkitError)
        and value is not errors.KmsToolkitError
    ]

    parents = drawn_parents(errors.__doc__ or "")

    assert parents == {
        error_class.__name__: error_class.__bases__[0].__name__
        for error_class in classes
    }


def test_retry_after_date_counts_from_the_answers_date() -> None:
    """An HTTP-date Retry-After is measured from the answer's own Date header."""
    headers = {
        "retry-after": "Wed, 21 Oct 2026 07:28:30 GMT",
        "date": "Wed, 21 Oct 2026 07:28:00 GMT",
    }

    error = error_for(429, gateway_body("410"), headers=headers)

    assert isinstance(error, ThrottledError)
    assert error.retry_after == 30.0


def test_retry_after_date_without_a_date_header_counts_from_now() -> None:
    """Without a Date header the local clock is the reference; past dates wait 0."""
    at = datetime.datetime(2026, 10, 21, 7, 28, 0, tzinfo=datetime.UTC).timestamp()

    ahead = parse_retry_after("Wed, 21 Oct 2026 07:28:12 GMT", now=lambda: at)
    behind = parse_retry_after("Wed, 21 Oct 2026 07:27:00 GMT", now=lambda: at)

    assert ahead == 12.0
    assert behind == 0.0
