"""The adapter holds input and refusals to the pinned contract, whatever the service behind it answers."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_adapter import ACME, run

from harness.adapter import create_adapter
from harness.adapter.conformance import contract_operation, documented_error
from harness.contract import pinned_contract
from harness.prober import load_profile


def test_the_adapter_serves_the_pinned_contract_exactly(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient) -> Any:
        return (await client.get("/openapi.json")).json()

    assert run(tmp_path, scenario) == pinned_contract()


def test_input_the_contract_refuses_never_reaches_the_service(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient) -> Any:
        account = (await client.post("/v1/accounts", json={"is_test_cohort": True})).json()["id"]
        answers = [
            await client.post("/v1/outcomes", content=b'{"inference_id": '),
            await client.post("/v1/outcomes", json={"inference_id": "i", "account_id": account}),
            await client.post("/v1/accounts", json={"is_test_cohort": True, "extra": 1}),
            await client.get(f"/v1/accounts/{account}/ledger", params={"limit": 0}),
            await client.get("/v1/billing"),
            await client.post(
                "/v1/payments/topup/stripe",
                json={"account_id": account, "amount_micros": 10_000_000},
                headers={"idempotency-key": "k" * 256},
            ),
        ]
        ledger = (await client.get(f"/v1/accounts/{account}/ledger")).json()["entries"]
        return [(r.status_code, r.json()["error"]) for r in answers], ledger

    answers, ledger = run(tmp_path, scenario)
    assert [(status, e["code"]) for status, e in answers] == [
        (400, "invalid_json"),
        (422, "validation_error"),
        (422, "validation_error"),
        (422, "validation_error"),
        (422, "validation_error"),
        (422, "validation_error"),
    ]
    messages = [e["message"] for _, e in answers]
    assert "cost_micros" in messages[1]
    assert "extra" in messages[2]
    assert messages[3].startswith("query.limit")
    assert messages[4] == "query.account_id: field required"
    assert messages[5].startswith("header.idempotency-key")
    assert ledger == []  # no top-up, no outcome: the service saw none of it


def test_a_webhook_body_is_left_to_the_service_behind_its_signature(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient) -> Any:
        return await client.post("/v1/payments/webhook/stripe", content=b"not json")

    answer = run(tmp_path, scenario)
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "missing_signature_header")


def test_refusals_the_profile_does_not_map_leave_on_a_documented_status(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient) -> Any:
        # Acme keeps emails up to 200 characters (`bad_email`, unmapped); the contract takes 320
        long_email = await client.post("/v1/accounts", json={"email": "a" * 250})
        wrong_method = await client.request("TRACE", "/v1/accounts/usr_x")
        no_route = await client.get("/v2/nothing")
        return [long_email, wrong_method, no_route]

    long_email, wrong_method, no_route = run(tmp_path, scenario)
    assert (long_email.status_code, long_email.json()["error"]["code"]) == (400, "invalid_request")
    assert "bad_email" in long_email.json()["error"]["message"]
    assert (wrong_method.status_code, wrong_method.json()["error"]["code"]) == (
        405,
        "method_not_allowed",
    )
    assert wrong_method.headers["allow"] == "DELETE, GET, HEAD"
    assert (no_route.status_code, no_route.json()["error"]["code"]) == (404, "not_found")


def test_a_service_that_does_not_answer_is_a_server_error_in_the_contracts_words() -> None:
    spec = load_profile(ACME).gate
    assert spec is not None

    with socket.socket() as sock:  # a loopback port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = create_adapter(spec, f"http://127.0.0.1:{port}", env={})

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=adapter)
        async with httpx.AsyncClient(transport=transport, base_url="http://adapter") as client:
            return await client.get("/v1/accounts/usr_x")

    answer = asyncio.run(go())
    assert (answer.status_code, answer.json()["error"]["code"]) == (500, "internal_error")
    assert "did not answer" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "expected"),
    [
        # a contract code keeps the status the contract documents for it
        ("GET", "/v1/billing", 400, "account_not_found", (404, "account_not_found")),
        ("POST", "/v1/charges", 402, "insufficient_credit", (402, "insufficient_credit")),
        # a framework's validation refusal is the contract's
        ("POST", "/v1/outcomes", 422, "http_422", (422, "validation_error")),
        # a status documenting one code takes it
        ("DELETE", "/v1/accounts/{account_id}", 409, "in_use", (409, "not_test_cohort")),
        # any other refusal is the sender's
        ("POST", "/v1/payments/topup/{rail}", 404, "no_route", (400, "invalid_request")),
        ("GET", "/v1/accounts/{account_id}", 307, "http_307", (400, "invalid_request")),
        # the service's own failure stays a server error
        ("POST", "/v1/billing/checkout", 500, "boom", (502, "processor_error")),
        ("GET", "/v1/accounts/{account_id}", 503, "down", (500, "internal_error")),
    ],
)
def test_documented_error_picks_the_nearest_documented_answer(
    method: str, path: str, status: int, code: str, expected: tuple[int, str]
) -> None:
    assert documented_error(contract_operation(method, path), status, code) == expected
