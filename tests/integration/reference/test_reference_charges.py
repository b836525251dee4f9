"""Outcomes and charges: one outcome per inference, one charge per inference, exact integer prices."""

from __future__ import annotations

import httpx
from reference_support import (
    ServiceFactory,
    adjust_balance,
    count_rows,
    ledger,
    ledger_sum,
    metric,
    new_account,
)

from harness.reference.models import Charge


async def record(client: httpx.AsyncClient, account: str, inference: str, cost: int) -> None:
    r = await client.post(
        "/v1/outcomes",
        json={"inference_id": inference, "account_id": account, "cost_micros": cost},
    )
    assert r.status_code == 201, r.text


def expected_charge(cost: int, margin: int) -> int:
    quotient, remainder = divmod(cost * margin, 10_000)
    return cost + quotient + (1 if remainder else 0)


async def test_recording_an_outcome_twice_is_409_duplicate_outcome(
    service: httpx.AsyncClient,
) -> None:
    account = await new_account(service)
    await record(service, account, "inf_dup", 100)
    r = await service.post(
        "/v1/outcomes", json={"inference_id": "inf_dup", "account_id": account, "cost_micros": 999}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "duplicate_outcome")


async def test_outcome_for_an_unknown_account_is_404(service: httpx.AsyncClient) -> None:
    r = await service.post(
        "/v1/outcomes", json={"inference_id": "inf_x", "account_id": "acct_no", "cost_micros": 1}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "account_not_found")


async def test_charge_debits_cost_plus_the_rounded_up_margin(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=1_000_000)
    await record(service, account, "inf_1", 123_457)
    r = await service.post("/v1/charges", json={"inference_id": "inf_1", "margin_bps": 2_500})
    assert r.status_code == 200
    body = r.json()
    charged = expected_charge(123_457, 2_500)  # 154_321.25 rounds up to 154_322
    assert charged == 154_322
    assert body["status"] == "charged"
    assert (body["cost_micros"], body["margin_bps"], body["charged_micros"]) == (
        123_457,
        2_500,
        charged,
    )
    assert body["balance_micros"] == 1_000_000 - charged
    entry = (await ledger(service, account))["entries"][0]
    assert (entry["kind"], entry["amount_micros"], entry["id"]) == (
        "debit",
        charged,
        body["ledger_entry_id"],
    )
    assert metric(service, "payments_charges_total", status="charged") == 1


async def test_charges_through_http_match_the_integer_formula(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=10_000_000)
    balance = 10_000_000
    for n, (cost, margin) in enumerate(
        [(1, 1), (3, 3_333), (9_999, 1), (1_000_001, 9_999), (77, 0), (1_234_567, 2_500)]
    ):
        await record(service, account, f"inf_f{n}", cost)
        r = await service.post(
            "/v1/charges", json={"inference_id": f"inf_f{n}", "margin_bps": margin}
        )
        assert r.json()["charged_micros"] == expected_charge(cost, margin), (cost, margin)
        balance -= expected_charge(cost, margin)
        assert await ledger_sum(service, account) == (balance, balance, n + 2)


async def test_the_configured_default_margin_applies_when_none_is_asked(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(default_margin_bps=1_000)
    account = await new_account(client, balance=1_000_000)
    await record(client, account, "inf_default", 10_000)
    body = (await client.post("/v1/charges", json={"inference_id": "inf_default"})).json()
    assert (body["margin_bps"], body["margin_bps_requested"], body["charged_micros"]) == (
        1_000,
        None,
        11_000,
    )


async def test_charge_records_the_effective_clamped_margin_it_charged_with(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(min_margin_bps=100, max_margin_bps=3_000)
    account = await new_account(client, balance=1_000_000)
    for requested, effective in ((50_000, 3_000), (-500, 100), (1_500, 1_500)):
        inference = f"inf_clamp_{requested}"
        await record(client, account, inference, 10_000)
        body = (
            await client.post(
                "/v1/charges", json={"inference_id": inference, "margin_bps": requested}
            )
        ).json()
        assert body["margin_bps"] == effective
        assert body["margin_bps_requested"] == requested
        assert body["charged_micros"] == expected_charge(10_000, effective)
        replay = (await client.post("/v1/charges", json={"inference_id": inference})).json()
        assert replay["margin_bps"] == effective  # the stored record agrees with the money moved


async def test_charging_the_same_inference_again_replays_without_a_second_debit(
    service: httpx.AsyncClient,
) -> None:
    account = await new_account(service, balance=1_000_000)
    await record(service, account, "inf_once", 10_000)
    first = (await service.post("/v1/charges", json={"inference_id": "inf_once"})).json()
    for margin in (None, 9_000):
        again = await service.post(
            "/v1/charges", json={"inference_id": "inf_once", "margin_bps": margin}
        )
        assert again.status_code == 200
        body = again.json()
        assert body["replayed"] is True
        assert body["charged_micros"] == first["charged_micros"]
        assert body["ledger_entry_id"] == first["ledger_entry_id"]
    assert await ledger_sum(service, account) == (
        1_000_000 - first["charged_micros"],
        1_000_000 - first["charged_micros"],
        2,
    )
    assert await count_rows(service, Charge) == 1


async def test_zero_cost_is_skipped_and_writes_nothing(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=500)
    await record(service, account, "inf_zero", 0)
    r = await service.post("/v1/charges", json={"inference_id": "inf_zero", "margin_bps": 10_000})
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["charged_micros"], body["ledger_entry_id"]) == (
        "skipped_zero_cost",
        0,
        None,
    )
    assert await ledger_sum(service, account) == (500, 500, 1)
    assert await count_rows(service, Charge) == 0
    assert metric(service, "payments_charges_total", status="skipped_zero_cost") == 1


async def test_insufficient_credit_is_402_and_writes_nothing(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=11_999)
    await record(service, account, "inf_poor", 10_000)
    r = await service.post("/v1/charges", json={"inference_id": "inf_poor", "margin_bps": 2_000})
    assert (r.status_code, r.json()["error"]["code"]) == (402, "insufficient_credit")
    assert r.json()["error"]["details"] == {"balance_micros": 11_999, "charged_micros": 12_000}
    assert await ledger_sum(service, account) == (11_999, 11_999, 1)
    assert await count_rows(service, Charge) == 0
    # once funded, the same inference charges normally: the refusal left no half-written record
    await adjust_balance(service, account, 12_000)
    r = await service.post("/v1/charges", json={"inference_id": "inf_poor", "margin_bps": 2_000})
    assert (r.status_code, r.json()["replayed"], r.json()["balance_micros"]) == (200, False, 0)


async def test_exactly_the_balance_can_be_charged(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=12_000)
    await record(service, account, "inf_exact", 10_000)
    r = await service.post("/v1/charges", json={"inference_id": "inf_exact", "margin_bps": 2_000})
    assert r.status_code == 200
    assert r.json()["balance_micros"] == 0


async def test_charge_of_an_unknown_inference_is_404(service: httpx.AsyncClient) -> None:
    r = await service.post("/v1/charges", json={"inference_id": "inf_nowhere"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "outcome_not_found")


async def test_charges_never_move_lifetime_paid(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=1_000_000)
    await record(service, account, "inf_life", 10_000)
    await service.post("/v1/charges", json={"inference_id": "inf_life"})
    assert (await service.get(f"/v1/accounts/{account}")).json()["lifetime_paid_micros"] == 0
