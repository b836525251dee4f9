"""`contract diff`: a change is breaking when it breaks a client already written against the old contract."""

from __future__ import annotations

import copy
from typing import Any

from harness.contract import Change, classify_changes, pinned_contract


def _pinned() -> dict[str, Any]:
    return copy.deepcopy(pinned_contract())


def _charge_request(doc: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = doc["paths"]["/v1/charges"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    return schema


def _only(changes: list[Change]) -> Change:
    assert len(changes) == 1, [str(c) for c in changes]
    return changes[0]


def test_identical_contracts_have_no_change() -> None:
    assert classify_changes(pinned_contract(), pinned_contract()) == []


def test_removing_an_operation_breaks_clients_and_adding_one_does_not() -> None:
    old, new = _pinned(), _pinned()
    del new["paths"]["/healthz"]
    assert _only(classify_changes(old, new)).breaking
    assert not _only(classify_changes(new, old)).breaking


def test_a_new_required_request_field_breaks_clients_and_an_optional_one_does_not() -> None:
    old, new = _pinned(), _pinned()
    _charge_request(new)["properties"]["currency"] = {"type": "string"}
    assert not _only(classify_changes(old, new)).breaking
    _charge_request(new)["required"].append("currency")
    change = _only(classify_changes(old, new))
    assert change.breaking and change.reason == "property added (required)"


def test_tightening_a_request_bound_breaks_clients_and_loosening_does_not() -> None:
    old, new = _pinned(), _pinned()
    _charge_request(new)["properties"]["inference_id"]["maxLength"] = 64
    assert _only(classify_changes(old, new)).breaking
    _charge_request(new)["properties"]["inference_id"]["maxLength"] = 1024
    assert not _only(classify_changes(old, new)).breaking


def test_a_new_error_code_breaks_clients_that_switch_on_codes() -> None:
    old, new = _pinned(), _pinned()
    enum = new["paths"]["/v1/charges"]["post"]["responses"]["402"]["content"]["application/json"][
        "schema"
    ]["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
    enum.append("card_declined")
    change = _only(classify_changes(old, new))
    assert change.breaking and "card_declined" in change.reason
    assert change.where == "POST /v1/charges"


def test_a_shared_response_schema_change_is_reported_where_it_is_used() -> None:
    old, new = _pinned(), _pinned()
    del new["components"]["schemas"]["ChargeResult"]["properties"]["replayed"]
    change = _only(classify_changes(old, new))
    assert change.breaking
    assert change.location == "responses.200.content.application/json.schema.properties.replayed"


def test_a_response_field_becoming_optional_breaks_readers() -> None:
    old, new = _pinned(), _pinned()
    new["components"]["schemas"]["AccountOut"]["required"].remove("balance_micros")
    changes = classify_changes(old, new)
    assert changes and all(c.breaking and c.reason == "became optional" for c in changes)


def test_a_new_error_status_is_not_breaking_but_a_lost_success_status_is() -> None:
    old, new = _pinned(), _pinned()
    responses = new["paths"]["/v1/accounts"]["post"]["responses"]
    responses["429"] = copy.deepcopy(responses["422"])
    assert not _only(classify_changes(old, new)).breaking
    del responses["201"]
    assert any(
        c.breaking and c.reason == "success response removed" for c in classify_changes(old, new)
    )


def test_a_required_parameter_added_breaks_clients() -> None:
    old, new = _pinned(), _pinned()
    new["paths"]["/v1/payments/status"]["get"]["parameters"] = [
        {"in": "query", "name": "rail", "required": True, "schema": {"type": "string"}}
    ]
    change = _only(classify_changes(old, new))
    assert change.breaking and change.reason == "required parameter added"


def test_documentation_changes_never_break() -> None:
    old, new = _pinned(), _pinned()
    new["paths"]["/v1/charges"]["post"]["summary"] = "Charge an inference"
    change = _only(classify_changes(old, new))
    assert not change.breaking and change.reason == "documentation changed"


def test_breaking_changes_are_listed_first() -> None:
    old, new = _pinned(), _pinned()
    new["paths"]["/v1/charges"]["post"]["summary"] = "Charge an inference"
    del new["paths"]["/healthz"]
    changes = classify_changes(old, new)
    assert [c.breaking for c in changes] == [True, False]
