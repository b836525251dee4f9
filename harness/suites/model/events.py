"""Processor events as the model knows them: the raw body a processor would send, and what it means.

Each builder returns an :class:`Event`: the exact bytes to deliver, the headers that travel with it (CDP's
`x-event-id`/`x-event-type`), the key a receiver dedupes it by, and its :data:`Meaning` for the contract: a
:class:`Payment` (money received, credited once if USD and attributable), a :class:`PlanPaid` (the only event
that raises a tier), a :class:`PlanEnded`, or ``None`` (an event that must change nothing: failures, refunds,
disputes, expiries, informational events). Wire shapes follow PROCESSORS.md; nothing here is taken from the
reference service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "INERT_CDP",
    "INERT_STRIPE",
    "INERT_XENDIT",
    "USDC",
    "Event",
    "Meaning",
    "Payment",
    "PlanEnded",
    "PlanPaid",
    "cdp_settlement",
    "reported_again",
    "stripe_funded",
    "stripe_inert",
    "stripe_invoice_paid",
    "stripe_subscription_ended",
    "xendit_cycle",
    "xendit_invoice",
    "xendit_plan",
]

#: USDC on Base Sepolia: the one asset a CDP transfer is wallet money in (PROCESSORS.md 3.1).
USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z: bodies are deterministic, signatures carry the time

#: Stripe events that move no money and flip no tier (failures, refunds, disputes, expiries, notices).
INERT_STRIPE = (
    "invoice.payment_failed",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "charge.refunded",
    "charge.dispute.created",
    "payment_intent.payment_failed",
    "checkout.session.expired",
    "customer.created",
    "customer.subscription.created",
    "cash_balance.funds_available",
)
#: Xendit callbacks that change nothing (an expired invoice, a failed cycle, a plan notice).
INERT_XENDIT = ("EXPIRED", "recurring.cycle.failed", "recurring.plan.activated")
#: CDP event types of transfers that did not happen.
INERT_CDP = ("x402.settlement.failed", "x402.settlement.reverted")


@dataclass(frozen=True, slots=True)
class Payment:
    """Money the processor says it received; `micros` is None for another currency or asset."""

    rail: str
    ref: str
    micros: int | None
    topup: str | None = None
    customer: str | None = None
    #: an out-of-range amount (zero, negative, past the contract's bound): never credited, and the
    #: contract lets the target answer `400 invalid_payload` or a 200 no-op
    odd: bool = False


@dataclass(frozen=True, slots=True)
class PlanPaid:
    """A subscription charged: the plan becomes active for the account (unless it already ended)."""

    rail: str
    sub_ref: str
    account_id: str
    plan: str


@dataclass(frozen=True, slots=True)
class PlanEnded:
    """A subscription ended (canceled, inactivated): its plan no longer counts for the tier."""

    rail: str
    sub_ref: str


Meaning = Payment | PlanPaid | PlanEnded | None


@dataclass(frozen=True, slots=True)
class Event:
    """One processor event: what is sent, how it is deduped, and what it means."""

    rail: str
    key: str
    event_type: str
    body: bytes
    meaning: Meaning
    headers: dict[str, str] = field(default_factory=dict)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _stripe(event_id: str, event_type: str, obj: dict[str, Any]) -> bytes:
    return _json(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": CREATED,
            "livemode": False,
            "data": {"object": obj},
        }
    )


def stripe_funded(
    txn: str, *, customer: str, topup: str | None, cents: int, currency: str = "usd"
) -> Event:
    """A funded bank transfer (`customer_cash_balance_transaction.created`, type funded)."""
    obj = {
        "id": txn,
        "object": "customer_cash_balance_transaction",
        "currency": currency,
        "customer": customer,
        "funded": {"bank_transfer": {"reference": topup, "type": "us_bank_transfer"}},
        "net_amount": cents,
        "type": "funded",
    }
    usd = currency.lower() == "usd"
    micros = cents * 10_000 if usd else None
    odd = usd and not 0 < cents * 10_000 <= 10**15
    meaning = Payment("stripe", txn, micros, topup, customer, odd)
    event_type = "customer_cash_balance_transaction.created"
    return Event(
        "stripe", f"evt_{txn}", event_type, _stripe(f"evt_{txn}", event_type, obj), meaning
    )


def stripe_invoice_paid(
    invoice: str, *, sub_ref: str, account_id: str, plan: str, account_key: str = "account_id"
) -> Event:
    """`invoice.paid` of a subscription whose metadata names the account (under `account_id` and the
    target's own `account_key`) and the plan."""
    metadata = {"account_id": account_id, "plan": plan}
    metadata[account_key] = account_id
    obj = {
        "id": invoice,
        "object": "invoice",
        "amount_paid": 2_000,
        "currency": "usd",
        "status": "paid",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {
                "subscription": sub_ref,
                "metadata": metadata,
            },
        },
    }
    body = _stripe(f"evt_{invoice}", "invoice.paid", obj)
    meaning = PlanPaid("stripe", sub_ref, account_id, plan)
    return Event("stripe", f"evt_{invoice}", "invoice.paid", body, meaning)


def stripe_subscription_ended(event_ref: str, *, sub_ref: str, updated: bool = False) -> Event:
    """`customer.subscription.deleted`, or `.updated` to status canceled."""
    event_type = "customer.subscription." + ("updated" if updated else "deleted")
    obj = {"id": sub_ref, "object": "subscription", "status": "canceled", "metadata": {}}
    body = _stripe(f"evt_{event_ref}", event_type, obj)
    return Event("stripe", f"evt_{event_ref}", event_type, body, PlanEnded("stripe", sub_ref))


def stripe_inert(event_ref: str, event_type: str, *, customer: str | None = None) -> Event:
    """An event of a type that must change nothing, with a plausible object."""
    obj: dict[str, Any] = {"id": f"obj_{event_ref}", "object": event_type.split(".")[0]}
    if customer:
        obj["customer"] = customer
    if event_type.startswith("invoice."):
        obj |= {"amount_paid": 0, "amount_due": 2_000, "currency": "usd", "status": "open"}
    if event_type == "charge.refunded":
        obj |= {"amount": 5_000, "amount_refunded": 5_000, "currency": "usd", "refunded": True}
    body = _stripe(f"evt_{event_ref}", event_type, obj)
    return Event("stripe", f"evt_{event_ref}", event_type, body, None)


def _decimal_number(text: str) -> Any:
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


def xendit_invoice(
    invoice: str, *, topup: str | None, status: str, amount: str, currency: str = "USD"
) -> Event:
    """A flat invoice callback (PAID, SETTLED, EXPIRED); its dedupe key is invoice id + status."""
    body = {
        "id": invoice,
        "external_id": topup,
        "user_id": "payharness",
        "status": status,
        "amount": _decimal_number(amount),
        "paid_amount": _decimal_number(amount),
        "currency": currency,
        "updated": "2026-01-01T00:00:00.000Z",
    }
    meaning: Meaning = None
    if status in ("PAID", "SETTLED"):
        micros = int(Decimal(amount) * 1_000_000) if currency == "USD" else None
        odd = micros is not None and not 0 < micros <= 10**15
        meaning = Payment("xendit", invoice, micros, topup, None, odd)
    event_type = "invoice.paid" if meaning else f"invoice.{status.lower()}"
    return Event("xendit", f"invoice:{invoice}:{status}", event_type, _json(body), meaning)


def _envelope(event_id: str, event: str, data: dict[str, Any]) -> bytes:
    return _json(
        {
            "id": event_id,
            "event": event,
            "business_id": "payharness",
            "created": "2026-01-01T00:00:00.000Z",
            "data": data,
        }
    )


def xendit_cycle(
    cycle: str, *, plan_ref: str, account_id: str, plan: str, succeeded: bool = True
) -> Event:
    """`recurring.cycle.succeeded` (the plan is paid) or `.failed` (nothing changes)."""
    event = "recurring.cycle." + ("succeeded" if succeeded else "failed")
    data = {
        "id": cycle,
        "plan_id": plan_ref,
        "type": "RECURRING_CYCLE",
        "status": "SUCCEEDED" if succeeded else "FAILED",
        "amount": 20,
        "currency": "USD",
        "metadata": {"account_id": account_id, "plan": plan},
    }
    meaning = PlanPaid("xendit", plan_ref, account_id, plan) if succeeded else None
    return Event("xendit", f"evt_{cycle}", event, _envelope(f"evt_{cycle}", event, data), meaning)


def xendit_plan(event_ref: str, *, plan_ref: str, inactivated: bool = True) -> Event:
    """`recurring.plan.inactivated` (the plan ends) or `.activated` (a notice: nothing changes)."""
    event = "recurring.plan." + ("inactivated" if inactivated else "activated")
    data: dict[str, Any] = {
        "id": plan_ref,
        "status": "INACTIVE" if inactivated else "ACTIVE",
        "metadata": {},
    }
    meaning = PlanEnded("xendit", plan_ref) if inactivated else None
    body = _envelope(f"evt_{event_ref}", event, data)
    return Event("xendit", f"evt_{event_ref}", event, body, meaning)


def cdp_settlement(
    event_id: str,
    *,
    tx: str,
    value: int,
    nonce: str,
    event_type: str = "x402.settlement.completed",
    asset: str = USDC,
) -> Event:
    """A Hook0-delivered settlement event; only a completed USDC transfer is a payment."""
    body = _json(
        {
            "eventId": event_id,
            "eventType": event_type,
            "createdAt": "2026-01-01T00:00:00.000Z",
            "data": {
                "transaction": tx,
                "network": "base-sepolia",
                "value": str(value),
                "asset": asset,
                "nonce": nonce,
                "x402Version": 1,
            },
        }
    )
    meaning: Meaning = None
    if event_type == "x402.settlement.completed":
        micros = value if asset.lower() == USDC.lower() else None
        odd = micros is not None and not 0 < micros <= 10**15
        meaning = Payment("cdp", tx, micros, None, None, odd)
    headers = {"x-event-id": event_id, "x-event-type": event_type}
    return Event("cdp", event_id, event_type, body, meaning, headers)


def reported_again(event: Event, fresh: str) -> Event:
    """The same payment in another event (a new event id; Xendit: its SETTLED after PAID): a receiver
    dedupes by payment, not only by event, so it must not credit twice (PROCESSORS.md 4)."""
    if event.rail == "xendit":
        body = json.loads(event.body)
        body["status"] = "SETTLED" if body.get("status") == "PAID" else "PAID"
        key = f"invoice:{body['id']}:{body['status']}"
        return Event(event.rail, key, "invoice.paid", _json(body), event.meaning)
    body = json.loads(event.body)
    if event.rail == "stripe":
        body["id"] = f"evt_{fresh}"
        return Event(event.rail, body["id"], event.event_type, _json(body), event.meaning)
    body["eventId"] = fresh
    headers = {**event.headers, "x-event-id": fresh}
    return Event(event.rail, fresh, event.event_type, _json(body), event.meaning, headers)
