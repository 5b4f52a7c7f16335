"""Refusals the emulator answers with, each knowing its HTTP status and wire body.

Gateway refusals use NCP's documented codes; the KMS service's own refusals
use NCP's gateway body shape with codes of the emulator's choosing::

    EmulatorError
    ├── GatewayError     documented API Gateway errors (401/200, 404/300, ...)
    └── ServiceError     KMS rules (key not found, current version, ...)
"""

from __future__ import annotations

import json

__all__ = [
    "CurrentVersionError",
    "EmulatorError",
    "GatewayError",
    "InvalidParameterError",
    "KeyNotEnabledError",
    "KeyNotFoundError",
    "ServiceError",
    "VersionNotFoundError",
    "authentication_failed",
    "rate_limited",
    "route_not_found",
    "unexpected_error",
]


class EmulatorError(Exception):
    """A refusal the emulator sends as ``{"error": {...}}`` with an HTTP status.

    Subclasses fix ``status``, ``error_code`` and ``message``; ``details`` says
    what exactly was wrong with this request (never a secret).
    """

    status: int = 500
    error_code: str = "900"
    message: str = "Unexpected Error"

    def __init__(self, details: str = "") -> None:
        self.details = details
        super().__init__(f"{self.status} {self.error_code} {self.message}: {details}")

    def headers(self) -> list[tuple[bytes, bytes]]:
        """Extra response headers this refusal carries (none by default)."""
        return []

    def body(self) -> bytes:
        """The JSON body NCP's gateway error shape gives this refusal."""
        error = {"errorCode": self.error_code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return json.dumps({"error": error}, separators=(",", ":")).encode()


class GatewayError(EmulatorError):
    """An error the API Gateway answers before the service sees the request."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        details: str = "",
        *,
        retry_after_seconds: int | None = None,
    ) -> None:
        # Instance attributes shadow the class defaults: one class serves
        # every row of NCP's gateway error table.
        self.status = status
        self.error_code = error_code
        self.message = message
        self.retry_after_seconds = retry_after_seconds
        super().__init__(details)

    def headers(self) -> list[tuple[bytes, bytes]]:
        """``Retry-After`` in whole seconds when the refusal says when to retry."""
        if self.retry_after_seconds is None:
            return []
        return [(b"retry-after", str(self.retry_after_seconds).encode())]


def authentication_failed(details: str) -> GatewayError:
    """401 Authentication Failed (200): bad signature, key, header or clock."""
    return GatewayError(401, "200", "Authentication Failed", details)


def rate_limited(retry_after_seconds: int, details: str) -> GatewayError:
    """429 Rate Limited (420) with ``Retry-After``: the request rate is too high."""
    # NOTE: [rate-limit-code] NCP lists 429/410 Throttle Limited and 429/420
    # Rate Limited without saying which limit answers which; going over the
    # emulator's rate limit answers 420, and 410 is left to injected faults.
    return GatewayError(
        429, "420", "Rate Limited", details, retry_after_seconds=retry_after_seconds
    )


def route_not_found(details: str) -> GatewayError:
    """404 Not Found Exception (300): no operation at this method and path."""
    return GatewayError(404, "300", "Not Found Exception", details)


def unexpected_error(details: str) -> GatewayError:
    """500 Unexpected Error (900): something failed inside the emulator."""
    return GatewayError(500, "900", "Unexpected Error", details)


# NOTE: [service-error-body] NCP does not document the KMS service's own
# failure body. The emulator reuses the gateway's shape with textual error
# codes that can never collide with the gateway's numeric ones, so a client
# tells "the gateway refused" from "the service refused" by the code alone.
# Change them here.
class ServiceError(EmulatorError):
    """A KMS rule refused the request after the gateway let it through."""

    status = 400
    error_code = "INVALID_REQUEST"
    message = "The request breaks a KMS rule"


class InvalidParameterError(ServiceError):
    """A path or query parameter is outside what the API accepts."""

    error_code = "INVALID_PARAMETER"
    message = "Invalid parameter"


class KeyNotFoundError(ServiceError):
    """No key has this tag."""

    status = 404
    error_code = "KEY_NOT_FOUND"
    message = "Key not found"


class VersionNotFoundError(ServiceError):
    """The key exists but has no such version."""

    status = 404
    error_code = "KEY_VERSION_NOT_FOUND"
    message = "Key version not found"


class KeyNotEnabledError(ServiceError):
    """The key is disabled or pending deletion, so its versions cannot change."""

    error_code = "KEY_NOT_ENABLED"
    message = "The key is not enabled; its versions cannot change"


class CurrentVersionError(ServiceError):
    """The current (latest) version of a key cannot be disabled."""

    error_code = "CURRENT_VERSION_CANNOT_BE_DISABLED"
    message = "The current version of a key cannot be disabled"
