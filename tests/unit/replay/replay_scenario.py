"""An in-process replay scenario: a "production" reference service and a fresh "staging" copy of it.

* `Reference` builds a live reference service on an SQLite file (rails Stripe, Xendit and CDP; the
  processors' APIs are answered by respx, so top-ups can start without sockets).
* `seed_accounts` creates accounts with a Stripe customer and a Xendit top-up each: the state a
  webhook needs before it can credit anyone.
* `snapshot` copies the database with SQLite's backup API: a fresh service started on the copy is the
  original run's state *before* its webhooks, which is what a replay must reproduce.
* Event builders make bodies in each processor's shape, and `prod_headers` signs them with the
  production secrets (never the staging ones), so a replay has to re-sign to be accepted.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import respx

from fakes.signing import Hook0Signer, StripeSigner, XenditCallbackToken
from harness.reference import (
    CdpRail,
    ReferenceSettings,
    StripeRail,
    XenditRail,
    close_app,
    create_app,
)

PROD = {"stripe": "whsec_production_secret", "xendit": "xnd_prod_token", "cdp": "cdp_prod_secret"}
STAGING = {"stripe": "whsec_staging_secret", "xendit": "xnd_staging_token", "cdp": "cdp_staging"}
STAGING_ENV = {
    "STRIPE_WEBHOOK_SECRET": STAGING["stripe"],
    "XENDIT_CALLBACK_TOKEN": STAGING["xendit"],
    "CDP_WEBHOOK_SECRET": STAGING["cdp"],
}
STRIPE_API = "http://stripe.api.invalid"
XENDIT_API = "http://xendit.api.invalid"
TARGET = "http://127.0.0.1:8000"  # a loopback URL; requests go through the in-process transport


def settings(database: Path, secrets: dict[str, str]) -> ReferenceSettings:
    """A live reference on ``database`` whose webhook secrets are ``secrets``."""
    return ReferenceSettings(
        payments_live=True,
        database_url=f"sqlite+aiosqlite:///{database}",
        stripe=StripeRail(
            api_base=STRIPE_API, api_key="sk_test_replay", webhook_secret=secrets["stripe"]
        ),
        xendit=XenditRail(
            api_base=XENDIT_API, api_key="xnd_test_replay", callback_token=secrets["xendit"]
        ),
        cdp=CdpRail(
            facilitator_url="http://facilitator.invalid",
            webhook_secret=secrets["cdp"],
            pay_to="0x" + "11" * 20,
        ),
    )


@asynccontextmanager
async def reference(database: Path, secrets: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh in-process reference service (closed afterwards)."""
    app = create_app(settings(database, secrets))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=TARGET) as client:
            client.transport_for_replay = transport  # type: ignore[attr-defined]
            yield client
    finally:
        await close_app(app)


def transport_of(client: httpx.AsyncClient) -> httpx.AsyncBaseTransport:
    """The in-process transport a `reference` client uses (for the replayer and the recorder)."""
    transport: httpx.AsyncBaseTransport = client.transport_for_replay  # type: ignore[attr-defined]
    return transport


@dataclass(frozen=True)
class Seeded:
    """One account ready to be credited by webhooks."""

    account_id: str
    stripe_customer: str
    xendit_topup: str
    xendit_invoice: str


def _processor_api() -> respx.MockRouter:
    customers = itertools.count(1)
    invoices = itertools.count(1)
    router = respx.mock(assert_all_called=False)
    router.post(f"{STRIPE_API}/v1/customers").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"id": f"cus_replay{next(customers)}", "object": "customer"}
        )
    )
    router.post(url__regex=rf"{STRIPE_API}/v1/customers/.+/funding_instructions").respond(
        200, json={"object": "funding_instructions", "bank_transfer": {}, "currency": "usd"}
    )
    router.post(f"{XENDIT_API}/v2/invoices").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"id": f"inv_replay{next(invoices)}", "invoice_url": "https://x.invalid"}
        )
    )
    return router


async def seed_accounts(client: httpx.AsyncClient, count: int) -> list[Seeded]:
    """``count`` accounts, each with a Stripe customer (a Stripe top-up) and a pending Xendit top-up."""
    seeded = []
    with _processor_api():
        for _ in range(count):
            r = await client.post("/v1/accounts", json={"is_test_cohort": True})
            assert r.status_code == 201, r.text
            account_id = r.json()["id"]
            r = await client.post(
                "/v1/payments/topup/stripe",
                json={"account_id": account_id, "amount_micros": 10_000},
            )
            assert r.status_code == 201, r.text
            customer = r.json()["processor_ref"]
            r = await client.post(
                "/v1/payments/topup/xendit",
                json={"account_id": account_id, "amount_micros": 5_000_000},
            )
            assert r.status_code == 201, r.text
            seeded.append(Seeded(account_id, customer, r.json()["id"], r.json()["processor_ref"]))
    return seeded


def snapshot(database: Path, copy: Path) -> Path:
    """A consistent copy of an SQLite database file."""
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return copy


def stripe_funded(event_id: str, txn_id: str, customer: str, amount_cents: int) -> bytes:
    """A ``customer_cash_balance_transaction.created`` event (funded), pretty-printed as Stripe sends."""
    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1_763_700_000,
        "livemode": False,
        "pending_webhooks": 1,
        "type": "customer_cash_balance_transaction.created",
        "data": {
            "object": {
                "id": txn_id,
                "object": "customer_cash_balance_transaction",
                "type": "funded",
                "currency": "usd",
                "customer": customer,
                "net_amount": amount_cents,
                "ending_balance": amount_cents,
                "funded": {"bank_transfer": {"type": "us_bank_transfer", "reference": None}},
            }
        },
    }
    return json.dumps(event, indent=2).encode()


def stripe_ignored(event_id: str) -> bytes:
    """An event type the service does not act on."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "customer.updated",
            "created": 1_763_700_001,
            "data": {"object": {"id": "cus_x", "object": "customer"}},
        }
    ).encode()


def xendit_paid(invoice_id: str, external_id: str, amount_usd: str) -> bytes:
    """A flat Xendit invoice PAID callback in USD (PROCESSORS.md 2.4)."""
    body: dict[str, Any] = {
        "id": invoice_id,
        "external_id": external_id,
        "user_id": "5f0000000000000000000000",
        "status": "PAID",
        "merchant_name": "payharness",
        "amount": float(amount_usd),
        "paid_amount": float(amount_usd),
        "currency": "USD",
        "paid_at": "2025-11-21T10:00:00.000Z",
        "created": "2025-11-21T09:59:00.000Z",
        "updated": "2025-11-21T10:00:01.000Z",
        "payment_method": "BANK_TRANSFER",
    }
    return json.dumps(body).encode()


def cdp_settlement(event_id: str, transaction: str, value: int) -> bytes:
    """An ``x402.settlement.completed`` body in the fake CDP's shape (its nonce matches no top-up)."""
    return json.dumps(
        {
            "eventId": event_id,
            "eventType": "x402.settlement.completed",
            "createdAt": "2025-11-21T10:00:00.000Z",
            "data": {
                "transaction": transaction,
                "network": "base-sepolia",
                "from": "0x" + "22" * 20,
                "to": "0x" + "11" * 20,
                "payer": "0x" + "22" * 20,
                "value": str(value),
                "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                "nonce": "0x" + "ab" * 32,
                "x402Version": 1,
            },
        },
        separators=(",", ":"),
    ).encode()


def prod_headers(rail: str, body: bytes) -> dict[str, str]:
    """Headers as the processor sent them to production: signed with the production secret."""
    headers = {"content-type": "application/json"}
    if rail == "stripe":
        return headers | StripeSigner(PROD["stripe"]).sign(body)
    if rail == "xendit":
        return headers | XenditCallbackToken(PROD["xendit"]).sign(body)
    event = json.loads(body)
    headers |= {"x-event-id": event["eventId"], "x-event-type": event["eventType"]}
    return headers | Hook0Signer(PROD["cdp"]).sign(body, headers=headers)


def original_events(seeded: list[Seeded]) -> list[tuple[str, bytes]]:
    """The production run's deliveries: per account one Stripe funding and one Xendit payment, plus an
    event the service ignores and a CDP settlement that credits nobody."""
    events: list[tuple[str, bytes]] = []
    for n, s in enumerate(seeded, start=1):
        events.append(
            ("stripe", stripe_funded(f"evt_fund{n}", f"ccsbtxn_{n}", s.stripe_customer, 1_000 * n))
        )
        events.append(("xendit", xendit_paid(s.xendit_invoice, s.xendit_topup, f"{n}.25")))
    events.append(("stripe", stripe_ignored("evt_other1")))
    events.append(
        ("cdp", cdp_settlement("0b9a2f5e-1111-4000-8000-000000000001", "0x" + "cd" * 32, 7_000))
    )
    return events


async def ledger_view(client: httpx.AsyncClient, account_ids: list[str]) -> dict[str, Any]:
    """What "the same ledger" means across two services: per account the balance, lifetime paid, tier
    and the entries (kind, signed amount, source, reference, balance after) oldest first."""
    view: dict[str, Any] = {}
    for account_id in account_ids:
        account = (await client.get(f"/v1/accounts/{account_id}")).json()
        ledger = (
            await client.get(f"/v1/accounts/{account_id}/ledger", params={"limit": 1000})
        ).json()
        view[account_id] = {
            "balance_micros": account["balance_micros"],
            "lifetime_paid_micros": account["lifetime_paid_micros"],
            "plan_tier": account["plan_tier"],
            "entries": [
                (
                    e["kind"],
                    e["signed_amount_micros"],
                    e["source"],
                    e["reference"],
                    e["balance_after_micros"],
                )
                for e in reversed(ledger["entries"])
            ],
        }
    return view


def order_free(view: dict[str, Any]) -> dict[str, Any]:
    """A ledger view without what depends on order (running balances, entry order)."""
    return {
        account_id: {
            **{k: v for k, v in account.items() if k != "entries"},
            "entries": sorted(e[:4] for e in account["entries"]),
        }
        for account_id, account in view.items()
    }
