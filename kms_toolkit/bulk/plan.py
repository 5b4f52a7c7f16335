"""Find what needs enabling: every disabled version of every enabled key.

Keys come from the key list (all pages, fetched concurrently after the
first) or, when ``key_tags`` is given, from one key-info read per tag. Each
enabled key's version list is then read through a worker pool, under the
same adaptive rate limit and retry policy as a run. Keys whose status is
``DISABLE`` or ``REVOKE`` are listed as skipped: NCP refuses to enable their
versions, so their versions are not even read.

``name_pattern`` matches the key *name*: a shell-style glob (``fnmatch``,
case-sensitive, e.g. ``"payments-*"``) by default; a compiled ``re.Pattern``
or a string starting with ``re:`` is a regular expression searched anywhere
in the name (``"re:^(pay|bill)"``).
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import pandas as pd

from kms_toolkit.bulk.pool import run_pool
from kms_toolkit.bulk.ratecontrol import AdaptiveRateLimiter
from kms_toolkit.bulk.retry import RetryPolicy
from kms_toolkit.bulk.targets import TargetSet, load_targets
from kms_toolkit.errors import (
    AuthenticationError,
    InvalidInputError,
    KmsToolkitError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
)
from kms_toolkit.models import (
    KeyInfo,
    KeyPage,
    KeyStatus,
    KeySummary,
    KeyVersionList,
    KeyVersionStatus,
)
from kms_toolkit.validation import validate_key_tag

__all__ = ["PLAN_COLUMNS", "PlanningClient", "RemediationPlan", "plan_remediation"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: The columns of ``RemediationPlan.frame``, in order, with their dtypes.
PLAN_COLUMNS: Final = {
    "key_tag": "string",
    "key_name": "string",
    "key_type": "string",
    "key_status": "category",
    "version": "Int64",
    "version_status": "category",
    "action": "category",
    "reason": "string",
}
ACTIONS: Final = ["enable", "skip"]
PAGE_SIZE: Final = 100

# Failures that make the whole plan meaningless rather than one key's row.
_FATAL: Final = (AuthenticationError, PermissionDeniedError)


class PlanningClient(Protocol):
    """What planning needs from a client; ``AsyncKmsClient`` is one."""

    async def list_keys(self, page_no: int = 1, page_size: int = 100) -> KeyPage:
        """One page of the key list."""

    async def get_key(self, key_tag: str) -> KeyInfo:
        """One key."""

    async def list_key_versions(self, key_tag: str) -> KeyVersionList:
        """A key's versions."""


@dataclass(frozen=True, slots=True)
class RemediationPlan:
    """The proposed changes: one row per version (or per skipped key).

    ``frame`` has the ``PLAN_COLUMNS``; ``action`` is ``enable`` for each
    disabled version of an enabled key and ``skip`` for the rest, with the
    reason. Edit ``to_enable`` (drop rows) and hand it to ``enable_versions``.

    Example:
        >>> plan = await plan_remediation(client)  # doctest: +SKIP
        >>> result = await enable_versions(client, plan.to_enable)  # doctest: +SKIP
    """

    frame: pd.DataFrame

    @property
    def to_enable(self) -> pd.DataFrame:
        """The rows to enable: a copy, safe to edit, accepted by ``load_targets``."""
        return self.frame[self.frame["action"] == "enable"].reset_index(drop=True)

    @property
    def skipped(self) -> pd.DataFrame:
        """The rows left alone, each with its reason."""
        return self.frame[self.frame["action"] == "skip"].reset_index(drop=True)

    def targets(self) -> TargetSet:
        """``to_enable`` as validated targets."""
        return load_targets(self.to_enable)

    def _repr_html_(self) -> str:
        from kms_toolkit.notebook.display import plan_html

        return plan_html(self)


async def plan_remediation(
    client: PlanningClient,
    *,
    key_tags: Iterable[str] | None = None,
    name_pattern: str | re.Pattern[str] | None = None,
    key_types: Iterable[str] | None = None,
    concurrency: int = 16,
    rate_limit: float | AdaptiveRateLimiter | None = None,
    max_attempts: int = 5,
    retry_policy: RetryPolicy | None = None,
) -> RemediationPlan:
    """Read the account's keys and versions and propose what to enable.

    Args:
        client: an ``AsyncKmsClient``.
        key_tags: only these keys (read one by one instead of listing all).
        name_pattern: only keys whose name matches (see the module docstring).
        key_types: only keys of these types, e.g. ``["AES256"]``.
        concurrency: reads in flight at most.
        rate_limit: reads per second to start from and never exceed.

    Raises:
        InvalidInputError: a bad key tag, pattern or option, before any request.
        AuthenticationError, PermissionDeniedError: the account cannot be read.

    Example:
        >>> plan = await plan_remediation(kms, name_pattern="pay*")  # doctest: +SKIP
        >>> plan.to_enable[["key_tag", "version"]]  # doctest: +SKIP
    """
    tags = None if key_tags is None else [validate_key_tag(t) for t in key_tags]
    matches_name = _name_matcher(name_pattern)
    types = None if key_types is None else {str(t).upper() for t in key_types}
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or concurrency < 1
    ):
        raise InvalidInputError(f"concurrency must be 1 or more, not {concurrency!r}")
    reader = _Reader(
        client, concurrency, rate_limit, retry_policy or RetryPolicy(max_attempts)
    )
    keys, rows = await (
        reader.keys_by_tag(tags) if tags is not None else reader.all_keys()
    )
    chosen = [
        key
        for key in keys
        if matches_name(key.key_name)
        and (types is None or (key.key_type or "").upper() in types)
    ]
    rows.extend(await reader.version_rows(chosen))
    return RemediationPlan(_plan_frame(rows))


class _Reader:
    """Reads keys and versions through one limiter, one retry policy, one pool."""

    def __init__(
        self,
        client: PlanningClient,
        concurrency: int,
        rate_limit: float | AdaptiveRateLimiter | None,
        policy: RetryPolicy,
    ) -> None:
        self._client = client
        self._concurrency = concurrency
        self._limiter = (
            rate_limit
            if isinstance(rate_limit, AdaptiveRateLimiter)
            else AdaptiveRateLimiter(rate_limit)
        )
        self._policy = policy

    async def all_keys(self) -> tuple[list[KeySummary], list[dict[str, Any]]]:
        """Every key of the account: page 1 first, then the rest concurrently."""
        first = await self._call(self._client.list_keys, 1, PAGE_SIZE)
        pages: dict[int, KeyPage] = {1: first}

        async def read_page(page_no: int) -> None:
            pages[page_no] = await self._call(
                self._client.list_keys, page_no, PAGE_SIZE
            )

        await self._pool(range(2, first.total_pages + 1), read_page)
        keys = [key for number in sorted(pages) for key in pages[number].keys]
        return keys, []

    async def keys_by_tag(
        self, tags: list[str]
    ) -> tuple[list[KeySummary], list[dict[str, Any]]]:
        """The named keys, one read each; missing ones become skipped rows."""
        found: dict[str, KeySummary] = {}
        rows: list[dict[str, Any]] = []

        async def read_key(tag: str) -> None:
            try:
                info = await self._call(self._client.get_key, tag)
            except NotFoundError:
                rows.append(_row(tag, None, None, None, reason="no such key"))
                return
            found[tag] = _summary_of(info)

        await self._pool(dict.fromkeys(tags), read_key)
        return [found[tag] for tag in dict.fromkeys(tags) if tag in found], rows

    async def version_rows(self, keys: list[KeySummary]) -> list[dict[str, Any]]:
        """One row per version of each enabled key; one skip row per other key."""
        rows: dict[str, list[dict[str, Any]]] = {}

        async def read_versions(key: KeySummary) -> None:
            if key.status is not KeyStatus.ENABLE:
                reason = (
                    f"key is {key.status}: NCP does not enable versions of such keys"
                )
                rows[key.key_tag] = [_row(key.key_tag, key, None, None, reason=reason)]
                return
            try:
                listing = await self._call(self._client.list_key_versions, key.key_tag)
            except _FATAL:
                raise
            except KmsToolkitError as error:
                reason = f"could not read its versions: {error}"
                rows[key.key_tag] = [_row(key.key_tag, key, None, None, reason=reason)]
                return
            rows[key.key_tag] = [
                _row(key.key_tag, key, item.version, item.status)
                for item in listing.versions
            ]

        await self._pool(keys, read_versions)
        return [row for key in keys for row in rows.get(key.key_tag, [])]

    async def _pool(
        self, items: Iterable[Any], work: Callable[[Any], Awaitable[None]]
    ) -> None:
        await run_pool(items, work, concurrency=self._concurrency)

    async def _call(self, method: Callable[..., Awaitable[T]], *args: Any) -> T:
        """One read under the rate limit, retried when the failure allows."""
        limiter = self._limiter

        async def attempt() -> T:
            asked_at = await limiter.acquire()
            try:
                result = await method(*args)
            except ThrottledError:
                limiter.on_throttled(asked_at)
                raise
            limiter.on_success()
            return result

        result, _ = await self._policy.call(attempt)
        return result


def _name_matcher(
    pattern: str | re.Pattern[str] | None,
) -> Callable[[str | None], bool]:
    """A predicate on key names for a glob, an ``re:`` string or a compiled regex."""
    if pattern is None:
        return lambda name: True
    if isinstance(pattern, str) and not pattern.startswith("re:"):
        compiled = re.compile(fnmatch.translate(pattern))
        return lambda name: name is not None and compiled.match(name) is not None
    try:
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern[3:])
    except re.error as error:
        raise InvalidInputError(
            f"name_pattern {pattern!r} is not a valid regular expression: {error}"
        ) from None
    return lambda name: name is not None and regex.search(name) is not None


def _summary_of(info: KeyInfo) -> KeySummary:
    return KeySummary(
        key_tag=info.key_tag,
        status=info.status,
        key_id=info.key_id,
        key_name=info.key_name,
        key_type=info.key_type,
        protection_type=info.protection_type,
    )


def _row(
    key_tag: str,
    key: KeySummary | None,
    version: int | None,
    status: KeyVersionStatus | None,
    *,
    reason: str | None = None,
) -> dict[str, Any]:
    """One plan row; the action follows from the version's status."""
    action = (
        "enable" if status is KeyVersionStatus.DISABLE and reason is None else "skip"
    )
    if reason is None:
        reason = "version is disabled" if action == "enable" else "already enabled"
    return {
        "key_tag": key_tag,
        "key_name": key.key_name if key else None,
        "key_type": key.key_type if key else None,
        "key_status": key.status.value if key else None,
        "version": version,
        "version_status": status.value if status else None,
        "action": action,
        "reason": reason,
    }


def _plan_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The plan rows with the ``PLAN_COLUMNS`` dtypes (plans are small)."""
    frame = pd.DataFrame(rows, columns=list(PLAN_COLUMNS))
    frame = frame.astype(
        {name: dtype for name, dtype in PLAN_COLUMNS.items() if dtype != "category"}
    )
    frame["key_status"] = pd.Categorical(
        frame["key_status"], categories=[s.value for s in KeyStatus]
    )
    frame["version_status"] = pd.Categorical(
        frame["version_status"], categories=[s.value for s in KeyVersionStatus]
    )
    frame["action"] = pd.Categorical(frame["action"], categories=ACTIONS)
    return frame
