"""Event-reading defects: what a verified processor event is taken to mean (issue 11, class 2).

Every adapter reads the processor's events almost right: the currency forgotten (IDR or JPY credited as
USD), Stripe's minor units read as major ones, Stripe's customer-balance sign inverted, a failed invoice or a failed recurring cycle read as paid, a
failed or non-USDC settlement credited, a paid plan's amount never read.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from harness.reference.money import decimal_to_micros
from harness.reference.rails.base import (
    PaymentReceived,
    ProcessorEvent,
    ProcessorRecord,
)
from harness.reference.rails.cdp import CdpAdapter
from harness.reference.rails.stripe import StripeAdapter, _effects
from harness.reference.rails.xendit import XenditAdapter

__all__ = [
    "AmountBlindStripeAdapter",
    "AmountBlindXenditAdapter",
    "AnySettlementCdpAdapter",
    "BalanceSignStripeAdapter",
    "CentsAsDollarsStripeAdapter",
    "CurrencyBlindStripeAdapter",
    "CurrencyBlindXenditAdapter",
    "FailedCycleXenditAdapter",
    "FailedInvoiceStripeAdapter",
]

#: Stripe invoice events that are not a payment (they carry the same subscription details).
_UNPAID_INVOICE = ("invoice.payment_failed", "invoice.voided", "invoice.marked_uncollectible")


def _as_usd(event: ProcessorEvent) -> ProcessorEvent:
    """Every payment counted in USD, whatever its currency said."""
    effects = tuple(
        dataclasses.replace(e, currency="USD", amount_micros=decimal_to_micros(e.amount_text))
        if isinstance(e, PaymentReceived) and e.amount_micros is None
        else e
        for e in event.effects
    )
    return dataclasses.replace(event, effects=effects)


class CurrencyBlindXenditAdapter(XenditAdapter):
    """A paid invoice's amount taken as USD: 15,000 IDR becomes 15,000 USD."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """The currency ignored (the defect)."""
        return _as_usd(super().parse_webhook(body, headers))


class CurrencyBlindStripeAdapter(StripeAdapter):
    """Cash-balance amounts read as US cents whatever the currency: 1,000 JPY (zero-decimal) credits 10 USD."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """The currency ignored (the defect)."""
        return _as_usd(super().parse_webhook(body, headers))


def _cents_as_dollars(payment: Any) -> Any:
    """A USD amount in cents (a `PaymentReceived` or `ProcessorRecord`) converted as if it were dollars:
    the integer Stripe sent becomes the major-unit text, a hundred times the money."""
    if payment.amount_micros is None:
        return payment
    cents = payment.amount_micros // 10_000
    return dataclasses.replace(
        payment, amount_text=str(cents), amount_micros=decimal_to_micros(str(cents))
    )


class CentsAsDollarsStripeAdapter(StripeAdapter):
    """Stripe's `net_amount` (integer cents) read as dollars: a 10.00 USD bank transfer (1000) credits
    1,000 USD, in webhooks and in reconciliation alike."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """Every USD payment credited a hundred times over (the defect)."""
        event = super().parse_webhook(body, headers)
        effects = tuple(
            _cents_as_dollars(e) if isinstance(e, PaymentReceived) else e for e in event.effects
        )
        return dataclasses.replace(event, effects=effects)

    async def list_payments(self, customer_refs: list[str]) -> list[ProcessorRecord] | None:
        """Reconciliation reads the amounts the same wrong way (one shared conversion)."""
        records = await super().list_payments(customer_refs)
        return None if records is None else [_cents_as_dollars(r) for r in records]


class BalanceSignStripeAdapter(StripeAdapter):
    """Reads a rise of the Stripe customer balance as money received. Stripe's sign is the other way:
    a positive balance is what the customer owes, a negative one a credit they hold."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """`customer.updated` with a higher balance credits the difference (the defect)."""
        event = super().parse_webhook(body, headers)
        payload: dict[str, Any] = json.loads(body)
        previous = payload.get("data", {}).get("previous_attributes") or {}
        obj = payload.get("data", {}).get("object") or {}
        if event.event_type != "customer.updated" or "balance" not in previous:
            return event
        rise = int(obj.get("balance") or 0) - int(previous["balance"] or 0)
        if rise <= 0:
            return event
        payment = PaymentReceived(
            processor_ref=f"balance:{event.event_id}",
            amount_text=f"{rise / 100:.2f}",
            currency="USD",
            amount_micros=rise * 10_000,
            customer_ref=str(obj.get("id")),
        )
        return dataclasses.replace(event, effects=(payment,))


class FailedInvoiceStripeAdapter(StripeAdapter):
    """Every invoice event with subscription details raises the plan: a failed or voided one too."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """`invoice.payment_failed` read as `invoice.paid` (the defect)."""
        event = super().parse_webhook(body, headers)
        if event.event_type not in _UNPAID_INVOICE:
            return event
        obj = json.loads(body)["data"]["object"]
        return dataclasses.replace(event, effects=_effects("invoice.paid", obj))


class FailedCycleXenditAdapter(XenditAdapter):
    """Every `recurring.cycle.*` callback read as a paid cycle: a failed one raises the plan."""

    def _enveloped(self, p: Mapping[str, Any]) -> ProcessorEvent:
        """`recurring.cycle.failed` read as succeeded (the defect)."""
        if str(p.get("event", "")).startswith("recurring.cycle."):
            event = super()._enveloped({**p, "event": "recurring.cycle.succeeded"})
            return dataclasses.replace(event, event_type=str(p["event"]))
        return super()._enveloped(p)


class AnySettlementCdpAdapter(CdpAdapter):
    """Credits every settlement-shaped event: the event type (failed) and the asset are not checked."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """A failed or non-USDC transfer credited as USDC (the defect)."""
        given = dict(headers)
        event = super().parse_webhook(body, {**given, "x-event-type": "x402.settlement.completed"})
        effects = tuple(
            dataclasses.replace(
                e, currency="USD", amount_micros=int(json.loads(body)["data"]["value"])
            )
            if isinstance(e, PaymentReceived)
            else e
            for e in event.effects
        )
        return dataclasses.replace(
            event, event_type=given.get("x-event-type", event.event_type), effects=effects
        )


def _count_of_cents(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class AmountBlindStripeAdapter(StripeAdapter):
    """`invoice.paid` raises the plan whatever its `amount_paid` says: null, a boolean, a string, a
    fraction or a negative amount is read as 0 paid, and the plan flips anyway (the reference before
    issue 11's last gap: `int(amount_paid or 0)`)."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """An unreadable amount paid replaced by 0 before the event is read (the defect)."""
        try:
            payload = json.loads(body)
            obj = payload["data"]["object"]
            if payload["type"] == "invoice.paid" and not _count_of_cents(obj.get("amount_paid")):
                obj["amount_paid"] = 0
                body = json.dumps(payload).encode()
        except (ValueError, KeyError, TypeError):
            pass  # not an event of that shape: read as the reference reads it
        return super().parse_webhook(body, headers)


class AmountBlindXenditAdapter(XenditAdapter):
    """`recurring.cycle.succeeded` raises the plan whatever its amount says (null, words, negative: 0)."""

    def _enveloped(self, p: Mapping[str, Any]) -> ProcessorEvent:
        """An unreadable cycle amount replaced by 0 (the defect)."""
        data = p.get("data")
        if p.get("event") == "recurring.cycle.succeeded" and isinstance(data, dict):
            amount = data.get("amount")
            if isinstance(amount, bool) or not _finite_non_negative(str(amount)):
                p = {**p, "data": {**data, "amount": 0}}
        return super()._enveloped(p)


def _finite_non_negative(text: str) -> bool:
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return False
    return number.is_finite() and number >= 0
