"""Subscriptions and invoices: what a completed subscription checkout creates, renews and cancels.

An invoice names its subscription under ``parent.subscription_details`` (``{subscription, metadata}``), as
API version 2025-11-17.clover does; it has no top-level ``subscription`` (removed in 2025-03-31.basil), so
an integration still reading that field breaks against the fake as it would against Stripe.
As on Stripe, a customer's credit balance (negative = credit, PROCESSORS.md 1.2) is applied to the invoice
before it is charged, and the application is recorded as an ``applied_to_invoice`` balance transaction.
"""

from __future__ import annotations

from fakes._common import FakeError, FakeNotFound, Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.collection import collect_invoice
from fakes.stripe.customers import create_balance_transaction
from fakes.stripe.discounts import (
    after_invoice,
    apply_discounts,
    parse_discounts,
    redeem,
    replace_discounts,
    subscription_discounts_at,
)
from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import Params, merge_metadata
from fakes.stripe.payments import DECLINES, check_payment_method
from fakes.stripe.periods import add_interval
from fakes.stripe.prorations import (
    ItemChange,
    line_for_item,
    proration_items,
    take_pending_items,
)
from fakes.stripe.shapes import (
    invoice_defaults,
    line_item_defaults,
    plan_of,
    subscription_defaults,
    subscription_item_defaults,
)
from fakes.stripe.state import Obj, StripeState

__all__ = [
    "billing_routes",
    "current_period",
    "invoice_subscription",
    "make_subscription_invoice",
    "new_subscription_item",
    "renew_subscription",
]


def invoice_subscription(invoice: Obj) -> str | None:
    """The subscription an invoice bills (``parent.subscription_details.subscription`` since Basil)."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = details.get("subscription")
    return subscription if isinstance(subscription, str) else None


def make_subscription_invoice(
    state: StripeState,
    subscription: Obj,
    *,
    billing_reason: str,
    period_start: int,
    period_end: int,
    period_lines: bool = True,
) -> Obj:
    """The invoice for one period of ``subscription``, with the customer's credit applied first, built
    as paid: :func:`~fakes.stripe.collection.collect_invoice` rewrites it to ``open`` if the payment fails.

    Pending invoice items (prorations, :mod:`fakes.stripe.prorations`) come first, then one line per item
    for the period (none with ``period_lines=False``: an update invoiced at once bills its prorations
    only). A negative total (a downgrade's credit) is due as 0 and credited to the customer's balance,
    as Stripe does."""
    now = state.now()
    invoice_id = state.ids.new("in_")
    customer = state.customers[subscription["customer"]]
    currency = subscription["currency"]
    lines = [
        line_for_item(state, invoice_id, pending)
        for pending in take_pending_items(state, subscription, invoice_id)
    ]
    for item in subscription["items"]["data"] if period_lines else ():
        price = item["price"]
        amount = price["unit_amount"] * item["quantity"]
        product = state.products.get(price["product"], {})
        lines.append(
            {
                **line_item_defaults(),
                "id": state.ids.new("il_"),
                "object": "line_item",
                "amount": amount,
                "currency": currency,
                # Stripe writes "1 <multiplication sign> Pro"; the escape keeps the source ASCII.
                "description": f"{item['quantity']} \u00d7 {product.get('name', price['product'])}",
                "invoice": invoice_id,
                "parent": {
                    "type": "subscription_item_details",
                    "invoice_item_details": None,
                    "subscription_item_details": {
                        "invoice_item": None,
                        "proration": False,
                        "proration_details": {"credited_items": None},
                        "subscription": subscription["id"],
                        "subscription_item": item["id"],
                    },
                },
                "period": {
                    "start": item["current_period_start"],
                    "end": item["current_period_end"],
                },
                "pricing": {
                    "type": "price_details",
                    "price_details": {"price": price["id"], "product": price["product"]},
                    "unit_amount_decimal": price["unit_amount_decimal"],
                },
                "quantity": item["quantity"],
            }
        )
    # The moment the invoice bills: a renewal's new period start, a creation's or an update's now.
    applied_discounts = subscription_discounts_at(state, subscription, period_end)
    subtotal = sum(line["amount"] for line in lines)
    priced: Obj = {"discounts": applied_discounts, "lines": {"data": lines}}
    total = subtotal - apply_discounts(state, priced)
    starting_balance = state.credit_balances.get(customer["id"], {}).get(currency, 0)
    # A negative total (a downgrade's credit) goes to the customer's balance and nothing is due.
    applied = min(total, -starting_balance) if starting_balance < 0 else 0
    applied = total if total < 0 else applied
    if applied:
        transaction = create_balance_transaction(
            state, customer["id"], amount=applied, currency=currency, type="applied_to_invoice"
        )
        transaction["invoice"] = invoice_id
    sequence = customer["next_invoice_sequence"]
    customer["next_invoice_sequence"] = sequence + 1
    invoice: Obj = {
        **invoice_defaults(),
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Payharness Test Account",
        "amount_due": total - applied,
        "amount_overpaid": 0,
        "amount_paid": total - applied,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "attempt_count": 1,
        "attempted": True,
        "auto_advance": False,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": currency,
        "customer": customer["id"],
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "ending_balance": starting_balance + applied,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{state.config.account_id}/{invoice_id}",
        "invoice_pdf": f"https://pay.stripe.com/invoice/{state.config.account_id}/{invoice_id}/pdf",
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "number": f"{customer['invoice_prefix']}-{sequence:04d}",
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(subscription["metadata"]),
                "subscription": subscription["id"],
            },
        },
        "period_end": period_end,
        "period_start": period_start,
        "starting_balance": starting_balance,
        "status": "paid",
        "test_clock": customer["test_clock"],
        "status_transitions": {
            "finalized_at": now,
            "marked_uncollectible_at": None,
            "paid_at": now,
            "voided_at": None,
        },
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "total": total,
        "total_excluding_tax": total,
        "webhooks_delivered_at": now,
        "discounts": applied_discounts,
        "total_discount_amounts": priced["total_discount_amounts"],
    }
    state.invoices[invoice_id] = invoice
    subscription["latest_invoice"] = invoice_id
    after_invoice(state, subscription, applied_discounts)
    return invoice


def renew_subscription(state: StripeState, subscription_id: str, *, at: int | None = None) -> Obj:
    """Bill the next period: advance every item's period, create its invoice and collect it
    (:func:`~fakes.stripe.collection.collect_invoice`: paid, or failed and retried later).
    ``at`` is the renewal's moment on the subscription's test clock, if it has one."""
    subscription = state.subscriptions.get(subscription_id)
    if subscription is None:
        raise FakeNotFound(f"no subscription {subscription_id!r}", code="unknown_subscription")
    if subscription["status"] not in ("active", "past_due", "trialing"):
        raise FakeError(
            f"subscription {subscription_id} is {subscription['status']}; only a live one renews",
            code="subscription_not_active",
        )
    items = subscription["items"]["data"]
    previous_start = min(item["current_period_start"] for item in items)
    previous_end = max(item["current_period_end"] for item in items)
    for item in items:
        recurring = item["price"]["recurring"]
        item["current_period_start"] = item["current_period_end"]
        item["current_period_end"] = add_interval(
            item["current_period_start"], recurring["interval"], recurring["interval_count"]
        )
    invoice = make_subscription_invoice(
        state,
        subscription,
        billing_reason="subscription_cycle",
        period_start=previous_start,
        period_end=previous_end,
    )
    collect_invoice(state, invoice, subscription, at=at)
    return invoice


_PAYMENT_BEHAVIORS = ("allow_incomplete", "error_if_incomplete")


def _create_subscription(state: StripeState, call: Call) -> Obj:
    """``POST /v1/subscriptions``: items of recurring prices, billed at once (``subscription_create``).

    The first invoice is collected from ``default_payment_method``, else the customer's
    ``invoice_settings.default_payment_method`` (:mod:`fakes.stripe.collection`). With the default
    ``payment_behavior=allow_incomplete`` a declined first payment leaves the subscription ``incomplete``;
    ``error_if_incomplete`` answers Stripe's ``card_error`` for a declining card and creates nothing. A
    customer on a test clock has its subscription start at the clock's ``frozen_time``.
    ``default_incomplete`` and ``pending_if_incomplete`` are not served (400).
    """
    p = call.params.only(
        ("customer", "items", "default_payment_method", "metadata", "description",
         "payment_behavior", "proration_behavior", "collection_method", "discounts")
    )  # fmt: skip
    customer = state.customer(p.required_text("customer"), param="customer")
    wanted = parse_discounts(p) or []
    p.text("collection_method", choices=("charge_automatically",))
    behavior = p.text("payment_behavior", choices=_PAYMENT_BEHAVIORS) or "allow_incomplete"
    card = check_payment_method(p.text("default_payment_method"), param="default_payment_method")
    raw_items = p.array("items", required=True) or []
    if not raw_items:
        raise StripeApiError(400, "Missing required param: items.", param="items")
    prices: list[tuple[Obj, int]] = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise StripeApiError(400, "Invalid hash", param=f"items[{index}]")
        item = Params(raw, prefix=f"items[{index}]").only(("price", "quantity", "metadata"))
        price = state.get(
            state.prices, "price", item.required_text("price"), param=item.name("price")
        )
        if price["recurring"] is None:
            raise StripeApiError(
                400,
                "The price specified is set to `type=one_time` but this field only accepts prices "
                "with `type=recurring`.",
                param=item.name("price"),
            )
        prices.append((price, item.integer("quantity", minimum=1) or 1))
    currencies = {price["currency"] for price, _ in prices}
    if len(currencies) > 1:
        raise StripeApiError(
            400, "All prices on a subscription must have the same currency.", param="items"
        )
    if behavior == "error_if_incomplete":
        declined_first(state, customer, card)
    clock = state.test_clocks.get(customer["test_clock"] or "")
    start = clock["frozen_time"] if clock is not None else state.now()
    subscription_id = state.ids.new("sub_")
    subscription: Obj = {
        **subscription_defaults(),
        "id": subscription_id,
        "object": "subscription",
        "billing_cycle_anchor": start,
        "created": start,
        "currency": currencies.pop(),
        "customer": customer["id"],
        "default_payment_method": card,
        "description": p.text("description", max_length=500),
        "items": {
            "object": "list",
            "data": [
                new_subscription_item(state, subscription_id, price, quantity, start)
                for price, quantity in prices
            ],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "metadata": merge_metadata({}, p.metadata()),
        "start_date": start,
        "status": "active",
        "test_clock": customer["test_clock"],
    }
    subscription["discounts"] = redeem(
        state, wanted, customer=customer["id"], currency=subscription["currency"], at=start,
        subscription=subscription_id, request=call.event_request(),
    )  # fmt: skip
    state.subscriptions[subscription_id] = subscription
    state.emit("customer.subscription.created", subscription, request=call.event_request())
    invoice = make_subscription_invoice(
        state, subscription, billing_reason="subscription_create", period_start=start,
        period_end=start,
    )  # fmt: skip
    collect_invoice(state, invoice, subscription, at=start)
    return state.render(subscription, p)


def declined_first(state: StripeState, customer: Obj, card: str | None) -> None:
    """Stripe's ``card_error`` if the card a first invoice would be charged with declines."""
    card = card or customer["invoice_settings"]["default_payment_method"] or "pm_card_visa"
    decline = DECLINES.get(state.card_token(card))
    if decline is not None:
        code, decline_code, message = decline
        raise StripeApiError(
            402, message, code=code, type="card_error", extra={"decline_code": decline_code}
        )


def _subscription(state: StripeState, call: Call) -> Obj:
    return state.get(state.subscriptions, "subscription", call.path["subscription"])


def _retrieve_subscription(state: StripeState, call: Call) -> Obj:
    return state.render(_subscription(state, call), call.params.only(()))


def _list_subscriptions(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        ("limit", "starting_after", "ending_before", "customer", "status", "price")
    )
    customer = p.text("customer")
    status = p.text(
        "status",
        choices=(
            "active",
            "all",
            "canceled",
            "ended",
            "incomplete",
            "past_due",
            "trialing",
            "unpaid",
        ),
    )
    price = p.text("price")

    def keep(sub: Obj) -> bool:
        if customer is not None and sub["customer"] != customer:
            return False
        if price is not None and all(i["price"]["id"] != price for i in sub["items"]["data"]):
            return False
        if status is None:  # Stripe lists subscriptions that are not canceled by default
            return bool(sub["status"] != "canceled")
        return status == "all" or sub["status"] == status or (status == "ended" and sub["ended_at"])

    page = state.page(
        state.subscriptions.values(), p, "/v1/subscriptions", kind="subscription", keep=keep
    )
    return state.render(page, p)


_PRORATION_BEHAVIORS = ("always_invoice", "create_prorations", "none")


def _update_subscription(state: StripeState, call: Call) -> Obj:
    """``POST /v1/subscriptions/{id}``: metadata, description, payment method, cancellation at period end,
    and ``items`` (a new price or quantity, an added or deleted item), prorated as
    :mod:`fakes.stripe.prorations` describes."""
    p = call.params.only(
        ("metadata", "description", "cancel_at_period_end", "items", "proration_behavior",
         "proration_date", "default_payment_method", "discounts")
    )  # fmt: skip
    subscription = _subscription(state, call)
    if subscription["status"] == "canceled" and not set(p.data) <= {"metadata", "expand"}:
        raise StripeApiError(
            400, "A canceled subscription can only update its cancellation_details and metadata."
        )
    behavior = p.text("proration_behavior", choices=_PRORATION_BEHAVIORS) or "create_prorations"
    period = current_period(subscription)
    at = _proration_date(state, subscription, p.integer("proration_date", minimum=0), period)
    previous: Obj = {}
    if p.has("metadata"):
        metadata = merge_metadata(subscription["metadata"], p.metadata())
        if metadata != subscription["metadata"]:
            previous["metadata"] = subscription["metadata"]
            subscription["metadata"] = metadata
    if p.has("default_payment_method"):
        card = check_payment_method(
            p.text("default_payment_method"), param="default_payment_method"
        )
        if card != subscription["default_payment_method"]:
            previous["default_payment_method"] = subscription["default_payment_method"]
            subscription["default_payment_method"] = card
    if p.has("description"):
        previous["description"] = subscription["description"]
        subscription["description"] = p.text("description", max_length=500)
    cancel_at_period_end = p.boolean("cancel_at_period_end")
    if (
        cancel_at_period_end is not None
        and cancel_at_period_end != subscription["cancel_at_period_end"]
    ):
        previous["cancel_at_period_end"] = subscription["cancel_at_period_end"]
        subscription["cancel_at_period_end"] = cancel_at_period_end
        subscription["cancel_at"] = period[1] if cancel_at_period_end else None
    wanted = parse_discounts(p)
    if wanted is not None:
        replace_discounts(state, subscription, wanted, at=at, request=call.event_request())
    items = p.array("items")
    changes: list[ItemChange] = []
    if items is not None:
        before = [dict(item) for item in subscription["items"]["data"]]
        changes = _apply_item_changes(state, subscription, items, period)
        previous["items"] = {**subscription["items"], "data": before}
    if previous:
        state.emit(
            "customer.subscription.updated",
            subscription,
            request=call.event_request(),
            previous_attributes=previous,
        )
    if changes and behavior != "none":
        created = proration_items(
            state, subscription, changes, at=at, period=period, request=call.event_request()
        )
        if created and behavior == "always_invoice":
            invoice = make_subscription_invoice(
                state, subscription, billing_reason="subscription_update", period_start=at,
                period_end=at, period_lines=False,
            )  # fmt: skip
            collect_invoice(state, invoice, subscription, at=at)
    return state.render(subscription, p)


def current_period(subscription: Obj) -> tuple[int, int]:
    """The subscription's current billing period ``(start, end)`` (its items share it)."""
    items = subscription["items"]["data"]
    return (
        min(item["current_period_start"] for item in items),
        max(item["current_period_end"] for item in items),
    )


def _proration_date(
    state: StripeState, subscription: Obj, requested: int | None, period: tuple[int, int]
) -> int:
    """When an update takes effect for prorations: ``proration_date``, else now (on the test clock)."""
    if requested is None:
        clock = state.test_clocks.get(subscription["test_clock"] or "")
        return int(clock["frozen_time"]) if clock is not None else state.now()
    if not period[0] <= requested <= period[1]:
        raise StripeApiError(
            400,
            "proration_date must be within the subscription's current billing period "
            f"({period[0]} to {period[1]}).",
            param="proration_date",
        )
    return requested


def _apply_item_changes(
    state: StripeState, subscription: Obj, items: list[object], period: tuple[int, int]
) -> list[ItemChange]:
    """Check every change, then apply them; each item's billing before and after, for prorations."""
    by_id = {item["id"]: item for item in subscription["items"]["data"]}
    planned: list[tuple[str | None, Obj | None, int | None, bool]] = []
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise StripeApiError(400, "Invalid hash", param=f"items[{index}]")
        change = Params(raw, prefix=f"items[{index}]").only(("id", "price", "quantity", "deleted"))
        price_id = change.text("price")
        price = None
        if price_id is not None:
            price = state.get(state.prices, "price", price_id, param=change.name("price"))
            if price["recurring"] is None or price["currency"] != subscription["currency"]:
                raise StripeApiError(
                    400,
                    f"The price {price_id} must be recurring and in {subscription['currency']}.",
                    param=change.name("price"),
                )
        quantity = change.integer("quantity", minimum=1)
        deleted = change.boolean("deleted") is True
        item_id = change.text("id")
        if item_id is None:
            if price is None:
                raise StripeApiError(
                    400, "Missing required param: price.", param=change.name("price")
                )
        elif item_id not in by_id:
            raise StripeApiError(
                400,
                f"No such subscription item: '{item_id}'",
                code="resource_missing",
                param=change.name("id"),
            )
        current = by_id[item_id]["price"] if item_id is not None else None
        if price is not None and current is not None and _interval(price) != _interval(current):
            # Stripe resets the billing cycle and invoices at once on such a change; not served.
            raise StripeApiError(
                400,
                "The fake Stripe does not serve changing an item's billing interval "
                f"({_interval(current)} to {_interval(price)}).",
                code="fake_not_served",
                param=change.name("price"),
            )
        planned.append((item_id, price, quantity, deleted))
    remaining = set(by_id) - {item_id for item_id, _, _, deleted in planned if deleted}
    if not remaining and all(item_id is not None for item_id, *_ in planned):
        raise StripeApiError(400, "A subscription must have at least one active item.")
    changes: list[ItemChange] = []
    data = subscription["items"]["data"]
    for item_id, price, quantity, deleted in planned:
        if item_id is None:
            assert price is not None
            item = new_subscription_item(state, subscription["id"], price, quantity or 1, period[0])
            item.update(current_period_start=period[0], current_period_end=period[1])
            data.append(item)
            changes.append((item, None, (item["price"], item["quantity"])))
            continue
        item = by_id[item_id]
        before = (item["price"], item["quantity"])
        if deleted:
            data.remove(item)
            changes.append((item, before, None))
            continue
        if price is not None:
            item["price"] = dict(price)
            item["plan"] = plan_of(price)
        if quantity is not None:
            item["quantity"] = quantity
        changes.append((item, before, (item["price"], item["quantity"])))
    return changes


def _interval(price: Obj) -> tuple[str, int]:
    recurring = price["recurring"]
    return recurring["interval"], recurring["interval_count"]


def new_subscription_item(
    state: StripeState, subscription_id: str, price: Obj, quantity: int, start: int
) -> Obj:
    """A ``subscription_item`` for ``price``, its first period starting at ``start``."""
    recurring = price["recurring"]
    return {
        **subscription_item_defaults(),
        "id": state.ids.new("si_", 14),
        "object": "subscription_item",
        "created": start,
        "current_period_end": add_interval(
            start, recurring["interval"], recurring["interval_count"]
        ),
        "current_period_start": start,
        "plan": plan_of(price),
        "price": dict(price),
        "quantity": quantity,
        "subscription": subscription_id,
    }


def _cancel_subscription(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("invoice_now", "prorate", "cancellation_details"))
    subscription = _subscription(state, call)
    if subscription["status"] == "canceled":
        raise StripeApiError(400, f"The subscription {subscription['id']} is already canceled.")
    now = state.now()
    subscription.update(
        status="canceled",
        canceled_at=now,
        ended_at=now,
        cancellation_details={
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested",
        },
    )
    details = p.nested("cancellation_details")
    if details is not None:
        details.only(("comment", "feedback"))
        subscription["cancellation_details"]["comment"] = details.text("comment")
        subscription["cancellation_details"]["feedback"] = details.text("feedback")
    state.emit("customer.subscription.deleted", subscription, request=call.event_request())
    return state.render(subscription, p)


def billing_routes(state: StripeState) -> list[Route]:
    """Subscriptions (create, retrieve, list, update, cancel)."""
    sub = "/v1/subscriptions/{subscription}"
    return [
        api_route(state, "POST", "/v1/subscriptions", "subscriptions.create", _create_subscription),
        api_route(state, "GET", "/v1/subscriptions", "subscriptions.list", _list_subscriptions),
        api_route(state, "GET", sub, "subscriptions.retrieve", _retrieve_subscription),
        api_route(state, "POST", sub, "subscriptions.update", _update_subscription),
        api_route(state, "DELETE", sub, "subscriptions.cancel", _cancel_subscription),
    ]
