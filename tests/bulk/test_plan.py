"""Planning against the demo emulator: what is proposed, what is skipped, filters."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kms_toolkit.bulk import load_targets, plan_remediation
from kms_toolkit.bulk.plan import PLAN_COLUMNS
from kms_toolkit.client import AsyncKmsClient
from kms_toolkit.emulator import serve
from kms_toolkit.emulator.server import RunningEmulator
from kms_toolkit.errors import InvalidInputError, InvalidKeyTagError


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """The demo emulator, always stopped."""
    with serve(dataset="demo") as running:
        yield running


@pytest.fixture
async def kms(emulator: RunningEmulator) -> AsyncIterator[AsyncKmsClient]:
    """A client of the demo emulator, always closed."""
    async with AsyncKmsClient(emulator.credentials, endpoint=emulator.url) as client:
        yield client


def tag_of(emulator: RunningEmulator, name: str) -> str:
    return next(
        key.key_tag
        for key in emulator.state.list_keys(1, 100).keys
        if key.key_name == name
    )


async def test_plan_proposes_disabled_versions_of_enabled_keys(
    kms: AsyncKmsClient, emulator: RunningEmulator
) -> None:
    """Every disabled version of an enabled key is 'enable'; the rest say why not."""
    plan = await plan_remediation(kms)

    proposed = set(
        zip(plan.to_enable["key_tag"], plan.to_enable["version"], strict=True)
    )
    assert proposed == set(emulator.state.disabled_versions(enabled_keys_only=True))
    reasons = set(plan.skipped["reason"])
    assert "already enabled" in reasons
    assert any(reason.startswith("key is DISABLE") for reason in reasons)
    assert any(reason.startswith("key is REVOKE") for reason in reasons)
    assert {
        name: str(dtype) for name, dtype in plan.frame.dtypes.items()
    } == PLAN_COLUMNS


async def test_plan_rows_feed_a_run(kms: AsyncKmsClient) -> None:
    """to_enable is accepted by load_targets as it is."""
    plan = await plan_remediation(kms)

    assert len(load_targets(plan.to_enable).targets) == len(plan.to_enable) == 8


async def test_name_pattern_is_a_glob_or_a_regex(kms: AsyncKmsClient) -> None:
    """'payments-*' and 're:^pay' pick the same key; a compiled regex works too."""
    by_glob = await plan_remediation(kms, name_pattern="payments-*")
    by_regex = await plan_remediation(kms, name_pattern="re:^pay")
    compiled = await plan_remediation(kms, name_pattern=re.compile("db$"))

    assert set(by_glob.frame["key_name"]) == {"payments-db"}
    assert by_regex.frame.equals(by_glob.frame)
    assert set(compiled.frame["key_name"]) == {"payments-db"}


async def test_key_type_filter(kms: AsyncKmsClient) -> None:
    """key_types keeps only keys of those types, case-insensitively."""
    plan = await plan_remediation(kms, key_types=["rsa2048"])

    assert set(plan.frame["key_type"]) == {"RSA2048"}


async def test_named_keys_are_read_one_by_one(
    kms: AsyncKmsClient, emulator: RunningEmulator
) -> None:
    """key_tags reads only those keys; an unknown one is a skipped row."""
    tag = tag_of(emulator, "customer-pii")
    missing = "a" * 52

    plan = await plan_remediation(kms, key_tags=[tag, missing])

    assert set(plan.to_enable["key_tag"]) == {tag}
    assert plan.skipped.set_index("key_tag").loc[missing, "reason"] == "no such key"
    assert emulator.counters.requests(operation="getKeyList") == 0


async def test_bad_filters_are_refused_before_any_request(
    kms: AsyncKmsClient, emulator: RunningEmulator
) -> None:
    """A bad tag, a broken regex or a zero concurrency: nothing is sent."""
    with pytest.raises(InvalidKeyTagError, match="contains '/'"):
        await plan_remediation(kms, key_tags=["a/b"])
    with pytest.raises(InvalidInputError, match="not a valid regular expression"):
        await plan_remediation(kms, name_pattern="re:(")
    with pytest.raises(InvalidInputError, match="concurrency must be 1 or more"):
        await plan_remediation(kms, concurrency=0)
    assert emulator.counters.requests() == 0


@pytest.mark.parametrize("rate_limit", [-1, 0, 0.0, math.nan, math.inf, True, "5"])
async def test_bad_rate_limits_are_refused_before_any_request(
    kms: AsyncKmsClient, emulator: RunningEmulator, rate_limit: object
) -> None:
    """A pace that is not a positive, finite number is bad input, not a crash."""
    with pytest.raises(
        InvalidInputError, match="rate_limit must be a positive, finite"
    ):
        await plan_remediation(kms, rate_limit=rate_limit)  # type: ignore[arg-type]

    assert emulator.counters.requests() == 0


async def test_the_whole_plan_loads_as_its_enable_rows(
    kms: AsyncKmsClient, tmp_path: Path
) -> None:
    """plan.frame and its CSV give to_enable's targets; the skips are counted."""
    plan = await plan_remediation(kms)
    path = tmp_path / "plan.csv"
    plan.frame.to_csv(path, index=False)
    wanted = load_targets(plan.to_enable).targets
    reasons = plan.skipped["reason"].value_counts()

    for source in (plan.frame, path):
        targets = load_targets(source)
        assert targets.targets == wanted
        assert targets.rejected == ()
        assert dict(targets.left_out) == {
            f"skip: {reason}": count for reason, count in reasons.items()
        }
