"""Prorations: what changing a subscription's items mid-period owes, as pending invoice items.

``POST /v1/subscriptions/{id}`` with ``items`` (a new price or quantity, an added or ``deleted`` item) and
``proration_behavior``:

* ``create_prorations`` (the default): for each changed item, an ``invoiceitem`` with ``proration: true``
  crediting the unused time on the old price and quantity (a negative amount) and one charging the remaining
  time on the new ones, both for ``[proration_date, current_period_end)``; they stay pending (``invoice``
  null) until the subscription's next invoice picks them up (:func:`take_pending_items`);
* ``always_invoice``: the same items, invoiced at once (``billing_reason: subscription_update``);
* ``none``: nothing.

The amount is ``unit_amount * quantity * remaining / period`` with the period's seconds, as Stripe prorates
"down to the second", rounded half up on the magnitude to an integer of the currency's minor unit (so a
credit and a charge for the same price cancel exactly). Stripe does not publish its rounding rule; this
one is the fake's documented choice. ``proration_date`` defaults to now (the test clock's ``frozen_time``
for a customer on one) and must lie within the current period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from fakes.stripe.state import Obj, StripeState

__all__ = [
    "ItemChange",
    "line_for_item",
    "prorate",
    "proration_items",
    "take_pending_items",
]

#: An item's billing before and after an update: ``(price, quantity)`` or None (added / deleted).
ItemChange = tuple[Obj, tuple[Obj, int] | None, tuple[Obj, int] | None]


def _fraction_amount(amount: int, remaining: int, period: int) -> Fraction:
    return Fraction(amount * remaining, period)


def prorate(amount: int, remaining: int, period: int) -> int:
    """``amount`` (minor units, >= 0) for ``remaining`` of ``period`` seconds, rounded half up."""
    if period <= 0 or remaining <= 0:
        return 0
    remaining = min(remaining, period)
    return (2 * amount * remaining + period) // (2 * period)


def _unit_decimal(unit_amount: int, remaining: int, period: int) -> str:
    """The prorated unit price as Stripe's ``unit_amount_decimal`` (a decimal string, 12 places at most)."""
    exact = _fraction_amount(unit_amount, remaining, period)
    value = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("1e-12"))
    text = format(value.normalize(), "f")
    return text


def _describe(state: StripeState, price: Obj, quantity: int, prefix: str, at: int) -> str:
    product = state.products.get(price["product"], {})
    name = product.get("name", price["product"])
    counted = f"{quantity} \u00d7 {name}" if quantity != 1 else str(name)
    day = dt.datetime.fromtimestamp(at, tz=dt.UTC).strftime("%d %b %Y")
    return f"{prefix} time on {counted} after {day}"


def _item(
    state: StripeState,
    subscription: Obj,
    item: Obj,
    billing: tuple[Obj, int],
    *,
    credit: bool,
    at: int,
    period: tuple[int, int],
) -> Obj:
    price, quantity = billing
    start, end = period
    remaining, length = end - at, end - start
    amount = prorate(price["unit_amount"] * quantity, remaining, length)
    amount = -amount if credit else amount
    unit = _unit_decimal(price["unit_amount"], remaining, length)
    return {
        "id": state.ids.new("ii_"),
        "object": "invoiceitem",
        "amount": amount,
        "currency": subscription["currency"],
        "customer": subscription["customer"],
        "date": at,
        "description": _describe(state, price, quantity, "Unused" if credit else "Remaining", at),
        "discountable": False,  # Stripe does not discount proration items
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": {},
        "net_amount": amount,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {
                "subscription": subscription["id"],
                "subscription_item": item["id"],
            },
        },
        "period": {"start": at, "end": end},
        "pricing": {
            "type": "price_details",
            "price_details": {"price": price["id"], "product": price["product"]},
            "unit_amount_decimal": f"-{unit}" if credit and unit != "0" else unit,
        },
        "proration": True,
        "proration_details": {"discount_amounts": []},
        "quantity": quantity,
        "tax_rates": [],
        "test_clock": subscription["test_clock"],
    }


def _credited_line(state: StripeState, subscription: Obj, item_id: str) -> Obj | None:
    """The line of the subscription's latest invoice that billed ``item_id`` (what a credit refunds)."""
    invoice = state.invoices.get(subscription["latest_invoice"] or "")
    if invoice is None:
        return None
    for line in invoice["lines"]["data"]:
        details = (line.get("parent") or {}).get("subscription_item_details") or {}
        if details.get("subscription_item") == item_id and not details.get("proration"):
            return {"invoice": invoice["id"], "invoice_line_items": [line["id"]]}
    return None


def proration_items(
    state: StripeState,
    subscription: Obj,
    changes: list[ItemChange],
    *,
    at: int,
    period: tuple[int, int],
    request: Mapping[str, str | None] | None = None,
) -> list[Obj]:
    """Create (and store as pending) the credit and charge items for ``changes`` at ``at``, each with
    ``invoiceitem.created``."""
    created: list[Obj] = []
    for item, before, after in changes:
        if before == after or at >= period[1]:
            continue
        if before is not None:
            credit = _item(state, subscription, item, before, credit=True, at=at, period=period)
            credited = _credited_line(state, subscription, item["id"])
            if credited is not None:
                state.proration_credits[credit["id"]] = credited
            created.append(credit)
        if after is not None:
            created.append(
                _item(state, subscription, item, after, credit=False, at=at, period=period)
            )
    for invoice_item in created:
        state.invoice_items[invoice_item["id"]] = invoice_item
        state.emit("invoiceitem.created", invoice_item, request=request)
    return created


def take_pending_items(state: StripeState, subscription: Obj, invoice_id: str) -> list[Obj]:
    """The customer's pending invoice items this subscription's invoice bills (its own prorations and
    items tied to no subscription), in creation order, now marked as on ``invoice_id``."""
    taken = []
    for item in state.invoice_items.values():
        if item["invoice"] is not None or item["customer"] != subscription["customer"]:
            continue
        if item["currency"] != subscription["currency"]:
            continue
        parent = (item["parent"] or {}).get("subscription_details") or {}
        if parent.get("subscription") not in (None, subscription["id"]):
            continue
        item["invoice"] = invoice_id
        taken.append(item)
    return taken


def line_for_item(state: StripeState, invoice_id: str, item: Obj) -> Obj:
    """The invoice line an invoice item becomes (``parent`` says which kind of item it came from)."""
    parent = (item["parent"] or {}).get("subscription_details")
    credited = state.proration_credits.get(item["id"])
    if parent is not None:
        line_parent: Obj = {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": item["id"],
                "proration": item["proration"],
                "proration_details": {"credited_items": credited},
                "subscription": parent["subscription"],
                "subscription_item": parent["subscription_item"],
            },
        }
    else:
        line_parent = {
            "type": "invoice_item_details",
            "invoice_item_details": {
                "invoice_item": item["id"],
                "proration": item["proration"],
                "proration_details": {"credited_items": credited},
                "subscription": None,
            },
            "subscription_item_details": None,
        }
    return {
        "id": state.ids.new("il_"),
        "object": "line_item",
        "amount": item["amount"],
        "currency": item["currency"],
        "description": item["description"],
        "discount_amounts": [],
        "discountable": item["discountable"],
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(item["metadata"]),
        "parent": line_parent,
        "period": dict(item["period"]),
        "pretax_credit_amounts": [],
        "pricing": item["pricing"],
        "quantity": item["quantity"],
        "subscription": None,
        "taxes": [],
    }
