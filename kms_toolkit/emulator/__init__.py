"""A local emulator of NCP KMS: signature checks, KMS rules, injected trouble.

It is a real HTTP server on loopback (``serve``/``start``), the same in a
process of its own (``spawn``), or an in-process ASGI app (``build_app``) for
fast tests with ``httpx.ASGITransport``. Where
NCP's behaviour is undocumented, the emulator's choice is marked ``NOTE:`` in
the code and listed in ``docs/emulator.md``.

Example:
    >>> from kms_toolkit.emulator import serve
    >>> with serve(dataset="demo") as emulator:
    ...     emulator.state.count_disabled_versions(enabled_keys_only=True)
"""

from __future__ import annotations

from kms_toolkit.emulator.app import ConnectionDropped, EmulatorApp
from kms_toolkit.emulator.counters import Counters
from kms_toolkit.emulator.datasets import DATASETS, build_state
from kms_toolkit.emulator.errors import EmulatorError, GatewayError, ServiceError
from kms_toolkit.emulator.faults import Fault, FaultRule, InjectionSettings, Injector
from kms_toolkit.emulator.gateway import Gateway, generate_credentials
from kms_toolkit.emulator.process import EmulatorProcess, spawn
from kms_toolkit.emulator.server import RunningEmulator, build_app, serve, start
from kms_toolkit.emulator.state import KeyStatus, KmsState, VersionStatus

__all__ = [
    "DATASETS",
    "ConnectionDropped",
    "Counters",
    "EmulatorApp",
    "EmulatorError",
    "EmulatorProcess",
    "Fault",
    "FaultRule",
    "Gateway",
    "GatewayError",
    "InjectionSettings",
    "Injector",
    "KeyStatus",
    "KmsState",
    "RunningEmulator",
    "ServiceError",
    "VersionStatus",
    "build_app",
    "build_state",
    "generate_credentials",
    "serve",
    "spawn",
    "start",
]
