"""The pinned contract is what the reference serves, and it cannot drift from the reference's routes."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import contract_path
from harness.contract import (
    check_contract,
    diff_documents,
    fetch_served,
    normalise,
    pinned_contract,
)
from harness.contract.pinning import ERROR_CODES, dump_contract, enrich
from harness.target import reference_generated_openapi, reference_target


def _error_responses(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", status, response)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if int(status) >= 400
    ]


def test_reference_routes_have_not_drifted_from_the_pinned_contract() -> None:
    differences = diff_documents(
        normalise(pinned_contract()), normalise(enrich(reference_generated_openapi()))
    )
    assert not differences, (
        "the reference's routes or models no longer match contracts/payments.openapi.json; if the change "
        "is intended, re-pin with `python -m harness.contract.pinning` and review the diff:\n"
        + "\n".join(str(d) for d in differences)
    )


def test_pinned_file_is_in_its_canonical_formatting() -> None:
    text = contract_path("payments.openapi.json").read_text(encoding="utf-8")
    assert text == dump_contract(pinned_contract())


def test_reference_serves_exactly_the_pinned_contract() -> None:
    with reference_target(with_fakes=False) as target, target.client() as client:
        served = fetch_served(client)
    assert check_contract(served).matches


def test_every_error_answer_has_the_error_shape_and_its_codes_as_an_enum() -> None:
    document = pinned_contract()
    responses = _error_responses(document)
    assert len(responses) >= 60
    for operation, status, response in responses:
        schema = response["content"]["application/json"]["schema"]
        assert schema["allOf"][0] == {"$ref": "#/components/schemas/ErrorBody"}, (operation, status)
        codes = schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
        assert codes and all(code.islower() for code in codes), (operation, status)


def test_fastapi_validation_shape_is_gone_from_the_pinned_contract() -> None:
    schemas = pinned_contract()["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["ErrorDetail"]["properties"]["code"]["pattern"] == "^[a-z][a-z0-9_]*$"


def test_webhook_errors_list_the_documented_check_order_codes() -> None:
    responses = pinned_contract()["paths"]["/v1/payments/webhook/{rail}"]["post"]["responses"]
    codes = responses["400"]["content"]["application/json"]["schema"]["allOf"][1]
    assert codes["properties"]["error"]["properties"]["code"]["enum"] == [
        "missing_signature_header",
        "webhook_signature_invalid",
        "invalid_payload",
        "invalid_request",  # the guard's NUL in the path or query, before routing
    ]
    assert "404" in responses and "503" in responses


def test_enrich_refuses_an_error_status_it_has_no_codes_for() -> None:
    generated = reference_generated_openapi()
    generated["paths"]["/healthz"]["get"]["responses"]["418"] = {"description": "teapot"}
    with pytest.raises(KeyError, match="GET /healthz answers"):
        enrich(generated)


def test_enrich_refuses_a_stale_row_for_a_route_that_is_gone() -> None:
    generated = reference_generated_openapi()
    del generated["paths"]["/v1/charges"]
    with pytest.raises(KeyError, match="POST /v1/charges is in ERROR_CODES but not served"):
        enrich(generated)


def test_every_error_code_row_names_a_served_operation() -> None:
    paths = pinned_contract()["paths"]
    assert all(method.lower() in paths[path] for method, path in ERROR_CODES)
