"""The client facade: typed round trips, error mapping, validation, endpoints."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from kms_toolkit.client import SITES, AsyncKmsClient, KmsClient, resolve_base_url
from kms_toolkit.credentials import Credentials
from kms_toolkit.errors import (
    ApiError,
    AuthenticationError,
    EndpointError,
    InvalidInputError,
    InvalidKeyTagError,
    InvalidVersionError,
    KmsToolkitError,
    MalformedResponseError,
    NotFoundError,
    RequestTimeoutError,
    ThrottledError,
    TransportError,
    UnsuccessfulResponseError,
)
from kms_toolkit.models import (
    KeyInfo,
    KeyStatus,
    KeyVersion,
    KeyVersionList,
    KeyVersionStatus,
)
from tests.conftest import FROZEN_TIME, STATUS_DATE_MS, FakeNcp

Handler = Callable[[httpx.Request], httpx.Response]

STATUS_DATE = datetime(2024, 12, 6, 4, 49, 1, 703000, tzinfo=UTC)
REGISTER_MS = 1_700_000_000_000
REGISTER_DATE = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def success(data: Any, **beside: Any) -> dict[str, Any]:
    return {"code": "SUCCESS", "data": data, **beside}


def change_body(version: int = 3, status: str = "ENABLE") -> dict[str, Any]:
    return success({"version": version, "status": status, "statusDate": STATUS_DATE_MS})


def key_item(tag: str, status: str = "ENABLE") -> dict[str, Any]:
    return {
        "keyId": 11,
        "keyTag": tag,
        "keyName": f"name-{tag}",
        "keyType": "AES256",
        "status": status,
        "protectionType": "BASIC",
        "isConvergent": False,
        "registerDate": REGISTER_MS,
        "destroyDate": None,
    }


class Recorder:
    """A MockTransport handler that answers with ``respond`` and counts requests."""

    def __init__(self, respond: Handler) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    @property
    def targets(self) -> list[str]:
        return [f"{r.method} {r.url.raw_path.decode()}" for r in self.requests]


def answering(body: Any, status: int = 200, **kwargs: Any) -> Recorder:
    """A recorder that gives every request the same answer."""
    if isinstance(body, bytes | str):
        return Recorder(lambda _: httpx.Response(status, content=body, **kwargs))
    return Recorder(lambda _: httpx.Response(status, json=body, **kwargs))


def sync_client(recorder: Recorder, **kwargs: Any) -> KmsClient:
    return KmsClient(
        Credentials("AK", "SK"),
        transport=httpx.MockTransport(recorder),
        clock=lambda: FROZEN_TIME,
        **kwargs,
    )


def async_client(recorder: Recorder, **kwargs: Any) -> AsyncKmsClient:
    return AsyncKmsClient(
        Credentials("AK", "SK"),
        transport=httpx.MockTransport(recorder),
        clock=lambda: FROZEN_TIME,
        **kwargs,
    )


# Round trips.


def test_enable_returns_the_typed_change() -> None:
    """enable_key_version posts to the documented path and returns typed values."""
    recorder = answering(change_body(3))
    with sync_client(recorder) as kms:
        change = kms.enable_key_version("key-a", 3)

    assert recorder.targets == ["POST /kms/v1/keys/key-a/versions/3/enable"]
    assert change.key_tag == "key-a"
    assert change.version == 3
    assert change.status is KeyVersionStatus.ENABLE
    assert change.status_date == STATUS_DATE
    assert change.status_date.tzinfo is UTC


def test_disable_returns_the_typed_change() -> None:
    """disable_key_version posts to the disable path."""
    recorder = answering(change_body(2, "DISABLE"))
    with sync_client(recorder) as kms:
        change = kms.disable_key_version("key-a", 2)

    assert recorder.targets == ["POST /kms/v1/keys/key-a/versions/2/disable"]
    assert change.status is KeyVersionStatus.DISABLE


def test_list_keys_reads_key_list_and_paging_inside_data() -> None:
    """The documented layout: keyList and counters inside data."""
    body = success(
        {
            "keyList": [key_item("k1"), key_item("k2", "REVOKE")],
            "currentPageNo": 2,
            "totalPageNo": 3,
            "totalCount": 6,
        }
    )
    recorder = answering(body)
    with sync_client(recorder) as kms:
        page = kms.list_keys(page_no=2, page_size=2)

    assert recorder.targets == ["GET /kms/v1/keys?pageNo=2&pageSize=2"]
    assert (page.page_no, page.total_pages, page.total_count) == (2, 3, 6)
    assert [k.key_tag for k in page.keys] == ["k1", "k2"]
    first = page.keys[0]
    assert first.status is KeyStatus.ENABLE
    assert page.keys[1].status is KeyStatus.REVOKE
    assert (first.key_id, first.key_name, first.key_type) == (11, "name-k1", "AES256")
    assert (first.protection_type, first.is_convergent) == ("BASIC", False)
    assert first.register_date == REGISTER_DATE
    assert first.destroy_date is None


def test_list_keys_accepts_capitalised_key_list_and_paging_beside_data() -> None:
    """The other documented layout: KeyList, counters next to data."""
    body = success(
        {"KeyList": [key_item("k9")]}, currentPageNo=1, totalPageNo=1, totalCount=1
    )
    with sync_client(answering(body)) as kms:
        page = kms.list_keys()

    assert [k.key_tag for k in page.keys] == ["k9"]
    assert (page.page_no, page.total_pages, page.total_count) == (1, 1, 1)


def test_list_keys_derives_page_count_from_total_count() -> None:
    """Without totalPageNo the page count follows from totalCount and page size."""
    body = success({"keyList": [key_item("k1")], "totalCount": 5})
    with sync_client(answering(body)) as kms:
        page = kms.list_keys(page_no=1, page_size=2)

    assert (page.page_no, page.total_pages, page.total_count) == (1, 3, 5)


def test_list_keys_without_counters_takes_a_short_page_as_the_last() -> None:
    """With no counters at all, a page shorter than asked for ends the list."""
    body = success({"keyList": [key_item("k1")]})
    with sync_client(answering(body)) as kms:
        page = kms.list_keys(page_no=4, page_size=10)

    assert (page.page_no, page.total_pages, page.total_count) == (4, 4, 31)


def paged_keys(total: int) -> Recorder:
    """Answer key-list requests from ``total`` keys, honouring pageNo/pageSize."""

    def respond(request: httpx.Request) -> httpx.Response:
        page_no = int(request.url.params["pageNo"])
        size = int(request.url.params["pageSize"])
        tags = [f"k{i}" for i in range(total)][(page_no - 1) * size : page_no * size]
        body = success(
            {
                "keyList": [key_item(t) for t in tags],
                "currentPageNo": page_no,
                "totalPageNo": -(-total // size),
                "totalCount": total,
            }
        )
        return httpx.Response(200, json=body)

    return Recorder(respond)


def test_iter_keys_pages_through_everything() -> None:
    """iter_keys asks for each page once and yields every key in order."""
    recorder = paged_keys(5)
    with sync_client(recorder) as kms:
        tags = [key.key_tag for key in kms.iter_keys(page_size=2)]

    assert tags == ["k0", "k1", "k2", "k3", "k4"]
    assert recorder.targets == [
        "GET /kms/v1/keys?pageNo=1&pageSize=2",
        "GET /kms/v1/keys?pageNo=2&pageSize=2",
        "GET /kms/v1/keys?pageNo=3&pageSize=2",
    ]


async def test_async_iter_keys_pages_through_everything() -> None:
    """The async iterator does the same."""
    recorder = paged_keys(3)
    async with async_client(recorder) as kms:
        tags = [key.key_tag async for key in kms.iter_keys(page_size=2)]

    assert tags == ["k0", "k1", "k2"]
    assert len(recorder.requests) == 2


def test_iter_keys_stops_on_an_empty_page() -> None:
    """An empty page ends the iteration even if the counters promise more."""
    body = success({"keyList": [], "currentPageNo": 1, "totalPageNo": 9})
    recorder = answering({**body, "totalCount": 90})
    with sync_client(recorder) as kms:
        keys = list(kms.iter_keys())

    assert keys == []
    assert len(recorder.requests) == 1


KEY_INFO_BODY = success(
    {
        "keyId": 4,
        "keyTag": "key-a",
        "keyName": "payments",
        "nrn": "nrn:PUB:KMS::1:Key/4",
        "baseUrl": "https://ocapi.ncloud.com/kms/v1/keys/key-a",
        "keyType": "AES256",
        "status": "ENABLE",
        "keystoreId": "ks-1",
        "currentVersion": 5,
        "protectionType": "COMMON_HSM",
        "registerDate": REGISTER_MS,
    }
)

VERSIONS_BODY = success(
    {
        "keyTag": "key-a",
        "currentVersion": 2,
        "versionList": [
            {"version": 1, "status": "DISABLE", "statusDate": STATUS_DATE_MS},
            {
                "version": 2,
                "status": "ENABLE",
                "statusDate": REGISTER_MS,
                "rotatedDate": REGISTER_MS,
            },
        ],
    }
)


def test_get_key_returns_key_info() -> None:
    """get_key reads one key in full."""
    recorder = answering(KEY_INFO_BODY)
    with sync_client(recorder) as kms:
        info = kms.get_key("key-a")

    assert recorder.targets == ["GET /kms/v1/keys/key-a"]
    assert info == KeyInfo(
        key_tag="key-a",
        status=KeyStatus.ENABLE,
        key_id=4,
        key_name="payments",
        key_type="AES256",
        protection_type="COMMON_HSM",
        current_version=5,
        keystore_id="ks-1",
        nrn="nrn:PUB:KMS::1:Key/4",
        register_date=REGISTER_DATE,
    )


def test_list_key_versions_returns_every_version() -> None:
    """list_key_versions reads each version's status and dates."""
    recorder = answering(VERSIONS_BODY)
    with sync_client(recorder) as kms:
        versions = kms.list_key_versions("key-a")

    assert recorder.targets == ["GET /kms/v1/keys/key-a/versions"]
    assert versions == KeyVersionList(
        key_tag="key-a",
        current_version=2,
        versions=(
            KeyVersion(1, KeyVersionStatus.DISABLE, STATUS_DATE, None),
            KeyVersion(2, KeyVersionStatus.ENABLE, REGISTER_DATE, REGISTER_DATE),
        ),
    )


async def test_async_operations_round_trip() -> None:
    """Every async operation returns the same typed values as the sync one."""

    def respond(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/enable") or path.endswith("/disable"):
            status = "ENABLE" if path.endswith("/enable") else "DISABLE"
            return httpx.Response(200, json=change_body(3, status))
        if path.endswith("/versions"):
            return httpx.Response(200, json=VERSIONS_BODY)
        if path.endswith("/keys"):
            return httpx.Response(200, json=success({"keyList": [key_item("k1")]}))
        return httpx.Response(200, json=KEY_INFO_BODY)

    async with async_client(Recorder(respond)) as kms:
        enabled = await kms.enable_key_version("key-a", 3)
        disabled = await kms.disable_key_version("key-a", 3)
        page = await kms.list_keys()
        info = await kms.get_key("key-a")
        versions = await kms.list_key_versions("key-a")

    assert enabled.status is KeyVersionStatus.ENABLE
    assert disabled.status is KeyVersionStatus.DISABLE
    assert enabled.status_date == STATUS_DATE
    assert [k.key_tag for k in page.keys] == ["k1"]
    assert info.current_version == 5
    assert [v.version for v in versions.versions] == [1, 2]


# Error mapping.

OPERATIONS: dict[str, Callable[[KmsClient], object]] = {
    "enableKeyVersion": lambda kms: kms.enable_key_version("key-a", 1),
    "disableKeyVersion": lambda kms: kms.disable_key_version("key-a", 1),
    "getKeyList": lambda kms: kms.list_keys(),
    "getKeyInfo": lambda kms: kms.get_key("key-a"),
    "getKeyVersionList": lambda kms: kms.list_key_versions("key-a"),
}


def raised_by(operation: str, recorder: Recorder, **kwargs: Any) -> KmsToolkitError:
    """The error one operation raises against ``recorder``."""
    with (
        sync_client(recorder, **kwargs) as kms,
        pytest.raises(KmsToolkitError) as caught,
    ):
        OPERATIONS[operation](kms)
    return caught.value


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(
    ("status", "body", "error_class", "error_code"),
    [
        (
            401,
            {"error": {"errorCode": "200", "message": "x"}},
            AuthenticationError,
            "200",
        ),
        (404, {"error": {"errorCode": 300, "message": "x"}}, NotFoundError, "300"),
        (429, {"error": {"errorCode": "420", "message": "x"}}, ThrottledError, "420"),
        (503, b"<html>bad gateway</html>", EndpointError, None),
        (502, b"", EndpointError, None),
        (404, b"not json", NotFoundError, None),
    ],
)
def test_error_answers_map_to_the_error_tree(
    operation: str,
    status: int,
    body: Any,
    error_class: type[ApiError],
    error_code: str | None,
) -> None:
    """Each operation turns a non-2xx answer into its class, naming itself."""
    error = raised_by(operation, answering(body, status))

    assert type(error) is error_class
    assert isinstance(error, ApiError)
    assert error.status_code == status
    assert error.error_code == error_code
    assert error.operation == operation


def test_throttled_answer_carries_retry_after() -> None:
    """A 429 with Retry-After gives retry_after in seconds."""
    body = {"error": {"errorCode": "410", "message": "Throttle Limited"}}
    recorder = answering(body, 429, headers={"Retry-After": "3"})

    error = raised_by("enableKeyVersion", recorder)

    assert isinstance(error, ThrottledError)
    assert error.retry_after == 3.0
    assert error.retryable is True


@pytest.mark.parametrize("operation", OPERATIONS)
def test_non_success_code_is_an_unsuccessful_response(operation: str) -> None:
    """A 200 whose code is not SUCCESS is an error, with or without data."""
    body = {"code": "KMS_ERROR", "message": "key is disabled", "data": {}}

    error = raised_by(operation, answering(body))

    assert type(error) is UnsuccessfulResponseError
    assert error.error_code == "KMS_ERROR"
    assert "code 'KMS_ERROR' instead of SUCCESS: key is disabled" in str(error)
    assert error.operation == operation


def test_non_success_code_with_full_data_is_still_an_error() -> None:
    """A well-formed body with a failing code is not taken as a success."""
    body = {**change_body(), "code": "FAIL"}

    error = raised_by("enableKeyVersion", answering(body))

    assert type(error) is UnsuccessfulResponseError
    assert error.error_code == "FAIL"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_non_json_success_body_is_malformed(operation: str) -> None:
    """A 200 that is not JSON is a malformed response, body kept."""
    error = raised_by(operation, answering(b"<html>maintenance</html>"))

    assert type(error) is MalformedResponseError
    assert error.message == "the body is not JSON"
    assert error.raw_body == "<html>maintenance</html>"
    assert error.status_code == 200


@pytest.mark.parametrize(
    ("operation", "body", "wanted"),
    [
        (
            "enableKeyVersion",
            success({"version": 1, "status": "ENABLE"}),
            "'statusDate'",
        ),
        ("enableKeyVersion", {"code": "SUCCESS"}, "'data'"),
        ("getKeyList", success({"currentPageNo": 1}), "'keyList'"),
        ("getKeyInfo", success({"status": "ENABLE"}), "'keyTag'"),
        ("getKeyVersionList", success({"keyTag": "key-a"}), "'versionList'"),
    ],
)
def test_missing_fields_are_malformed(operation: str, body: Any, wanted: str) -> None:
    """A required field that is absent is named in the error."""
    error = raised_by(operation, answering(body))

    assert type(error) is MalformedResponseError
    assert error.message == f"the field {wanted} is missing"


@pytest.mark.parametrize(
    ("operation", "body", "wanted"),
    [
        ("enableKeyVersion", change_body(1, "ENABLED"), "'ENABLED'"),
        ("getKeyInfo", success({"keyTag": "k", "status": "DELETED"}), "'DELETED'"),
        (
            "enableKeyVersion",
            success({"version": 1, "status": "ENABLE", "statusDate": "today"}),
            "field 'statusDate' should be int, not str",
        ),
        (
            "enableKeyVersion",
            success({"version": True, "status": "ENABLE", "statusDate": 1}),
            "field 'version' should be int, not bool",
        ),
        ("enableKeyVersion", change_body(2), "the answer is for version 2, not 1"),
        ("getKeyList", success([1, 2]), "unexpected content"),
        ("getKeyList", [1, 2], "unexpected content"),
        ("getKeyList", [], "the field 'code' is missing"),
    ],
)
def test_unexpected_values_are_malformed(
    operation: str, body: Any, wanted: str
) -> None:
    """Unknown enum values, wrong types and mismatches are malformed bodies."""
    error = raised_by(operation, answering(body))

    assert type(error) is MalformedResponseError
    assert wanted in error.message
    assert isinstance(error.__cause__, KeyError | ValueError | TypeError)


def test_undocumented_success_status_is_malformed() -> None:
    """A 2xx other than the documented 200 is not taken as a result."""
    error = raised_by("enableKeyVersion", answering(change_body(1), 202))

    assert type(error) is MalformedResponseError
    assert error.status_code == 202


def raising(exc: Exception) -> Recorder:
    def respond(request: httpx.Request) -> httpx.Response:
        raise exc

    return Recorder(respond)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_timeout_is_a_request_timeout_error(operation: str) -> None:
    """httpx's timeouts become RequestTimeoutError, chained."""
    error = raised_by(operation, raising(httpx.ReadTimeout("slow")), timeout=2.5)

    assert type(error) is RequestTimeoutError
    assert isinstance(error.__cause__, httpx.ReadTimeout)
    assert error.operation == operation
    assert "within 2.5 s" in str(error)
    assert error.retryable is True


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.RemoteProtocolError("garbage")],
    ids=["connect", "protocol"],
)
def test_transport_failures_are_transport_errors(exc: Exception) -> None:
    """Connection and protocol failures become TransportError, not timeouts."""
    error = raised_by("getKeyInfo", raising(exc))

    assert type(error) is TransportError
    assert error.__cause__ is exc
    assert error.operation == "getKeyInfo"
    assert f"{type(exc).__name__}: " in str(error)


def test_fault_inside_the_transport_is_not_called_a_bad_body() -> None:
    """A ValueError raised before any answer arrives propagates unchanged."""
    fault = ValueError("transport bug")

    with (
        sync_client(raising(fault)) as kms,
        pytest.raises(ValueError, match="transport bug") as caught,
    ):
        kms.get_key("key-a")

    assert caught.value is fault


async def test_async_client_maps_errors_the_same_way() -> None:
    """The async client raises the same classes for the same answers."""
    cases: list[tuple[Recorder, type[KmsToolkitError]]] = [
        (answering({"error": {"errorCode": "300"}}, 404), NotFoundError),
        (answering(b"nope"), MalformedResponseError),
        (answering({"code": "FAIL"}), UnsuccessfulResponseError),
        (raising(httpx.ConnectTimeout("slow")), RequestTimeoutError),
        (raising(httpx.ConnectError("refused")), TransportError),
    ]
    for recorder, error_class in cases:
        async with async_client(recorder) as kms:
            with pytest.raises(error_class) as caught:
                await kms.enable_key_version("key-a", 1)
        assert type(caught.value) is error_class
        assert getattr(caught.value, "operation", None) == "enableKeyVersion"


async def test_concurrent_failures_keep_their_own_answers() -> None:
    """Two failing calls whose bodies arrive interleaved each see their own answer."""

    async def slow_body(text: bytes) -> AsyncIterator[bytes]:
        await asyncio.sleep(0)  # let the other call receive its answer meanwhile
        yield text

    async def respond(request: httpx.Request) -> httpx.Response:
        if "gone" in request.url.path:
            return httpx.Response(404, content=slow_body(b"gone"))
        return httpx.Response(200, content=slow_body(b"garbled"))

    transport = httpx.MockTransport(respond)
    async with AsyncKmsClient(Credentials("AK", "SK"), transport=transport) as kms:
        results = await asyncio.gather(
            kms.get_key("gone-key"), kms.get_key("odd-key"), return_exceptions=True
        )

    assert [type(r) for r in results] == [NotFoundError, MalformedResponseError]


def test_authentication_error_names_clock_skew_from_date_header() -> None:
    """A 401 whose Date is ten minutes ahead of the local clock blames the clock."""
    server_time = datetime.fromtimestamp(FROZEN_TIME + 600, tz=UTC)
    body = {"error": {"errorCode": "200", "message": "Authentication Failed"}}
    recorder = answering(
        body, 401, headers={"Date": format_datetime(server_time, True)}
    )

    error = raised_by("enableKeyVersion", recorder)

    assert isinstance(error, AuthenticationError)
    assert error.clock_skew_seconds == pytest.approx(600)
    assert "the local clock is 10 minutes behind the server's" in str(error)


def test_authentication_error_without_date_says_nothing_of_clocks() -> None:
    """Without a Date header, no skew is claimed."""
    body = {"error": {"errorCode": "200", "message": "Authentication Failed"}}

    error = raised_by("enableKeyVersion", answering(body, 401))

    assert isinstance(error, AuthenticationError)
    assert error.clock_skew_seconds is None
    assert "clock" not in str(error)


def test_cross_origin_redirect_is_refused_by_name() -> None:
    """A redirect to another host is not followed, and the error says so."""
    recorder = answering(
        b"", 307, headers={"Location": "https://elsewhere.example/kms/v1/keys/x"}
    )

    error = raised_by("getKeyInfo", recorder)

    assert type(error) is ApiError
    assert error.status_code == 307
    assert str(error) == (
        "getKeyInfo: HTTP 307: redirect to https://elsewhere.example/kms/v1/keys/x "
        "refused: it leaves https://ocapi.ncloud.com, and a signed request is only "
        "redirected within the same scheme, host and port"
    )
    assert "undocumented error body" not in str(error)
    assert len(recorder.requests) == 1


def test_endless_same_origin_redirects_stop_with_their_count() -> None:
    """Same-origin redirects are followed five times, then named in the error."""
    recorder = Recorder(
        lambda request: httpx.Response(
            302, headers={"Location": f"{request.url.path}x"}
        )
    )

    error = raised_by("getKeyInfo", recorder)

    assert type(error) is ApiError
    assert len(recorder.requests) == 6
    assert str(error) == (
        "getKeyInfo: HTTP 302: redirect to "
        "https://ocapi.ncloud.com/kms/v1/keys/key-axxxxxx refused: "
        "5 redirects in a row were already followed"
    )


async def test_async_cross_origin_redirect_is_refused_by_name() -> None:
    """The async client names the refused redirect too."""
    recorder = answering(
        b"", 308, headers={"Location": "http://127.0.0.2:1/kms/v1/keys/key-a"}
    )

    async with async_client(recorder) as kms:
        with pytest.raises(ApiError) as caught:
            await kms.get_key("key-a")

    assert "redirect to http://127.0.0.2:1/kms/v1/keys/key-a refused" in str(
        caught.value
    )
    assert len(recorder.requests) == 1


# Validation happens before anything is sent.


class LongTagClaimingToBeShort(str):
    """A key tag too long for NCP whose len() says otherwise."""

    def __len__(self) -> int:
        return 5


class VersionWithAgreeableComparisons(int):
    """A version outside 1-100 whose comparisons and str() say it is inside."""

    def __le__(self, other: object) -> bool:
        return True

    def __ge__(self, other: object) -> bool:
        return True

    def __str__(self) -> str:
        return "1"


class TagWithItsOwnStr(str):
    """A valid key tag whose str() is a path of its own."""

    def __str__(self) -> str:
        return "../../x?y=1"


class VersionWithItsOwnStr(int):
    """A valid version whose str() is text."""

    def __str__(self) -> str:
        return "1/../../x"


BAD_CALLS: dict[str, tuple[Callable[[Any], Any], type[InvalidInputError], str]] = {
    "tag-with-space": (
        lambda kms: kms.enable_key_version("bad tag", 1),
        InvalidKeyTagError,
        "contains ' '",
    ),
    "version-0": (
        lambda kms: kms.enable_key_version("key-a", 0),
        InvalidVersionError,
        "key version 0 is out of range",
    ),
    "version-bool": (
        lambda kms: kms.disable_key_version("key-a", True),
        InvalidVersionError,
        "not bool",
    ),
    "version-101": (
        lambda kms: kms.disable_key_version("key-a", 101),
        InvalidVersionError,
        "101",
    ),
    "page-0": (
        lambda kms: kms.list_keys(page_no=0),
        InvalidInputError,
        "page_no 0 is out of range: it runs 1 or more",
    ),
    "page-size-201": (
        lambda kms: kms.list_keys(page_size=201),
        InvalidInputError,
        "page_size 201 is out of range: it runs from 1 to 200",
    ),
    "page-size-float": (
        lambda kms: kms.list_keys(page_size=2.0),
        InvalidInputError,
        "page_size must be an integer, not float",
    ),
    "iter-page-size-0": (
        lambda kms: kms.iter_keys(page_size=0),
        InvalidInputError,
        "page_size 0 is out of range",
    ),
    "empty-tag": (lambda kms: kms.get_key(""), InvalidKeyTagError, "empty"),
    "slash-tag": (
        lambda kms: kms.list_key_versions("a/b"),
        InvalidKeyTagError,
        "contains '/'",
    ),
    "str-subclass-hiding-its-length": (
        lambda kms: kms.enable_key_version(LongTagClaimingToBeShort("x" * 200), 1),
        InvalidKeyTagError,
        "key tag is 200 characters long",
    ),
    "int-subclass-hiding-its-range": (
        lambda kms: kms.enable_key_version(
            "key-a", VersionWithAgreeableComparisons(500)
        ),
        InvalidVersionError,
        "key version 500 is out of range",
    ),
}


@pytest.mark.parametrize("case", BAD_CALLS)
def test_bad_input_raises_before_any_request(case: str) -> None:
    """Invalid arguments raise with the reason and send zero requests."""
    call, error_class, wanted = BAD_CALLS[case]
    recorder = answering(change_body())

    with sync_client(recorder) as kms, pytest.raises(error_class) as caught:
        call(kms)

    assert wanted in str(caught.value)
    assert recorder.requests == []


@pytest.mark.parametrize("case", BAD_CALLS)
async def test_async_bad_input_raises_before_any_request(case: str) -> None:
    """The async client refuses the same arguments, also with zero requests."""
    call, error_class, wanted = BAD_CALLS[case]
    recorder = answering(change_body())

    async def attempt(kms: AsyncKmsClient) -> None:
        # iter_keys refuses at the call; the other methods when awaited.
        result = call(kms)
        if asyncio.iscoroutine(result):
            await result

    async with async_client(recorder) as kms:
        with pytest.raises(error_class) as caught:
            await attempt(kms)

    assert wanted in str(caught.value)
    assert recorder.requests == []


def test_subclass_arguments_go_on_the_wire_as_their_values() -> None:
    """A str or int subclass's own str() never reaches the request path."""
    recorder = answering(change_body(3))

    with sync_client(recorder) as kms:
        kms.enable_key_version(TagWithItsOwnStr("key-a"), VersionWithItsOwnStr(3))
        with pytest.raises(KmsToolkitError):
            kms.get_key(TagWithItsOwnStr("key-a"))

    assert recorder.targets == [
        "POST /kms/v1/keys/key-a/versions/3/enable",
        "GET /kms/v1/keys/key-a",
    ]


async def test_async_subclass_arguments_go_on_the_wire_as_their_values() -> None:
    """The async client sends the values too, not the subclasses' str()."""
    recorder = answering(change_body(3))

    async with async_client(recorder) as kms:
        await kms.disable_key_version(
            TagWithItsOwnStr("key-a"), VersionWithItsOwnStr(3)
        )

    assert recorder.targets == ["POST /kms/v1/keys/key-a/versions/3/disable"]


@pytest.mark.parametrize(
    ("kwargs", "wanted"),
    [
        ({"timeout": 0}, "timeout must be above 0 seconds"),
        ({"timeout": "5"}, "timeout must be a number of seconds"),
        ({"site": "fin"}, "unknown site 'fin'; known sites: public, kr, jp, gov"),
    ],
)
def test_bad_client_settings_are_refused(kwargs: dict[str, Any], wanted: str) -> None:
    """Settings are checked when the client is made."""
    with pytest.raises(InvalidInputError) as caught:
        KmsClient(Credentials("AK", "SK"), **kwargs)

    assert wanted in str(caught.value)


def test_bad_max_connections_is_refused() -> None:
    """The async pool size must be a positive integer."""
    with pytest.raises(InvalidInputError) as caught:
        AsyncKmsClient(Credentials("AK", "SK"), max_connections=0)

    assert "max_connections must be 1 or more" in str(caught.value)


# Endpoints.


@pytest.mark.parametrize(("site", "url"), list(SITES.items()))
def test_sites_map_to_documented_base_urls(site: str, url: str) -> None:
    """Each site resolves to the base URL NCP documents."""
    assert resolve_base_url(site) == url
    assert url.startswith("https://")
    assert url.endswith("/kms/v1")


def test_public_site_is_the_default() -> None:
    """Without arguments the public site's URL is used."""
    with KmsClient(Credentials("AK", "SK")) as kms:
        assert kms.base_url == "https://ocapi.ncloud.com/kms/v1"


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8080/kms/v1",
        "http://127.5.6.7/kms/v1",
        "http://localhost:9000/kms/v1/",
        "http://[::1]:8080/kms/v1",
        "https://kms.example.com/kms/v1",
    ],
)
def test_endpoint_wins_over_site_and_loses_trailing_slash(endpoint: str) -> None:
    """An https endpoint, or plain http to loopback, is accepted as given."""
    assert resolve_base_url("jp", endpoint) == endpoint.rstrip("/")


@pytest.mark.parametrize(
    ("endpoint", "wanted"),
    [
        ("http://ocapi.ncloud.com/kms/v1", "plain http to a non-loopback host"),
        ("http://10.0.0.5:8080/kms/v1", "plain http to a non-loopback host"),
        ("http://localhost.evil.com/kms/v1", "plain http to a non-loopback host"),
        ("ftp://127.0.0.1/kms/v1", "not an http(s) URL with a host"),
        ("127.0.0.1:8080", "not an http(s) URL with a host"),
        ("https://h/kms/v1?x=1", "must not carry a query"),
        ("https://h/kms/v1?", "must not carry a query"),
        (
            "http://loc\talhost/kms/v1",
            "contains whitespace or control characters (U+0009)",
        ),
        (
            "http://127.0.0.1:8080/kms/v1 ",
            "contains whitespace or control characters (U+0020)",
        ),
        (
            "https://h/kms/v1\r\nX: y",
            "contains whitespace or control characters (U+000A, U+000D, U+0020)",
        ),
        (
            "http://127.0.0.1:99999/kms/v1",
            "has port 99999; ports run from 1 to 65535",
        ),
        ("http://127.0.0.1:0/kms/v1", "has port 0; ports run from 1 to 65535"),
        ("https://[::1/kms/v1", "is not a valid URL"),
        (42, "endpoint must be a string, not int"),
    ],
)
def test_unsafe_endpoints_are_refused(endpoint: str, wanted: str) -> None:
    """Plain http beyond loopback, other schemes and queries are refused."""
    with pytest.raises(InvalidInputError) as caught:
        resolve_base_url(endpoint=endpoint)

    assert wanted in str(caught.value)


def test_client_with_unsafe_endpoint_is_refused_before_credentials() -> None:
    """The endpoint is checked before credentials are looked for."""
    with pytest.raises(InvalidInputError):
        KmsClient(endpoint="http://example.com/kms/v1")


@pytest.mark.parametrize(
    ("endpoint", "normalised"),
    [
        ("HTTPS://KMS.Example.com/kms/v1/", "https://kms.example.com/kms/v1"),
        ("https://bücher.example/kms/v1", "https://xn--bcher-kva.example/kms/v1"),
        ("http://127.0.0.1:/kms/v1", "http://127.0.0.1/kms/v1"),
    ],
)
def test_endpoint_comes_back_as_httpx_will_send_to_it(
    endpoint: str, normalised: str
) -> None:
    """The base URL is httpx's reading of the endpoint, not the text given."""
    assert resolve_base_url(endpoint=endpoint) == normalised


@pytest.mark.parametrize(
    "endpoint", ["http://loc\talhost/kms/v1", "http://127.0.0.1:8080/kms/v1 "]
)
@pytest.mark.parametrize("client_class", [KmsClient, AsyncKmsClient])
def test_client_refuses_an_endpoint_httpx_would_read_otherwise(
    endpoint: str, client_class: type[KmsClient | AsyncKmsClient]
) -> None:
    """A client is never built for an endpoint httpx rejects or re-encodes."""
    recorder = answering(change_body())

    with pytest.raises(InvalidInputError) as caught:
        client_class(
            Credentials("AK", "SK"),
            endpoint=endpoint,
            transport=httpx.MockTransport(recorder),  # type: ignore[arg-type]
        )

    assert "contains whitespace or control characters" in str(caught.value)
    assert recorder.requests == []


# Logging.


def test_one_debug_line_per_request_without_headers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each request logs method, path, status and time, and no header."""
    caplog.set_level(logging.DEBUG, logger="kms_toolkit.client")
    with sync_client(answering(change_body(3))) as kms:
        kms.enable_key_version("key-a", 3)

    lines = [r.getMessage() for r in caplog.records if r.name == "kms_toolkit.client"]
    assert len(lines) == 1
    assert lines[0].startswith("POST /kms/v1/keys/key-a/versions/3/enable -> 200 in ")
    assert "x-ncp" not in caplog.text.lower()


# The default async transport, over a real loopback socket.


async def test_default_async_transport_is_aiohttp_sized_to_max_connections(
    credentials: Credentials, fake_ncp: FakeNcp
) -> None:
    """By default requests go through aiohttp with the asked pool size."""
    from httpx_aiohttp import AiohttpTransport

    async with AsyncKmsClient(
        credentials, endpoint=fake_ncp.base_url, max_connections=7
    ) as kms:
        changes = await asyncio.gather(
            *(kms.enable_key_version(f"key-{i}", 1) for i in range(5))
        )
        transport = kms._http._transport  # the pool size is only visible here

    assert isinstance(transport, AiohttpTransport)
    assert transport.limits.max_connections == 7
    assert [c.status for c in changes] == [KeyVersionStatus.ENABLE] * 5
    assert all(seen.signature_ok for seen in fake_ncp.seen)


async def test_aiohttp_sends_the_signed_target_unchanged(
    credentials: Credentials, fake_ncp: FakeNcp
) -> None:
    """Path and query reach the server over aiohttp exactly as they were signed."""
    fake_ncp.answer = (200, success({"keyList": [key_item("k1")], "totalCount": 51}))

    async with AsyncKmsClient(credentials, endpoint=fake_ncp.base_url) as kms:
        page = await kms.list_keys(page_no=2, page_size=50)
        fake_ncp.answer = None
        await kms.enable_key_version("Key_Tag-9", 100)

    assert [s.target for s in fake_ncp.seen] == [
        "/kms/v1/keys?pageNo=2&pageSize=50",
        "/kms/v1/keys/Key_Tag-9/versions/100/enable",
    ]
    assert all(s.signature_ok for s in fake_ncp.seen)
    assert page.total_pages == 2


def closed_port() -> int:
    """A loopback port nothing listens on (it was just released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_aiohttp_refused_connection_is_not_called_a_timeout(
    credentials: Credentials,
) -> None:
    """httpx_aiohttp reports a refused connection as ConnectTimeout; we do not."""
    endpoint = f"http://127.0.0.1:{closed_port()}/kms/v1"
    async with AsyncKmsClient(credentials, endpoint=endpoint) as kms:
        with pytest.raises(TransportError) as caught:
            await kms.get_key("key-a")

    assert type(caught.value) is TransportError
    assert "ClientConnectorError" in str(caught.value)


async def test_aiohttp_slow_answer_is_a_timeout(
    credentials: Credentials, fake_ncp: FakeNcp
) -> None:
    """A server slower than the timeout gives RequestTimeoutError through aiohttp."""
    fake_ncp.delay = 1.0
    async with AsyncKmsClient(
        credentials, endpoint=fake_ncp.base_url, timeout=0.2
    ) as kms:
        with pytest.raises(RequestTimeoutError) as caught:
            await kms.enable_key_version("key-a", 1)

    assert caught.value.operation == "enableKeyVersion"
