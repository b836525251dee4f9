"""Exact match: formatting never counts, anything else does, and each difference says where it is."""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi import FastAPI

from harness.contract import check_contract, fetch_served, pinned_contract
from harness.contract.pinning import enrich
from harness.target import reference_target


def _pinned() -> dict[str, Any]:
    return copy.deepcopy(pinned_contract())


def _lines(served: dict[str, Any]) -> list[str]:
    return [str(d) for d in check_contract(served).differences]


def test_key_order_and_number_spelling_do_not_count() -> None:
    text = json.dumps(pinned_contract(), sort_keys=False, indent=None)
    reordered = json.loads(text, object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    reordered["paths"]["/v1/charges"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]["properties"]["margin_bps"]["anyOf"][0]["maximum"] = 1e6
    assert check_contract(reordered).matches


def test_a_missing_error_response_is_named_by_method_path_and_location() -> None:
    served = _pinned()
    del served["paths"]["/v1/charges"]["post"]["responses"]["402"]
    assert _lines(served) == ["POST /v1/charges: responses.402 missing in served"]


def test_a_changed_schema_names_the_component_and_the_field() -> None:
    served = _pinned()
    served["components"]["schemas"]["ChargeResult"]["properties"]["charged_micros"]["type"] = (
        "number"
    )
    assert _lines(served) == [
        "components.schemas.ChargeResult: properties.charged_micros.type differs: "
        'pinned "integer", served "number"'
    ]


def test_true_and_one_are_different_contracts() -> None:
    served = _pinned()
    x402 = served["paths"]["/v1/payments/topup/cdp/{topup_id}/pay"]["post"]["responses"]["402"]
    x402["content"]["application/json"]["schema"]["allOf"][2]["properties"]["x402Version"][
        "const"
    ] = True
    assert len(_lines(served)) == 1


def test_parameters_are_compared_by_location_and_name() -> None:
    served = _pinned()
    parameters = served["paths"]["/admin/reconcile/{rail}"]["post"]["parameters"]
    parameters.reverse()
    assert check_contract(served).matches
    parameters[0]["required"] = True
    (line,) = _lines(served)
    assert line.startswith(
        "POST /admin/reconcile/{rail}: parameters.header.x-admin-secret.required"
    )


def test_an_extra_route_added_to_an_app_fails_the_check_naming_it() -> None:
    def with_refunds(app: FastAPI) -> FastAPI:
        @app.get("/v1/refunds")
        async def refunds() -> dict[str, str]:
            return {"status": "none"}

        # a service that serves its own generated (and enriched) document, not the pinned file
        app.openapi = lambda: enrich(FastAPI.openapi(app))  # type: ignore[method-assign]
        return app

    with reference_target(with_fakes=False, wrap=with_refunds) as target, target.client() as client:
        served = fetch_served(client)
    assert _lines(served) == [
        "GET /v1/refunds: operation extra in served (not in the pinned contract)"
    ]
