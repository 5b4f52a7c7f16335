"""The API Gateway's signature v2 check, as NCP's gateway makes it.

A request passes when it carries the three signing headers, its access key is
known, its timestamp is less than 5 minutes from the gateway's clock, and its
signature matches the one computed over the exact request target received.

Example:
    >>> from kms_toolkit.auth import signing_headers
    >>> pair = Credentials("AK", "SK")
    >>> gateway = Gateway([pair], clock=lambda: 1_700_000_000.0)
    >>> headers = signing_headers(pair, "GET", "/kms/v1/keys", 1_700_000_000_000)
    >>> gateway.authenticate("GET", "/kms/v1/keys", headers)
    'AK'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from kms_toolkit.auth import (
    ACCESS_KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    string_to_sign,
)
from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator.errors import authentication_failed

__all__ = ["MAX_CLOCK_SKEW_MS", "Gateway", "generate_credentials"]

logger = logging.getLogger(__name__)

#: NCP rejects timestamps 5 minutes or more away from its clock.
MAX_CLOCK_SKEW_MS: Final = 5 * 60 * 1000


def generate_credentials() -> Credentials:
    """A throwaway access key and secret for one emulator run."""
    return Credentials(
        access_key="EMU" + secrets.token_hex(8).upper(),
        secret_key=secrets.token_urlsafe(30),
        source="emulator",
    )


class Gateway:
    """Checks NCP signature v2 headers against a set of known key pairs.

    Args:
        credentials: every access key and secret the gateway accepts.
        clock: seconds since the epoch; timestamps are judged against it.
    """

    def __init__(
        self,
        credentials: Iterable[Credentials],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # A prepared HMAC per secret: copying it is cheaper than keying anew.
        self._signers = {
            pair.access_key: hmac.new(
                pair.secret_key.encode(), digestmod=hashlib.sha256
            )
            for pair in credentials
        }
        if not self._signers:
            raise ValueError("the gateway needs at least one access key")
        self._clock = clock

    def __repr__(self) -> str:
        return f"Gateway(access_keys={sorted(self._signers)!r})"

    @property
    def access_keys(self) -> list[str]:
        """The access key ids the gateway accepts (never their secrets)."""
        return sorted(self._signers)

    def authenticate(self, method: str, target: str, headers: Mapping[str, str]) -> str:
        """Return the caller's access key, or raise 401/200 saying what failed.

        ``target`` is the raw path and query exactly as received; ``headers``
        has lower-case names.
        """
        timestamp, access_key, signature = self._signing_headers(headers)
        self._check_timestamp(timestamp)
        signer = self._signers.get(access_key)
        if signer is None:
            raise authentication_failed(f"unknown access key {access_key[:32]}")
        expected = self._sign(
            signer, string_to_sign(method, target, timestamp, access_key)
        )
        if not hmac.compare_digest(expected, signature.encode()):
            logger.debug("signature mismatch for %s %s", method, target)
            raise authentication_failed(
                f"signature does not match {method} {target[:200]}"
            )
        return access_key

    @staticmethod
    def _signing_headers(headers: Mapping[str, str]) -> tuple[str, str, str]:
        values = []
        for name in (TIMESTAMP_HEADER, ACCESS_KEY_HEADER, SIGNATURE_HEADER):
            value = headers.get(name)
            if not value:
                raise authentication_failed(f"missing header {name}")
            values.append(value)
        return values[0], values[1], values[2]

    def _check_timestamp(self, timestamp: str) -> None:
        if not timestamp.isascii() or not timestamp.isdigit():
            raise authentication_failed(
                f"{TIMESTAMP_HEADER} must be epoch milliseconds, not {timestamp[:32]!r}"
            )
        skew_ms = int(timestamp) - int(self._clock() * 1000)
        if abs(skew_ms) >= MAX_CLOCK_SKEW_MS:
            raise authentication_failed(
                f"timestamp is {abs(skew_ms) / 1000:.0f} s "
                f"{'ahead of' if skew_ms > 0 else 'behind'} the gateway's clock; "
                "the limit is 5 minutes"
            )

    @staticmethod
    def _sign(signer: hmac.HMAC, message: str) -> bytes:
        mac = signer.copy()
        mac.update(message.encode())
        return base64.b64encode(mac.digest())
