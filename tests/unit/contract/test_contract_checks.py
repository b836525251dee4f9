"""The contract suite's own checks: every error answer in the error shape, and never a 5xx."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from harness.suites.checks import error_shape, no_server_error


@dataclass
class _Response:
    status_code: int
    content: bytes


@dataclass
class _Case:
    method: str = "post"
    formatted_path: str = "/v1/charges"


def _json(status: int, body: Any) -> _Response:
    return _Response(status, json.dumps(body).encode())


def test_an_error_in_the_error_shape_passes() -> None:
    answer = _json(404, {"error": {"code": "outcome_not_found", "message": "no outcome"}})
    assert error_shape(None, answer, _Case()) is None


def test_a_success_is_not_held_to_the_error_shape() -> None:
    assert error_shape(None, _json(200, {"detail": "ok"}), _Case()) is None


def test_fastapis_default_error_body_fails_the_error_shape() -> None:
    with pytest.raises(AssertionError, match=r'a 422 answer is not in the error shape.*"detail"'):
        error_shape(None, _json(422, {"detail": [{"loc": ["body"], "msg": "bad"}]}), _Case())


def test_an_error_that_is_not_json_fails_the_error_shape() -> None:
    with pytest.raises(AssertionError, match="Internal Server Error"):
        error_shape(None, _Response(500, b"Internal Server Error"), _Case())


def test_an_error_code_that_is_not_snake_case_fails() -> None:
    answer = _json(400, {"error": {"code": "InvalidJSON", "message": "bad"}})
    with pytest.raises(AssertionError, match="snake_case"):
        error_shape(None, answer, _Case())


def test_an_error_without_a_message_fails() -> None:
    with pytest.raises(AssertionError, match=r"no error\.message"):
        error_shape(None, _json(400, {"error": {"code": "invalid_json", "message": ""}}), _Case())


def test_a_documented_4xx_is_not_a_server_error() -> None:
    assert no_server_error(None, _json(402, {}), _Case()) is None


def test_a_503_from_a_dormant_target_fails_and_says_why() -> None:
    answer = _json(503, {"error": {"code": "payments_not_live", "message": "dormant"}})
    with pytest.raises(
        AssertionError, match=r"POST /v1/charges answered 503 \(payments_not_live\).*dormant"
    ):
        no_server_error(None, answer, _Case())
