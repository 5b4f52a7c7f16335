"""One call that gives a notebook a KMS client: the real NCP, or a local emulator.

``connect()`` picks, in this order:

1. ``KMS_TOOLKIT_ENDPOINT`` in the environment: that endpoint (an emulator a
   test or a colleague started), with credentials found the usual way (a
   ``profile`` named in the call still picks that profile of the file);
2. NCP credentials in the environment (``NCLOUD_ACCESS_KEY_ID`` ...) or in
   ``~/.ncloud/configure``: the real NCP KMS;
3. nothing configured: a local emulator seeded with the ``demo`` data set.

It says which in one visible line; the secret key is never shown.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kms_toolkit.client import AsyncKmsClient, KmsClient, resolve_base_url
from kms_toolkit.credentials import (
    ACCESS_KEY_VARIABLES,
    SECRET_KEY_VARIABLES,
    Credentials,
    resolve_credentials,
)
from kms_toolkit.errors import CredentialsError

__all__ = ["ENDPOINT_VARIABLE", "Connection", "connect"]

logger = logging.getLogger(__name__)

#: Names a KMS endpoint to use instead of NCP's (a local emulator, for example).
ENDPOINT_VARIABLE = "KMS_TOOLKIT_ENDPOINT"

DEFAULT_CONFIGURE_FILE = Path("~/.ncloud/configure")


@dataclass
class Connection:
    """A sync and an async client to one KMS, and the emulator behind it if any.

    Attributes:
        client: a ``KmsClient`` for plain calls in cells.
        async_client: an ``AsyncKmsClient`` for bulk runs and the panel.
        emulator: the local emulator this connection started, else None.
        description: the line ``connect()`` showed: where, and which key.
    """

    client: KmsClient
    async_client: AsyncKmsClient
    description: str
    emulator: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Connection({self.description})"

    def _repr_html_(self) -> str:
        return f"<div>🔑 {html.escape(self.description)}</div>"

    async def aclose(self) -> None:
        """Close both clients and stop the emulator this connection started."""
        await self.async_client.aclose()
        self.close()

    def close(self) -> None:
        """Close the sync client and stop the emulator (the async one: ``aclose``)."""
        self.client.close()
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None


def connect(
    *,
    site: str = "public",
    profile: str | None = None,
    dataset: str = "demo",
    environ: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    announce: Callable[[str], None] = print,
) -> Connection:
    """Connect to NCP KMS when credentials are configured, else to a local emulator.

    Example:
        >>> kms = connect()  # doctest: +SKIP
        Using a local KMS emulator at http://127.0.0.1:8765/kms/v1 (demo data set) ...
        >>> kms.client.list_keys().total_count  # doctest: +SKIP
        8
    """
    environ = os.environ if environ is None else environ
    config_path = (config_path or DEFAULT_CONFIGURE_FILE).expanduser()
    endpoint = environ.get(ENDPOINT_VARIABLE)
    if endpoint:
        # A profile named in the call is a deliberate choice: honour it here too
        # rather than quietly sign with the environment's pair.
        credentials = resolve_credentials(
            profile=profile, environ=environ, config_path=config_path
        )
        label = f"Using the KMS endpoint in {ENDPOINT_VARIABLE}:"
        connection = _connect_to(endpoint, credentials, label)
    elif _credentials_configured(environ, config_path):
        credentials = resolve_credentials(
            profile=profile, environ=environ, config_path=config_path
        )
        base_url = resolve_base_url(site)
        connection = _connect_to(base_url, credentials, "Using NCP KMS at")
    else:
        connection = _connect_to_emulator(dataset)
    announce(connection.description)
    return connection


def _credentials_configured(environ: Mapping[str, str], config_path: Path) -> bool:
    """True when any NCP credential is set up, complete or not.

    A half-configured account must fail loudly in ``resolve_credentials``
    rather than quietly fall back to the emulator.
    """
    # NOTE: any trace of configuration (one variable, or the file) means "real
    # NCP"; an incomplete one then fails in resolve_credentials. Quietly using
    # the emulator instead would make a typo look like a successful run.
    names = (*ACCESS_KEY_VARIABLES, *SECRET_KEY_VARIABLES)
    return any(environ.get(name) for name in names) or config_path.is_file()


def _connect_to(endpoint: str, credentials: Credentials, label: str) -> Connection:
    """Clients for a known endpoint, described without the secret."""
    client = KmsClient(credentials, endpoint=endpoint)
    async_client = AsyncKmsClient(credentials, endpoint=endpoint)
    shown_key = _masked_access_key(credentials.access_key)
    description = (
        f"{label} {client.base_url} (access key {shown_key} from {credentials.source})"
    )
    logger.info("%s", description)
    return Connection(client, async_client, description)


def _connect_to_emulator(dataset: str) -> Connection:
    """Start a local emulator with ``dataset`` and connect to it."""
    from kms_toolkit.emulator import start

    emulator = start(dataset=dataset)
    try:
        client = KmsClient(emulator.credentials, endpoint=emulator.url)
        async_client = AsyncKmsClient(emulator.credentials, endpoint=emulator.url)
    except (CredentialsError, ValueError):
        emulator.stop()
        raise
    description = (
        f"Using a local KMS emulator at {client.base_url} ({dataset} data set): "
        "no NCP credentials are configured, nothing leaves this machine"
    )
    return Connection(client, async_client, description, emulator=emulator)


def _masked_access_key(access_key: str) -> str:
    """The access key id's first four characters; enough to tell keys apart."""
    return access_key[:4] + "…" if len(access_key) > 4 else "…"
