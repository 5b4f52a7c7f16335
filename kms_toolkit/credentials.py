"""NCP API credentials: an access key id and its secret key.

The secret is masked on the object itself: ``repr``, ``str`` and equality
never show it, so it cannot leak through a log line, a traceback or a notebook
output by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Credentials"]

MASK = "****"


@dataclass(frozen=True, slots=True)
class Credentials:
    """An access key id and its secret key, plus where they were found.

    Example:
        >>> Credentials("AK", "very-secret")
        Credentials(access_key='AK', secret_key='****', source='explicit')
    """

    access_key: str
    secret_key: str = field(repr=False)
    source: str = "explicit"

    def __repr__(self) -> str:
        return (
            f"Credentials(access_key={self.access_key!r}, secret_key={MASK!r}, "
            f"source={self.source!r})"
        )

    __str__ = __repr__
