"""Which contract cases a target's profile rules out, and when a whole operation is not applicable."""

from __future__ import annotations

import json

import requests

from harness.suites._ruled_out import CaseTally


def _answer(status: int, body: object) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    return response


LACKS = _answer(501, {"error": {"code": "not_applicable", "message": "lacks paid_usage"}})
CENTS = _answer(501, {"error": {"code": "not_applicable", "message": "whole cents only"}})


def test_an_operation_none_of_whose_cases_could_be_judged_is_not_applicable_with_its_reasons() -> (
    None
):
    tally = CaseTally()
    assert tally.rule_out("POST /v1/usage", LACKS)
    assert tally.rule_out("POST /v1/usage", LACKS)
    assert tally.rule_out("POST /v1/usage", CENTS)
    assert tally.verdict("POST /v1/usage") == "lacks paid_usage; whole cents only"
    assert tally.ruled_out() == 3


def test_one_judged_case_makes_the_operation_judged_and_other_operations_are_apart() -> None:
    tally = CaseTally()
    assert tally.rule_out("POST /v1/payments/topup/{rail}", CENTS)
    tally.judged("POST /v1/payments/topup/{rail}")
    assert tally.verdict("POST /v1/payments/topup/{rail}") is None
    assert tally.verdict("GET /metrics") is None  # nothing ruled out there: judged as ever


def test_only_a_501_in_the_not_applicable_shape_rules_a_case_out() -> None:
    tally = CaseTally()
    for answer in (
        _answer(501, {"error": {"code": "not_implemented", "message": "no"}}),
        _answer(500, {"error": {"code": "not_applicable", "message": "no"}}),
        _answer(501, ["not_applicable"]),
        _answer(200, {"error": {"code": "not_applicable", "message": "no"}}),
    ):
        assert not tally.rule_out("GET /metrics", answer)
    assert tally.verdict("GET /metrics") is None
