"""The notebook experience: rich display, a one-call connection, a remediation panel.

Names load on first use, so rendering a result (``_repr_html_``) does not
import the widgets or the bulk engine.

Example:
    >>> from kms_toolkit.notebook import connect, remediation_panel
    >>> kms = connect()  # doctest: +SKIP
    >>> remediation_panel(kms)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kms_toolkit.notebook.connection import Connection, connect
    from kms_toolkit.notebook.panel import RemediationPanel, remediation_panel
    from kms_toolkit.notebook.remediation_session import (
        RemediationSession,
        RunOptions,
    )

__all__ = [
    "Connection",
    "RemediationPanel",
    "RemediationSession",
    "RunOptions",
    "connect",
    "remediation_panel",
]

_HOMES = {
    "Connection": "connection",
    "connect": "connection",
    "RemediationPanel": "panel",
    "remediation_panel": "panel",
    "RemediationSession": "remediation_session",
    "RunOptions": "remediation_session",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_HOMES[name]}")
    return getattr(module, name)
