"""The package's public surface: honest ``__all__`` lists and documented modules."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import kms_toolkit


def export_order(name: str) -> tuple[int, str]:
    """Ruff's order for ``__all__``: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


def all_modules() -> list[ModuleType]:
    """Every module of the hand-written package, imported."""
    names = [kms_toolkit.__name__]
    names += [
        info.name
        for info in pkgutil.walk_packages(
            kms_toolkit.__path__, prefix=f"{kms_toolkit.__name__}."
        )
    ]
    return [importlib.import_module(name) for name in sorted(names)]


@pytest.mark.parametrize("module", all_modules(), ids=lambda module: module.__name__)
def test_module_has_a_docstring(module: ModuleType) -> None:
    """Every module says what it is for in its first line."""
    assert module.__doc__, f"{module.__name__} has no docstring"
    assert module.__doc__.strip().splitlines()[0].endswith(".")


@pytest.mark.parametrize("module", all_modules(), ids=lambda module: module.__name__)
def test_dunder_all_is_sorted_and_resolves(module: ModuleType) -> None:
    """Where a module declares ``__all__``, it is ordered and every name exists."""
    exported = getattr(module, "__all__", None)
    if exported is None:
        pytest.skip(f"{module.__name__} declares no __all__")
    assert list(exported) == sorted(exported, key=export_order)
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []


def test_package_exports_its_public_entry_points() -> None:
    """The top-level package re-exports the names a notebook user reaches for."""
    for name in ("KmsClient", "AsyncKmsClient", "Credentials", "KeyVersionChange"):
        assert name in kms_toolkit.__all__
