"""The contract adapter over Acme billing, in process: contract calls in, Acme's API out, contract answers back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from examples.acme_billing import create_app, settings_from_env
from harness.adapter import create_adapter
from harness.prober import load_profile

ACME = Path(__file__).parents[3] / "examples" / "acme_billing" / "profile.toml"


def run(
    tmp_path: Path, scenario: Callable[[httpx.AsyncClient], Awaitable[Any]], **extra: str
) -> Any:
    env = {
        "ACME_BILLING_ENABLED": "1",
        "ACME_TEST_TOKEN": "tok",
        "STRIPE_WEBHOOK_SECRET": "whsec_unit",
        "ACME_DATABASE": str(tmp_path / "acme.sqlite3"),
        **extra,
    }
    acme = create_app(settings_from_env(env))
    spec = load_profile(ACME).gate
    assert spec is not None
    adapter = create_adapter(
        spec, "http://acme.test", env=env, transport=httpx.ASGITransport(app=acme)
    )

    async def go() -> Any:
        transport = httpx.ASGITransport(app=adapter)
        async with httpx.AsyncClient(transport=transport, base_url="http://adapter") as client:
            return await scenario(client)

    return asyncio.run(go())


async def _funded(client: httpx.AsyncClient, balance_micros: int) -> str:
    made = await client.post("/v1/accounts", json={"is_test_cohort": True})
    assert made.status_code == 201, made.text
    account = str(made.json()["id"])
    funded = await client.post(
        "/admin/balance-adjust",
        json={"account_id": account, "balance_micros": balance_micros, "reason": "unit test"},
    )
    assert funded.status_code == 200, funded.text
    return account


def test_money_crosses_in_cents_and_reads_back_in_micro_usd(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient) -> Any:
        account = await _funded(client, 25_000_000)
        read = (await client.get(f"/v1/accounts/{account}")).json()
        ledger = (await client.get(f"/v1/accounts/{account}/ledger")).json()
        return read, ledger["entries"]

    read, entries = run(tmp_path, scenario)
    assert (read["balance_micros"], read["plan_tier"], read["is_test_cohort"]) == (
        25_000_000,
        "free",
        True,
    )
    assert [(e["kind"], e["amount_micros"]) for e in entries] == [("adjustment", 25_000_000)]


def test_a_charge_is_the_contract_two_step_with_the_markup_rounded_up_in_cents(
    tmp_path: Path,
) -> None:
    async def scenario(client: httpx.AsyncClient) -> Any:
        account = await _funded(client, 10_000_000)
        body = {"inference_id": "inf-1", "account_id": account, "cost_micros": 3_330_000}
        assert (await client.post("/v1/outcomes", json=body)).status_code == 201
        again = await client.post("/v1/outcomes", json=body)
        charged = await client.post(
            "/v1/charges", json={"inference_id": "inf-1", "margin_bps": 99_999}
        )
        return again, charged.json()

    again, charged = run(tmp_path, scenario)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "duplicate_outcome")
    # 333 cents at the clamped 5000 bps: 333 + ceil(166.5) = 500 cents
    assert (charged["charged_micros"], charged["margin_bps"], charged["margin_bps_requested"]) == (
        5_000_000,
        5_000,
        99_999,
    )


def test_acmes_refusals_come_back_as_the_contracts_codes(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient) -> Any:
        account = await _funded(client, 1_000_000)
        await client.post(
            "/v1/outcomes",
            json={"inference_id": "big", "account_id": account, "cost_micros": 2_000_000},
        )
        short = await client.post("/v1/charges", json={"inference_id": "big", "margin_bps": 0})
        missing = await client.get("/v1/accounts/usr_nobody")
        unsigned = await client.post("/v1/payments/webhook/stripe", content=b"{}")
        unknown = await client.post("/v1/payments/webhook/paypal", content=b"{}")
        return [
            (r.status_code, r.json()["error"]["code"]) for r in (short, missing, unsigned, unknown)
        ]

    assert run(tmp_path, scenario) == [
        (402, "insufficient_credit"),
        (404, "account_not_found"),
        (400, "missing_signature_header"),
        (404, "unknown_rail"),
    ]


def test_what_acme_lacks_or_cannot_hold_answers_not_applicable_with_the_reason(
    tmp_path: Path,
) -> None:
    async def scenario(client: httpx.AsyncClient) -> Any:
        account = (await client.post("/v1/accounts", json={})).json()["id"]
        usage = await client.post("/v1/usage", json={})
        cdp = await client.post(
            "/v1/payments/topup/cdp", json={"account_id": account, "amount_micros": 1}
        )
        odd = await client.post(
            "/admin/balance-adjust",
            json={"account_id": account, "balance_micros": 7, "reason": "unit test"},
        )
        reap = await client.delete(f"/v1/accounts/{account}")
        return [(r.status_code, r.json()["error"]) for r in (usage, cdp, odd, reap)]

    answers = run(tmp_path, scenario)
    assert all(status == 501 and error["code"] == "not_applicable" for status, error in answers)
    messages = [error["message"] for _, error in answers]
    assert "lacks paid_usage" in messages[0]
    assert "lacks cdp" in messages[1]
    assert "whole cents" in messages[2]
    assert "real account" in messages[3]


def test_the_status_declares_liveness_and_the_money_grain(tmp_path: Path) -> None:
    async def scenario(client: httpx.AsyncClient) -> Any:
        return (await client.get("/v1/payments/status")).json()

    status = run(tmp_path, scenario)
    assert status["live"] is True
    assert status["money"] == {
        "unit": "cents",
        "micros_per_unit": 10_000,
        "max_amount_micros": 1_000_000_000_000,
        "min_topup_micros": 1_000_000,
    }
    assert status["rails"]["cdp"] == {"configured": False}
    assert status["lacks"] == [
        "cdp",
        "invoices",
        "metrics",
        "paid_usage",
        "reconcile",
        "xendit_checkout",
    ]


def test_the_admin_route_asks_for_the_harness_admin_secret_when_one_is_given(
    tmp_path: Path,
) -> None:
    async def scenario(client: httpx.AsyncClient) -> Any:
        account = str(
            (await client.post("/v1/accounts", json={"is_test_cohort": True})).json()["id"]
        )
        body = {"account_id": account, "balance_micros": 10_000, "reason": "unit"}
        answers = [
            (await client.post("/admin/balance-adjust", json=body, headers=headers)).status_code
            for headers in ({}, {"X-Admin-Secret": "wrong"}, {"X-Admin-Secret": "adm_unit"})
        ]
        # as on the reference, the secret is checked before the body: a bad body without it is 401
        for headers in ({}, {"X-Admin-Secret": "adm_unit"}):
            bad = await client.post("/admin/balance-adjust", json={"x": 1}, headers=headers)
            answers.append(bad.status_code)
        return answers

    assert run(tmp_path, scenario, ADMIN_SECRET="adm_unit") == [401, 401, 200, 401, 422]


def test_a_replayed_charge_answers_the_first_request_and_margins_out_of_range_are_refused(
    tmp_path: Path,
) -> None:
    async def scenario(client: httpx.AsyncClient) -> Any:
        account = await _funded(client, 1_000_000)
        outcome = {"inference_id": "inf_r", "account_id": account, "cost_micros": 10_000}
        await client.post("/v1/outcomes", json=outcome)
        answers = [
            await client.post("/v1/charges", json={"inference_id": "inf_r", "margin_bps": m})
            for m in (1_000_001, 100, 4_000)
        ]
        return [(a.status_code, a.json()) for a in answers]

    (refused, refused_body), (_, first), (_, again) = run(tmp_path, scenario)
    assert (refused, refused_body["error"]["code"]) == (422, "validation_error")
    assert (first["replayed"], first["margin_bps_requested"], first["charged_micros"]) == (
        False,
        100,
        20_000,
    )
    assert (again["replayed"], again["margin_bps_requested"], again["charged_micros"]) == (
        True,
        100,
        20_000,
    )
