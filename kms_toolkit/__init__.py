"""ncp-kms-toolkit: enable NCP KMS key versions, one or thousands at a time."""

from __future__ import annotations

import logging

from kms_toolkit.auth import SignatureV2
from kms_toolkit.credentials import Credentials
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
    "Credentials",
    "KeyInfo",
    "KeyPage",
    "KeyStatus",
    "KeySummary",
    "KeyVersion",
    "KeyVersionChange",
    "KeyVersionList",
    "KeyVersionStatus",
    "SignatureV2",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
