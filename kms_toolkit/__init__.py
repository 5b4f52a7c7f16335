"""ncp-kms-toolkit: enable NCP KMS key versions, one or thousands at a time.

Example:
    >>> from kms_toolkit import KmsClient
    >>> with KmsClient() as kms:  # doctest: +SKIP
    ...     kms.enable_key_version("my-key-tag", 3)

Bulk work lives in ``kms_toolkit.bulk``, the local emulator in
``kms_toolkit.emulator`` and the notebook panel in ``kms_toolkit.notebook``.
"""

from __future__ import annotations

import logging

from kms_toolkit.auth import SignatureV2
from kms_toolkit.client import AsyncKmsClient, KmsClient
from kms_toolkit.credentials import Credentials, resolve_credentials
from kms_toolkit.errors import KmsToolkitError
from kms_toolkit.models import (
    KeyInfo,
    KeyPage,
    KeyStatus,
    KeySummary,
    KeyVersion,
    KeyVersionChange,
    KeyVersionList,
    KeyVersionStatus,
)

__all__ = [
    "AsyncKmsClient",
    "Credentials",
    "KeyInfo",
    "KeyPage",
    "KeyStatus",
    "KeySummary",
    "KeyVersion",
    "KeyVersionChange",
    "KeyVersionList",
    "KeyVersionStatus",
    "KmsClient",
    "KmsToolkitError",
    "SignatureV2",
    "resolve_credentials",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
