"""The bulk package's public names."""

from __future__ import annotations

import pytest

import kms_toolkit.bulk as bulk


def isort_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions, each alphabetical (ruff's RUF022)."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_sorted_and_every_name_resolves() -> None:
    """__all__ is sorted and each name in it can be imported."""
    assert bulk.__all__ == sorted(bulk.__all__, key=isort_order)
    assert all(getattr(bulk, name) is not None for name in bulk.__all__)


def test_unknown_names_raise_attribute_error() -> None:
    """The lazy loader does not invent names."""
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        bulk.no_such_name  # type: ignore[attr-defined]  # noqa: B018
