"""Which contract cases a target's profile rules out, and when a whole operation is not applicable."""

from __future__ import annotations

import json

import httpx
import pytest
import requests

from harness.report import RULED_OUT_HEADER, RULED_OUT_TOKEN_ENV
from harness.suites._ruled_out import CaseTally

TOKEN = "0123456789abcdef"


@pytest.fixture(autouse=True)
def _run_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate hands the adapter's token to the suites it runs through a profile."""
    monkeypatch.setenv(RULED_OUT_TOKEN_ENV, TOKEN)


def _answer(status: int, body: object, token: str | None = TOKEN) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    if token is not None:
        response.headers[RULED_OUT_HEADER] = token
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


def test_a_targets_own_501_not_applicable_is_judged_not_excused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the adapter's token (a service gated directly, or one copying the answer), the case is
    judged like any other: a service cannot excuse itself from a check by answering 501 not_applicable."""
    tally = CaseTally()
    body = {"error": {"code": "not_applicable", "message": "we do not do charges"}}
    assert not tally.rule_out("POST /v1/charges", _answer(501, body, token=None))
    assert not tally.rule_out("POST /v1/charges", _answer(501, body, token="guessed"))
    monkeypatch.delenv(RULED_OUT_TOKEN_ENV)  # a run without a profile hands no token
    assert not tally.rule_out("POST /v1/charges", _answer(501, body))
    assert tally.verdict("POST /v1/charges") is None


def test_the_behaviour_suites_read_the_same_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.suites._support import ruled_out

    body = {"error": {"code": "not_applicable", "message": "lacks cdp"}}
    proven = httpx.Response(501, json=body, headers={RULED_OUT_HEADER: TOKEN})
    assert ruled_out(proven)
    assert not ruled_out(httpx.Response(501, json=body))
    monkeypatch.setenv(RULED_OUT_TOKEN_ENV, "another run")
    assert not ruled_out(proven)
