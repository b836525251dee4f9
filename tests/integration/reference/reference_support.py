"""Helpers for the reference service's behaviour tests: signed webhook deliveries in each processor's own
scheme, event bodies the rails understand, direct database set-up, and metric reads.

Webhooks are signed here with stripe-python's own helper and raw hmac, never with `fakes.signing`, so a bug
in the fakes' signer cannot hide a bug in the service's verifier (DESIGN.md, "The reference service").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx
import stripe
from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase

from harness.reference import CdpRail, StripeRail, XenditRail
from harness.reference.models import Account, LedgerEntry, Topup
from harness.reference.state import ServiceState

#: builds a reference service on the test's database (fixture `make_service`)
ServiceFactory = Callable[..., Awaitable[httpx.AsyncClient]]

__all__ = [
    "ADMIN",
    "ALL_RAILS",
    "CDP",
    "CDP_SECRET",
    "STRIPE",
    "STRIPE_SECRET",
    "XENDIT",
    "XENDIT_TOKEN",
    "adjust_balance",
    "cdp_transfer",
    "count_ledger_entries",
    "count_rows",
    "deliver_cdp",
    "deliver_stripe",
    "deliver_xendit",
    "hook0_header",
    "insert_topup",
    "ledger",
    "ledger_sum",
    "map_stripe_customer",
    "metric",
    "new_account",
    "service_state",
    "stripe_event",
    "stripe_funded",
    "stripe_header",
    "stripe_invoice_paid",
    "stripe_subscription_deleted",
    "xendit_cycle_succeeded",
    "xendit_invoice",
    "xendit_plan_inactivated",
]

ADMIN = "admin-secret-for-tests"
STRIPE_SECRET = "whsec_test"
XENDIT_TOKEN = "xnd-callback-token-for-tests"
CDP_SECRET = "cdp-hook0-secret-for-tests"
#: port 9 (discard) on loopback: nothing answers, and no test here makes an outbound processor call
NOWHERE = "http://127.0.0.1:9"

STRIPE = StripeRail(api_base=NOWHERE, api_key="sk_test_x", webhook_secret=STRIPE_SECRET)
XENDIT = XenditRail(api_base=NOWHERE, api_key="xnd_development_x", callback_token=XENDIT_TOKEN)
CDP = CdpRail(
    facilitator_url=NOWHERE,
    webhook_secret=CDP_SECRET,
    pay_to="0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
)
#: settings overrides that configure every rail
ALL_RAILS: dict[str, Any] = {"stripe": STRIPE, "xendit": XENDIT, "cdp": CDP}


# ---------------------------------------------------------------- service plumbing


def service_state(client: httpx.AsyncClient) -> ServiceState:
    """The in-process app's state behind a client built by `make_service`."""
    state: ServiceState = client.app.state.service  # type: ignore[attr-defined]
    return state


def metric(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """A sample of the app's own registry (0 when the series does not exist yet)."""
    value = service_state(client).metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def count_rows(client: httpx.AsyncClient, model: type[DeclarativeBase]) -> int:
    """How many rows a table holds, read straight from the service's database."""
    async with service_state(client).db.read() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def insert_topup(
    client: httpx.AsyncClient, account_id: str, *, rail: str, amount_micros: int, topup_id: str
) -> str:
    """A pending top-up as if the processor had accepted it (no processor call in these tests)."""
    async with service_state(client).db.write() as session:
        session.add(
            Topup(
                id=topup_id,
                account_id=account_id,
                rail=rail,
                amount_micros=amount_micros,
                status="pending",
                details={},
            )
        )
    return topup_id


async def map_stripe_customer(client: httpx.AsyncClient, account_id: str, customer: str) -> None:
    """Link a Stripe customer to an account, as a first top-up or checkout would have."""
    async with service_state(client).db.write() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        account.stripe_customer_id = customer


# ---------------------------------------------------------------- accounts and ledger


async def adjust_balance(client: httpx.AsyncClient, account_id: str, balance_micros: int) -> None:
    """Set an absolute balance through the admin route."""
    r = await client.post(
        "/admin/balance-adjust",
        json={"account_id": account_id, "balance_micros": balance_micros, "reason": "test"},
        headers={"X-Admin-Secret": ADMIN},
    )
    assert r.status_code == 200, r.text


async def new_account(client: httpx.AsyncClient, *, cohort: bool = False, balance: int = 0) -> str:
    """Create an account and (through the admin route) give it a starting balance."""
    r = await client.post("/v1/accounts", json={"is_test_cohort": cohort})
    assert r.status_code == 201, r.text
    account_id = str(r.json()["id"])
    if balance:
        await adjust_balance(client, account_id, balance)
    return account_id


async def ledger(client: httpx.AsyncClient, account_id: str) -> dict[str, Any]:
    """The ledger envelope of an account (up to 1000 entries, newest first)."""
    r = await client.get(f"/v1/accounts/{account_id}/ledger", params={"limit": 1000})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def ledger_sum(client: httpx.AsyncClient, account_id: str) -> tuple[int, int, int]:
    """(balance, signed sum of the ledger, number of entries)."""
    body = await ledger(client, account_id)
    return (
        body["balance_micros"],
        sum(e["signed_amount_micros"] for e in body["entries"]),
        len(body["entries"]),
    )


async def count_ledger_entries(client: httpx.AsyncClient) -> int:
    """Every ledger entry of the service, all accounts together."""
    return await count_rows(client, LedgerEntry)


# ---------------------------------------------------------------- Stripe


def stripe_header(
    body: bytes,
    *,
    secret: str = STRIPE_SECRET,
    timestamp: int | None = None,
    extra_secrets: Sequence[str] = (),
) -> str:
    """`Stripe-Signature: t=..,v1=..` from stripe-python's own generator; one more `v1` per extra secret
    (a secret rotation sends one `v1` per active secret, PROCESSORS.md 1.1)."""
    ts = int(time.time()) if timestamp is None else timestamp
    header: str = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=ts
    )
    for other in extra_secrets:
        sig = hmac.new(other.encode(), f"{ts}.{body.decode()}".encode(), hashlib.sha256)
        header += f",v1={sig.hexdigest()}"
    return header


def stripe_event(
    event_id: str, event_type: str, obj: Mapping[str, Any], *, created: int = 1_700_000_000
) -> bytes:
    """A Stripe `event` envelope around `data.object`."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": created,
            "livemode": False,
            "data": {"object": dict(obj)},
        }
    ).encode()


def stripe_funded(
    event_id: str,
    *,
    txn_id: str,
    amount_cents: int,
    currency: str = "usd",
    customer: str = "cus_unmapped",
    reference: str | None = None,
) -> bytes:
    """`customer_cash_balance_transaction.created` of type `funded` (PROCESSORS.md 1.3 sample)."""
    bank: dict[str, Any] = {"type": "us_bank_transfer"}
    if reference is not None:
        bank["reference"] = reference
    return stripe_event(
        event_id,
        "customer_cash_balance_transaction.created",
        {
            "id": txn_id,
            "object": "customer_cash_balance_transaction",
            "currency": currency,
            "customer": customer,
            "net_amount": amount_cents,
            "ending_balance": amount_cents,
            "funded": {"bank_transfer": bank},
            "livemode": False,
            "type": "funded",
        },
    )


def stripe_invoice_paid(
    event_id: str,
    *,
    account_id: str,
    plan: str,
    subscription: str,
    invoice: str,
    amount_cents: int = 2_000,
    created: int = 1_700_000_000,
) -> bytes:
    """`invoice.paid` with `parent.subscription_details.metadata {account_id, plan}` (newer API shape)."""
    return stripe_event(
        event_id,
        "invoice.paid",
        {
            "id": invoice,
            "object": "invoice",
            "amount_paid": amount_cents,
            "currency": "usd",
            "status": "paid",
            "parent": {
                "type": "subscription_details",
                "subscription_details": {
                    "subscription": subscription,
                    "metadata": {"account_id": account_id, "plan": plan},
                },
            },
        },
        created=created,
    )


def stripe_subscription_deleted(
    event_id: str, *, subscription: str, created: int = 1_700_000_100
) -> bytes:
    """`customer.subscription.deleted`: the subscription ended."""
    return stripe_event(
        event_id,
        "customer.subscription.deleted",
        {"id": subscription, "object": "subscription", "status": "canceled", "metadata": {}},
        created=created,
    )


async def deliver_stripe(
    client: httpx.AsyncClient,
    body: bytes,
    *,
    header: str | None = None,
    signed: bool = True,
    rail: str = "stripe",
) -> httpx.Response:
    """POST a Stripe delivery, signed now with the test secret unless a header is given."""
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    elif signed:
        headers["Stripe-Signature"] = stripe_header(body)
    return await client.post(f"/v1/payments/webhook/{rail}", content=body, headers=headers)


# ---------------------------------------------------------------- Xendit


def xendit_invoice(
    *,
    invoice_id: str,
    external_id: str,
    amount: float | int | str,
    currency: str = "USD",
    status: str = "PAID",
) -> dict[str, Any]:
    """A flat invoice callback (PROCESSORS.md 2.4: no envelope, amounts in whole currency units)."""
    return {
        "id": invoice_id,
        "external_id": external_id,
        "user_id": "5f0000000000000000000001",
        "status": status,
        "merchant_name": "payharness",
        "amount": amount,
        "paid_amount": amount,
        "currency": currency,
        "created": "2025-01-01T00:00:00.000Z",
        "updated": "2025-01-01T00:02:00.000Z",
        "paid_at": "2025-01-01T00:02:00.000Z",
        "payment_method": "BANK_TRANSFER",
    }


def xendit_cycle_succeeded(
    *, event_id: str, plan_id: str, cycle_id: str, account_id: str, plan: str
) -> dict[str, Any]:
    """An enveloped `recurring.cycle.succeeded` callback for a plan subscription."""
    return {
        "id": event_id,
        "event": "recurring.cycle.succeeded",
        "created": "2025-01-01T00:00:00.000Z",
        "business_id": "5f0000000000000000000001",
        "data": {
            "id": cycle_id,
            "plan_id": plan_id,
            "status": "SUCCEEDED",
            "currency": "USD",
            "amount": 20,
            "metadata": {"account_id": account_id, "plan": plan},
        },
    }


def xendit_plan_inactivated(*, event_id: str, plan_id: str) -> dict[str, Any]:
    """An enveloped `recurring.plan.inactivated` callback: the subscription ended."""
    return {
        "id": event_id,
        "event": "recurring.plan.inactivated",
        "created": "2025-01-02T00:00:00.000Z",
        "data": {"id": plan_id, "status": "INACTIVE", "metadata": {}},
    }


async def deliver_xendit(
    client: httpx.AsyncClient, payload: Mapping[str, Any], *, token: str | None = XENDIT_TOKEN
) -> httpx.Response:
    """POST a Xendit callback carrying the static `x-callback-token` (PROCESSORS.md 2.1)."""
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["x-callback-token"] = token
    return await client.post(
        "/v1/payments/webhook/xendit", content=json.dumps(payload).encode(), headers=headers
    )


# ---------------------------------------------------------------- CDP (Hook0)

HOOK0_SIGNED_HEADERS = ("content-type", "x-event-id", "x-event-type")


def hook0_header(
    body: bytes,
    headers: Mapping[str, str],
    *,
    secret: str = CDP_SECRET,
    timestamp: int | None = None,
) -> str:
    """`X-Hook0-Signature: t=,h=,v1=` over `t.h.values.body`, values joined by `.` (PROCESSORS.md 3.2)."""
    ts = int(time.time()) if timestamp is None else timestamp
    names = " ".join(HOOK0_SIGNED_HEADERS)
    values = ".".join(headers[n] for n in HOOK0_SIGNED_HEADERS)
    signed = f"{ts}.{names}.{values}.".encode() + body
    v1 = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={ts},h={names},v1={v1}"


def cdp_transfer(*, transaction: str, value_micros: int, nonce: str) -> dict[str, Any]:
    """A settled USDC transfer event; `data.nonce` names the top-up it pays."""
    return {
        "eventType": "payment.transfer.settled",
        "createdAt": "2025-01-01T00:00:00Z",
        "data": {
            "transaction": transaction,
            "value": str(value_micros),
            "asset": CDP.asset,
            "from": "0x857b06519E91e3A54538791bDbb0E22373e36b66",
            "to": CDP.pay_to,
            "nonce": nonce,
        },
    }


async def deliver_cdp(
    client: httpx.AsyncClient,
    payload: Mapping[str, Any],
    *,
    event_id: str,
    timestamp: int | None = None,
    secret: str = CDP_SECRET,
    signed: bool = True,
) -> httpx.Response:
    """POST a CDP webhook with the event id and type in headers and a Hook0 signature over them."""
    body = json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        "x-event-id": event_id,
        "x-event-type": str(payload.get("eventType", "")),
    }
    if signed:
        headers["X-Hook0-Signature"] = hook0_header(
            body, headers, secret=secret, timestamp=timestamp
        )
    return await client.post("/v1/payments/webhook/cdp", content=body, headers=headers)
