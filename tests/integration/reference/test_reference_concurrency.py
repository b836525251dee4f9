"""Exactly-once under real concurrency, and no partial money when a request dies before its commit.

One service takes 20 concurrent requests on each database; on PostgreSQL, two service instances share
one database, as two replicas behind a load balancer do. Concurrency comes from `asyncio.gather`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from reference_support import (
    ALL_RAILS,
    ServiceFactory,
    count_rows,
    deliver_stripe,
    deliver_xendit,
    insert_topup,
    ledger_sum,
    map_stripe_customer,
    new_account,
    stripe_funded,
    xendit_invoice,
)

from harness.reference import ReferenceSettings, close_app, create_app
from harness.reference.components import Components
from harness.reference.effects import apply_effects
from harness.reference.models import Charge, Receipt, WebhookEvent
from harness.reference.routes import charges as charges_route

N = 20


def statuses(responses: list[httpx.Response]) -> Counter[str]:
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    return Counter(str(r.json()["status"]) for r in responses)


async def funded_account(client: httpx.AsyncClient, customer: str) -> str:
    account = await new_account(client)
    await map_stripe_customer(client, account, customer)
    return account


async def charge_ready_account(client: httpx.AsyncClient, inference: str) -> str:
    account = await new_account(client, balance=1_000_000)
    r = await client.post(
        "/v1/outcomes",
        json={"inference_id": inference, "account_id": account, "cost_micros": 10_000},
    )
    assert r.status_code == 201
    return account


# ---------------------------------------------------------------- one service, both databases


async def test_twenty_concurrent_deliveries_of_one_webhook_credit_once(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(**ALL_RAILS)
    account = await funded_account(client, "cus_conc")
    body = stripe_funded("evt_conc", txn_id="ccsbtxn_conc", amount_cents=500, customer="cus_conc")
    responses = await asyncio.gather(*(deliver_stripe(client, body) for _ in range(N)))
    assert statuses(list(responses)) == {"applied": 1, "duplicate": N - 1}
    assert await ledger_sum(client, account) == (5_000_000, 5_000_000, 1)
    assert await count_rows(client, WebhookEvent) == 1


async def test_concurrent_events_reporting_one_payment_credit_once(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(**ALL_RAILS)
    account = await new_account(client)
    await insert_topup(client, account, rail="xendit", amount_micros=5_000_000, topup_id="top_cc")
    paid = xendit_invoice(invoice_id="inv_cc", external_id="top_cc", amount=5)
    settled = {**paid, "status": "SETTLED"}
    responses = await asyncio.gather(
        *(deliver_xendit(client, paid if n % 2 else settled) for n in range(N))
    )
    counts = statuses(list(responses))
    assert counts["applied"] == 1
    assert counts["duplicate"] == N - 1
    assert await ledger_sum(client, account) == (5_000_000, 5_000_000, 1)
    assert await count_rows(client, Receipt) == 1


async def test_twenty_concurrent_charges_of_one_inference_debit_once(
    make_service: ServiceFactory,
) -> None:
    client = await make_service()
    account = await charge_ready_account(client, "inf_conc")
    responses = await asyncio.gather(
        *(client.post("/v1/charges", json={"inference_id": "inf_conc"}) for _ in range(N))
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert Counter(r.json()["replayed"] for r in responses) == {False: 1, True: N - 1}
    assert {r.json()["ledger_entry_id"] for r in responses} == {
        responses[0].json()["ledger_entry_id"]
    }
    assert await ledger_sum(client, account) == (988_000, 988_000, 2)
    assert await count_rows(client, Charge) == 1


async def test_concurrent_outcomes_for_one_inference_record_one(
    make_service: ServiceFactory,
) -> None:
    client = await make_service()
    account = await new_account(client)
    responses = await asyncio.gather(
        *(
            client.post(
                "/v1/outcomes",
                json={"inference_id": "inf_race", "account_id": account, "cost_micros": n},
            )
            for n in range(N)
        )
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: N - 1}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "duplicate_outcome"
    }


# ---------------------------------------------------------------- a crash before the commit


async def test_a_crash_after_the_ledger_write_leaves_no_partial_credit_and_the_retry_applies_once(
    make_service: ServiceFactory,
) -> None:
    crash = True

    async def apply_then_die(*args: Any, **kwargs: Any) -> str:
        outcome = await apply_effects(*args, **kwargs)  # the credit is posted and flushed...
        if crash:
            assert outcome == "applied"
            raise RuntimeError("process killed before COMMIT")  # ...and never committed
        return outcome

    client = await make_service(
        raise_app_exceptions=False, components=Components(apply_effects=apply_then_die), **ALL_RAILS
    )
    account = await funded_account(client, "cus_crash")
    body = stripe_funded(
        "evt_crash", txn_id="ccsbtxn_crash", amount_cents=900, customer="cus_crash"
    )
    r = await deliver_stripe(client, body)
    assert (r.status_code, r.json()["error"]["code"]) == (500, "internal_error")
    assert await ledger_sum(client, account) == (0, 0, 0)
    assert await count_rows(client, WebhookEvent) == 0
    assert await count_rows(client, Receipt) == 0
    lifetime = (await client.get(f"/v1/accounts/{account}")).json()["lifetime_paid_micros"]
    assert lifetime == 0

    crash = False
    # the processor retries the same event after the 500: it applies now, once
    assert (await deliver_stripe(client, body)).json()["status"] == "applied"
    assert (await deliver_stripe(client, body)).json()["status"] == "duplicate"
    assert await ledger_sum(client, account) == (9_000_000, 9_000_000, 1)


async def test_a_crash_after_the_charge_debit_leaves_no_partial_debit_and_the_retry_charges_once(
    make_service: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await make_service(raise_app_exceptions=False)
    account = await charge_ready_account(client, "inf_crash")

    def die(**_: Any) -> Charge:
        raise RuntimeError("process killed between the debit and the charge record")

    monkeypatch.setattr(charges_route, "Charge", die)
    r = await client.post("/v1/charges", json={"inference_id": "inf_crash"})
    assert r.status_code == 500
    assert await ledger_sum(client, account) == (1_000_000, 1_000_000, 1)

    monkeypatch.undo()
    r = await client.post("/v1/charges", json={"inference_id": "inf_crash"})
    assert (r.status_code, r.json()["replayed"]) == (200, False)
    assert await ledger_sum(client, account) == (988_000, 988_000, 2)


# ---------------------------------------------------------------- two services, one PostgreSQL


@pytest.mark.postgres
async def test_two_instances_receiving_one_webhook_concurrently_credit_once(
    make_postgres_service: ServiceFactory,
) -> None:
    first = await make_postgres_service(**ALL_RAILS)
    second = await make_postgres_service(**ALL_RAILS)
    account = await funded_account(first, "cus_two")
    body = stripe_funded("evt_two", txn_id="ccsbtxn_two", amount_cents=250, customer="cus_two")
    responses = await asyncio.gather(
        *(deliver_stripe(first if n % 2 else second, body) for n in range(N))
    )
    assert statuses(list(responses)) == {"applied": 1, "duplicate": N - 1}
    assert await ledger_sum(second, account) == (2_500_000, 2_500_000, 1)


@pytest.mark.postgres
async def test_two_instances_charging_one_inference_concurrently_debit_once(
    make_postgres_service: ServiceFactory,
) -> None:
    first = await make_postgres_service()
    second = await make_postgres_service()
    account = await charge_ready_account(first, "inf_two")
    responses = await asyncio.gather(
        *(
            (first if n % 2 else second).post("/v1/charges", json={"inference_id": "inf_two"})
            for n in range(N)
        )
    )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert Counter(r.json()["replayed"] for r in responses) == {False: 1, True: N - 1}
    assert await ledger_sum(first, account) == (988_000, 988_000, 2)


@pytest.mark.postgres
async def test_two_instances_settling_usage_concurrently_never_overdraw(
    make_postgres_service: ServiceFactory,
) -> None:
    first = await make_postgres_service()
    second = await make_postgres_service()
    account = await new_account(first, balance=1_000)
    responses = await asyncio.gather(
        *(
            (first if n % 2 else second).post(
                "/v1/usage", json={"account_id": account, "charges_micros": [100]}
            )
            for n in range(N)
        )
    )
    # a request opening after others settled sees a smaller cap (402); the rest are served
    assert {r.status_code for r in responses} <= {200, 402}
    balance, total, entries = await ledger_sum(first, account)
    # sessions opened on the same balance cannot all be debited: the row lock refuses an overdraft
    assert balance >= 0
    assert total == balance
    assert entries == 1 + (1_000 - balance) // 100


@pytest.mark.postgres
async def test_two_instances_starting_on_one_fresh_database_both_serve_their_first_request(
    postgres_server: str,
) -> None:
    # not the truncated shared database: this one starts without a schema, as a new deployment does
    name = f"ph_fresh_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = f"{postgres_server.rpartition('/')[0]}/{name}"
    apps = [create_app(ReferenceSettings(database_url=url)) for _ in range(2)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reference.test")
        for app in apps
    ]
    try:
        responses = await asyncio.gather(*(c.post("/v1/accounts", json={}) for c in clients))
        assert [r.status_code for r in responses] == [201, 201]
    finally:
        for client in clients:
            await client.aclose()
        for app in apps:
            await close_app(app)
        admin = await asyncpg.connect(
            postgres_server.replace("postgresql+asyncpg://", "postgresql://")
        )
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
