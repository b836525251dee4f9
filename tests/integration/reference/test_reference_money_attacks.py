"""Issue 12 classes 1-3 on SQLite and PostgreSQL, through the fake CDP facilitator in process:
forged x402 usage is never served, an x402 top-up is credited exactly once whichever way its settlement
webhook races `/pay`, and concurrent wallet sessions never serve more than the balance."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from harness.bench.stress import (
    ADMIN,
    WEBHOOK_ORDERS,
    X402World,
    forged,
    open_world,
    pay_topup,
    races,
    sessions,
)
from harness.reference.db import Database
from harness.reference.models import Receipt, Reservation, Topup, utcnow


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[X402World]:
    async with open_world(database_url) as w:
        yield w


def _db(world: X402World) -> Database:
    db: Database = world.reference.app.state.service.db  # type: ignore[attr-defined]
    return db


# ---------------------------------------------------------------- class 1: forged x402 usage


async def test_forged_inflated_and_underpaid_x402_payments_are_refused_before_any_unit(
    world: X402World,
) -> None:
    counts = await forged(world, 2)
    assert counts["forged_units_served"] == 0
    assert counts["forged_refused_402"] == counts["forged_requests"] == 8
    assert counts["genuine_units_served"] == 10  # the control: a real payment is still served
    assert world.server_errors == 0
    assert len(world.fake.facilitator.settlements()) == 1  # only the genuine payment settled


async def test_an_unverifiable_payment_answers_402_with_the_x402_requirements(
    world: X402World,
) -> None:
    requirements = world.requirements(10_000)
    payload = world.payer.payment_payload(requirements)
    payload["payload"]["signature"] = "0x" + "00" * 65
    header = base64.b64encode(json.dumps(payload).encode()).decode()
    r = await world.call(
        "POST", "/v1/usage", json={"charges_micros": [1]}, headers={"X-PAYMENT": header}
    )
    assert r.status_code == 402
    body = r.json()
    assert body["error"]["code"] == "payment_required"
    assert body["x402Version"] == 1 and body["accepts"][0]["maxAmountRequired"] == "10000"


async def test_the_session_cap_is_the_verified_value(world: X402World) -> None:
    header = world.payer.x_payment(world.requirements(3_000))
    r = await world.call(
        "POST", "/v1/usage", json={"charges_micros": [1_000] * 5}, headers={"X-PAYMENT": header}
    )
    assert r.status_code == 402
    details = r.json()["error"]["details"]
    assert (details["cap_micros"], details["spent_micros"]) == (3_000, 3_000)


async def test_one_payment_cannot_serve_two_sessions_at_once(world: X402World) -> None:
    header = world.payer.x_payment(world.requirements(5_000))
    answers = await asyncio.gather(
        *(
            world.call(
                "POST", "/v1/usage", json={"charges_micros": [1_000]}, headers={"X-PAYMENT": header}
            )
            for _ in range(4)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 402, 402, 402]
    assert len(world.fake.facilitator.settlements()) == 1


# ---------------------------------------------------------------- class 2: pay/webhook races


@pytest.mark.parametrize("order", WEBHOOK_ORDERS)
async def test_an_x402_top_up_is_credited_once_whichever_way_its_webhook_lands(
    world: X402World, order: str
) -> None:
    account = await world.new_account()
    paid = await pay_topup(world, account, 2_000_000, order)
    assert paid.status_code == 200, paid.text
    assert paid.json()["credited_micros"] == 2_000_000
    assert await world.balance(account) == 2_000_000
    assert world.server_errors == 0


async def test_many_racing_top_ups_lose_and_double_nothing(world: X402World) -> None:
    counts = await races(world, 6, parallel=3)
    assert (counts["lost_credits"], counts["double_credits"]) == (0, 0)
    assert world.server_errors == 0


async def test_cdp_reconcile_credits_a_payment_left_uncredited_once(world: X402World) -> None:
    """The state the old race left: a top-up paid at the facilitator, its receipt recorded without an
    account by a webhook that could not attribute it."""
    account = await world.new_account()
    tx = "0x" + "ab" * 32
    async with _db(world).write() as session:
        session.add(
            Topup(
                id="top_lost",
                account_id=account,
                rail="cdp",
                amount_micros=1_500_000,
                status="paid",
                details={"transaction": tx},
            )
        )
        session.add(
            Receipt(
                rail="cdp",
                processor_ref=tx,
                amount_minor="1.500000",
                currency="USD",
                amount_micros=1_500_000,
            )
        )
    headers = {"X-Admin-Secret": ADMIN}
    dry = (await world.call("POST", "/admin/reconcile/cdp", headers=headers)).json()
    assert dry["status"] == "mismatch"
    assert [(m["kind"], m["processor_ref"], m["fixed"]) for m in dry["mismatches"]] == [
        ("not_credited", tx, False)
    ]
    assert await world.balance(account) == 0
    fix = (await world.call("POST", "/admin/reconcile/cdp?dry_run=false", headers=headers)).json()
    assert [m["fixed"] for m in fix["mismatches"]] == [True]
    assert await world.balance(account) == 1_500_000
    again = (await world.call("POST", "/admin/reconcile/cdp?dry_run=false", headers=headers)).json()
    assert again["status"] == "ok"
    assert await world.balance(account) == 1_500_000
    async with _db(world).read() as session:
        receipt = (await session.execute(select(Receipt))).scalar_one()
    assert receipt.credited and receipt.account_id == account


# ---------------------------------------------------------------- class 3: concurrent wallet sessions


async def test_concurrent_wallet_sessions_serve_no_more_than_the_balance(world: X402World) -> None:
    counts = await sessions(world, 25, balance=1_000_000)
    assert counts["unpaid_micros"] == 0 and counts["overdrawn_micros"] == 0
    assert counts["served_micros"] == 1_000_000  # 25 x 100,000 asked: exactly the balance served
    assert world.server_errors == 0
    refused = [s for s in world.statuses if s == 402]
    assert len(refused) >= 15


async def test_a_session_that_cannot_reserve_gets_402_insufficient_credit(world: X402World) -> None:
    account = await world.new_account(50_000)
    async with _db(world).write() as session:
        session.add(
            Reservation(
                request_id="req_open",
                account_id=account,
                amount_micros=50_000,
                expires_at=utcnow() + timedelta(minutes=5),
            )
        )
    r = await world.call("POST", "/v1/usage", json={"account_id": account, "charges_micros": [1]})
    assert (r.status_code, r.json()["error"]["code"]) == (402, "insufficient_credit")
    # a metered charge cannot spend what the open session holds either (its settle must not overdraw)
    outcome = {"inference_id": "inf_held", "account_id": account, "cost_micros": 10_000}
    assert (await world.call("POST", "/v1/outcomes", json=outcome)).status_code == 201
    charge = await world.call("POST", "/v1/charges", json={"inference_id": "inf_held"})
    assert (charge.status_code, charge.json()["error"]["code"]) == (402, "insufficient_credit")


async def test_an_expired_hold_no_longer_blocks_the_wallet(world: X402World) -> None:
    account = await world.new_account(50_000)
    async with _db(world).write() as session:
        session.add(
            Reservation(
                request_id="req_dead",
                account_id=account,
                amount_micros=50_000,
                expires_at=utcnow() - timedelta(seconds=1),
            )
        )
    r = await world.call(
        "POST", "/v1/usage", json={"account_id": account, "charges_micros": [20_000]}
    )
    assert r.status_code == 200, r.text
    assert await world.balance(account) == 30_000


async def test_a_settled_session_releases_its_hold(world: X402World) -> None:
    account = await world.new_account(10_000)
    for _ in range(3):
        r = await world.call(
            "POST", "/v1/usage", json={"account_id": account, "charges_micros": [3_000]}
        )
        assert r.status_code == 200, r.text
    async with _db(world).read() as session:
        assert (await session.execute(select(Reservation))).first() is None
    assert await world.balance(account) == 1_000
