"""The OpenAPI spec is valid and says what the toolkit relies on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi" / "kms.yaml"
DOCUMENTED_ERROR_STATUSES = [
    "400",
    "401",
    "403",
    "404",
    "413",
    "429",
    "500",
    "503",
    "504",
]
SIGNING_SCHEMES = {
    "ncpTimestamp": "x-ncp-apigw-timestamp",
    "ncpAccessKey": "x-ncp-iam-access-key",
    "ncpSignatureV2": "x-ncp-apigw-signature-v2",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every operation of the spec, by operationId."""
    found: dict[str, dict[str, Any]] = {}
    for item in spec["paths"].values():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                found[item[method]["operationId"]] = item[method]
    return found


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow one local ``$ref``."""
    if "$ref" not in node:
        return node
    target: Any = spec
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    resolved: dict[str, Any] = target
    return resolved


def test_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    """openapi-spec-validator accepts the spec (it raises otherwise)."""
    validate(spec)

    assert spec["openapi"].startswith("3.")


def test_spec_has_exactly_the_five_operations(spec: dict[str, Any]) -> None:
    """The operations the facade calls are the ones the spec defines."""
    assert set(operations(spec)) == {
        "enableKeyVersion",
        "disableKeyVersion",
        "getKeyList",
        "getKeyInfo",
        "getKeyVersionList",
    }


def test_signing_headers_are_top_level_security_schemes(spec: dict[str, Any]) -> None:
    """The three headers are apiKey schemes required by the top-level security."""
    schemes = spec["components"]["securitySchemes"]

    assert {name: s["name"] for name, s in schemes.items()} == SIGNING_SCHEMES
    assert all(s["type"] == "apiKey" and s["in"] == "header" for s in schemes.values())
    assert spec["security"] == [{name: [] for name in SIGNING_SCHEMES}]
    assert all("security" not in op for op in operations(spec).values())


@pytest.mark.parametrize("status", DOCUMENTED_ERROR_STATUSES)
def test_every_error_status_answers_gateway_error(
    spec: dict[str, Any], status: str
) -> None:
    """Each documented error status of each operation has the GatewayError body."""
    for operation_id, operation in operations(spec).items():
        response = resolve(spec, operation["responses"][status])
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/GatewayError"}, operation_id


def test_version_is_bounded_from_1_to_100(spec: dict[str, Any]) -> None:
    """The path parameter and the answers' version fields run from 1 to 100."""
    version = spec["components"]["parameters"]["Version"]["schema"]
    schemas = spec["components"]["schemas"]
    answered = [
        schemas["KeyVersion"]["properties"]["version"],
        schemas["KeyVersionStatusChange"]["properties"]["version"],
    ]

    for schema in [version, *answered]:
        assert (schema["type"], schema["minimum"], schema["maximum"]) == (
            "integer",
            1,
            100,
        )


def test_page_size_is_bounded_from_1_to_200(spec: dict[str, Any]) -> None:
    """The key list's pageSize matches the facade's check."""
    parameters = operations(spec)["getKeyList"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "pageSize")["schema"]

    assert (page_size["minimum"], page_size["maximum"]) == (1, 200)
