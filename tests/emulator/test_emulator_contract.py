"""Contract: every answer of the emulator conforms to ``openapi/kms.yaml``.

Schemathesis generates requests from the spec (valid and invalid ones),
each is signed like a real client's, sent to a real emulator, and the answer
is checked against the spec: documented status, documented body, headers.
Injected throttling and endpoint failures, which generation never meets,
are checked the same way in process.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from kms_toolkit.auth import (
    ACCESS_KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signing_headers,
)
from kms_toolkit.credentials import Credentials
from kms_toolkit.emulator import (
    EmulatorApp,
    Fault,
    KmsState,
    RunningEmulator,
    build_state,
    serve,
)
from tests.emulator.emulator_testkit import assert_error, disabled_target

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "kms.yaml"
#: Tags of keys that exist in the demo data set, so generation reaches the rules.
DEMO_TAGS = build_state("demo").key_tags()

VALID_TAG = re.compile(r"[A-Za-z0-9_-]{1,128}")
SIGNING_HEADERS = (TIMESTAMP_HEADER, ACCESS_KEY_HEADER, SIGNATURE_HEADER)
#: What the spec says about an answer: status, media type, headers, body.
CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_path(SPEC)


@schema.hook
def map_path_parameters(
    context: Any, path_parameters: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Swap most valid generated key tags for real ones; keep invalid ones."""
    if not isinstance(path_parameters, dict):
        # Negative generation may replace the whole path object.
        return path_parameters
    tag = path_parameters.get("keyTag")
    if isinstance(tag, str) and VALID_TAG.fullmatch(tag) and len(tag) % 4 != 0:
        path_parameters["keyTag"] = DEMO_TAGS[len(tag) % len(DEMO_TAGS)]
    return path_parameters


class RequestsSignatureV2(requests.auth.AuthBase):
    """Signs a ``requests`` request over its target as prepared for the wire.

    A negative case that left out a signing header stays unsigned, so the
    gateway's refusal of it is checked too.
    """

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if not all(name in request.headers for name in SIGNING_HEADERS):
            return request
        timestamp_ms = int(time.time() * 1000)
        headers = signing_headers(
            self.credentials, str(request.method), request.path_url, timestamp_ms
        )
        request.headers.update(headers)
        return request


@pytest.fixture(scope="module")
def contract_emulator() -> Iterator[RunningEmulator]:
    """One real emulator for the whole contract run, stopped afterwards."""
    with serve(dataset="demo") as emulator:
        yield emulator
        # Guard against a run that never got past the gateway or the rules.
        counters = emulator.counters
        assert counters.requests("enableKeyVersion", "200") > 0
        assert counters.requests(outcome="200") > counters.requests() // 10


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_answer_conforms_to_the_spec(
    case: Any, contract_emulator: RunningEmulator
) -> None:
    """A signed generated request gets an answer the spec documents."""
    response = case.call(
        base_url=contract_emulator.url,
        auth=RequestsSignatureV2(contract_emulator.credentials),
        timeout=10,
    )

    # ignored_auth cannot tell that the auth hook replaced its generated
    # headers with a valid signature (the gateway tests cover refusals), and
    # positive_data_acceptance cannot know that a schema-valid enable of a
    # disabled key is refused by a KMS rule, with a 400 the spec documents.
    # unsupported_method wants 405 for undeclared methods, where the emulator
    # answers like NCP's gateway table: 404/300 (see docs/emulator.md).
    case.validate_response(
        response,
        excluded_checks=[ignored_auth, positive_data_acceptance, unsupported_method],
    )
    if all(name in (case.headers or {}) for name in SIGNING_HEADERS):
        assert response.status_code != 401, response.text


@pytest.mark.parametrize(
    ("fault", "status", "error_code"),
    [
        (Fault.THROTTLE_LIMITED, 429, "410"),
        (Fault.RATE_LIMITED, 429, "420"),
        (Fault.ENDPOINT_ERROR, 503, "500"),
        (Fault.ENDPOINT_TIMEOUT, 504, "510"),
    ],
)
async def test_injected_throttling_and_endpoint_failures_conform_to_the_spec(
    client: httpx.AsyncClient,
    app: EmulatorApp,
    state: KmsState,
    fault: Fault,
    status: int,
    error_code: str,
) -> None:
    """Injected 429 (with Retry-After), 503 and 504 answers are as documented."""
    tag, version = disabled_target(state)
    app.injector.schedule(fault)

    response = await client.post(f"/keys/{tag}/versions/{version}/enable")

    assert_error(response, status, error_code)
    assert ("retry-after" in response.headers) == (status == 429)
    enable = schema["/keys/{keyTag}/versions/{version}/enable"]["POST"]
    case = enable.Case(path_parameters={"keyTag": tag, "version": version})
    case.validate_response(response, checks=CONFORMANCE)


async def test_the_rate_limit_answer_conforms_to_the_spec(
    client: httpx.AsyncClient, app: EmulatorApp
) -> None:
    """Going over the rate limit answers a documented 429 with Retry-After."""
    app.injector.configure(rate_limit=1)

    await client.get("/keys")
    response = await client.get("/keys")

    assert_error(response, 429, "420")
    assert int(response.headers["retry-after"]) >= 1
    schema["/keys"]["GET"].Case().validate_response(response, checks=CONFORMANCE)
