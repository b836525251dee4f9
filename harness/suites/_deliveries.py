"""Crediting webhook deliveries on every rail, and the truth surfaces a delivery may (or must not) change.

:func:`crediting_delivery` opens a top-up on a rail for a fresh account and builds the processor event that
reports it paid, exactly as the rail's processor shapes it (a funded Stripe cash-balance transaction, a PAID
Xendit invoice callback, a CDP x402 settlement naming the top-up), with a signer for it. Delivered validly
signed it credits `amount_micros`; the adversarial suites deliver it forged, malformed or out of range.

:class:`Truth` is everything a webhook can move: balance, lifetime paid, tier and subscription status, the
ledger, and the processor journals (a refused delivery must not make the target call a processor).
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.suites._forgeries import Signed
from harness.suites._processors import Processors, stripe_funded
from harness.suites._support import Api, unique
from harness.suites.failures import SuiteFailure

__all__ = [
    "Delivery",
    "Truth",
    "crediting_delivery",
    "deliver",
    "settlement_event",
    "signed_headers",
    "xendit_invoice_callback",
]

#: The CDP settlement event type (fakes/cdp/webhooks.py).
CDP_SETTLED = "x402.settlement.completed"


@dataclass(frozen=True, slots=True)
class Truth:
    """One account's truth surfaces, and the processor calls made since a mark."""

    balance: int
    lifetime_paid: int
    tier: str
    subscription: str
    ledger: tuple[tuple[str, int], ...]
    processor_calls: int

    @classmethod
    def read(cls, api: Api, processors: Processors, account: str, mark: Mapping[str, int]) -> Truth:
        """Read every surface now."""
        state = api.account(account)
        billing = api.billing(account)
        entries = api.entries(account)
        return cls(
            balance=int(state["balance_micros"]),
            lifetime_paid=int(state["lifetime_paid_micros"]),
            tier=str(billing.get("plan_tier")),
            subscription=str(billing.get("subscription_status")),
            ledger=tuple((str(e.get("kind")), int(e["amount_micros"])) for e in entries),
            processor_calls=len(processors.calls_since(mark)),
        )

    def changes(self, after: Truth) -> list[str]:
        """What differs in `after`, one phrase per surface."""
        return [
            f"{name} {getattr(self, name)!r} → {getattr(after, name)!r}"
            for name in self.__dataclass_fields__
            if getattr(self, name) != getattr(after, name)
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """A crediting event for a pending top-up of `account`, and how its rail signs it."""

    rail: str
    account: str
    topup: dict[str, Any]
    event: dict[str, Any]
    amount_micros: int
    processors: Processors

    @property
    def sign(self) -> Signed:
        """Signs a body the way the rail does, for this event's identity (CDP signs its id and type)."""
        return _signer(self.processors, self.rail, self.event)

    @property
    def body(self) -> bytes:
        """The raw body as the processor sends it."""
        return json.dumps(self.event, separators=(",", ":")).encode()

    def with_event(self, event: dict[str, Any]) -> Delivery:
        """The same delivery carrying another event body."""
        return Delivery(
            rail=self.rail,
            account=self.account,
            topup=self.topup,
            event=event,
            amount_micros=self.amount_micros,
            processors=self.processors,
        )

    @property
    def event_id(self) -> str:
        """The processor's event id (for failure messages)."""
        return str(self.event.get("id") or self.event.get("eventId") or "")


def _header_text(value: Any) -> str:
    """A value as a header can carry it: printable ASCII as it is, anything else JSON-escaped (a lone
    surrogate or a NUL in a generated event id cannot travel in a header)."""
    text = str(value or "")
    return text if text.isascii() and text.isprintable() else json.dumps(text)[1:-1]


def _signer(processors: Processors, rail: str, event: Mapping[str, Any]) -> Signed:
    event_id = _header_text(event.get("eventId"))
    event_type = _header_text(event.get("eventType"))

    def sign(body: bytes, secret: str | None, timestamp: int | None) -> dict[str, str]:
        return processors.signed(
            rail,
            body,
            secret=secret,
            timestamp=timestamp,
            event_id=event_id,
            event_type=event_type,
        )

    return sign


def xendit_invoice_callback(
    *, invoice: str, external_id: str, amount: Any, currency: str = "USD", status: str = "PAID"
) -> dict[str, Any]:
    """A flat Xendit invoice callback (PROCESSORS.md 2.4)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return {
        "id": invoice,
        "external_id": external_id,
        "user_id": "payharness",
        "status": status,
        "amount": amount,
        "paid_amount": amount,
        "currency": currency,
        "paid_at": now,
        "created": now,
        "updated": now,
    }


def settlement_event(
    *, topup: str, value: Any, asset: str, event_type: str = CDP_SETTLED
) -> dict[str, Any]:
    """A CDP x402 settlement event naming `topup` (fakes/cdp/webhooks.py's shape)."""
    payer = "0x" + secrets.token_hex(20)
    return {
        "eventId": str(uuid.uuid4()),
        "eventType": event_type,
        "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "data": {
            "transaction": "0x" + secrets.token_hex(32),
            "network": "base-sepolia",
            "from": payer,
            "payer": payer,
            "value": value,
            "asset": asset,
            "nonce": topup,
        },
    }


def _major(micros: int) -> int | float:
    """A USD amount as Xendit writes it: a JSON number in major units."""
    whole, frac = divmod(micros, 1_000_000)
    return whole if not frac else micros / 1_000_000


def crediting_delivery(
    api: Api, processors: Processors, rail: str, amount_micros: int = 1_000_000
) -> Delivery:
    """A fresh account with a pending top-up on `rail`, and the event that reports it paid."""
    account = api.new_account()
    response = api.call(
        "POST",
        f"/v1/payments/topup/{rail}",
        json_body={"account_id": account, "amount_micros": amount_micros},
    )
    topup = dict(api.expect(response, (200, 201), SuiteFailure, f"a {rail} top-up starts"))
    event: dict[str, Any]
    if rail == "stripe":
        event = stripe_funded(
            customer=str(topup["details"]["customer"]),
            txn_ref=unique("ccsbtxn"),
            amount_cents=amount_micros // 10_000,
            reference=str(topup["id"]),
        )
    elif rail == "xendit":
        event = xendit_invoice_callback(
            invoice=str(topup.get("processor_ref") or unique("inv")),
            external_id=str(topup["id"]),
            amount=_major(amount_micros),
        )
    else:
        asset = str(topup["details"]["payment_requirements"]["accepts"][0]["asset"])
        event = settlement_event(topup=str(topup["id"]), value=str(amount_micros), asset=asset)
    return Delivery(
        rail=rail,
        account=account,
        topup=topup,
        event=event,
        amount_micros=amount_micros,
        processors=processors,
    )


def deliver(processors: Processors, delivery: Delivery, headers: Mapping[str, str]) -> Any:
    """POST the delivery's body with `headers` to the target's webhook endpoint of its rail."""
    return processors.deliver(delivery.rail, delivery.body, headers)


def signed_headers(delivery: Delivery) -> dict[str, str]:
    """Valid headers for the delivery's current body."""
    return delivery.sign(delivery.body, None, None)
