"""Coupons and promotion codes applied to invoices, through stripe-python (issue 15).

Subscriptions renew on test clocks so ``once``, ``repeating`` and ``forever`` are seen over several
invoices; every answer and every event is checked against the pinned schemas (``discount`` included).
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from contracts.processors.stripe_validate import violations
from fakes._common import FakeError
from fakes.stripe import StripeFakeApp
from fakes.stripe.periods import add_interval

pytestmark = pytest.mark.integration

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


def _valid(*results: Any) -> None:
    for result in results:
        body = result.last_response.data
        for item in body["data"] if body.get("object") == "list" else [body]:
            assert violations(item) == [], item["object"]


def _events_valid(app: StripeFakeApp) -> None:
    for event in app.events():
        assert violations(event) == [] and violations(event["data"]["object"]) == [], event["type"]


def _monthly_price(client: stripe.StripeClient, amount: int) -> Any:
    product = client.v1.products.create(params={"name": "Discounted"})
    return client.v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": amount,
                "recurring": {"interval": "month"}}
    )  # fmt: skip


def _subscribed(
    client: stripe.StripeClient, amount: int, discounts: list[dict[str, str]]
) -> tuple[str, Any]:
    """A test-clock customer paying ``amount`` a month, subscribed with ``discounts``."""
    v1 = client.v1
    clock = v1.test_helpers.test_clocks.create(params={"frozen_time": T0})
    customer = v1.customers.create(
        params={
            "test_clock": clock.id,
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    price = _monthly_price(client, amount)
    params: Any = {"customer": customer.id, "items": [{"price": price.id}], "discounts": discounts}
    subscription = v1.subscriptions.create(params=params)
    return clock.id, subscription


def _invoices(client: stripe.StripeClient, subscription: str) -> list[Any]:
    listed = client.v1.invoices.list(params={"subscription": subscription})
    _valid(listed)
    return sorted(listed.data, key=lambda invoice: invoice.period_end)


def _advance(client: stripe.StripeClient, clock: str, months: int) -> None:
    client.v1.test_helpers.test_clocks.advance(
        clock, params={"frozen_time": add_interval(T0, "month", months) + 60}
    )


def _events(app: StripeFakeApp, kind: str) -> list[dict[str, Any]]:
    return [e["data"]["object"] for e in app.events() if e["type"] == kind]


def test_a_once_percent_coupon_discounts_the_first_invoice_only(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    app.reset()
    coupon = client.v1.coupons.create(params={"percent_off": 25, "duration": "once"})
    clock, subscription = _subscribed(client, 2_000, [{"coupon": coupon.id}])
    _advance(client, clock, 1)

    first, renewal = _invoices(client, subscription.id)
    discount = first.discounts[0]
    assert (first.subtotal, first.total, first.amount_due, first.amount_paid) == (
        2000,
        1500,
        1500,
        1500,
    )
    assert [(d.amount, d.discount) for d in first.total_discount_amounts] == [(500, discount)]
    assert [(d.amount, d.discount) for d in first.lines.data[0].discount_amounts] == [
        (500, discount)
    ]
    assert first.lines.data[0].amount == 2000  # the line's amount stays before the discount
    assert (renewal.total, renewal.amount_paid, renewal.discounts) == (2000, 2000, [])
    assert client.v1.subscriptions.retrieve(subscription.id).discounts == []
    created, deleted = (
        _events(app, "customer.discount.created"),
        _events(app, "customer.discount.deleted"),
    )
    assert [d["id"] for d in created] == [d["id"] for d in deleted] == [discount]
    assert created[0]["source"] == {"coupon": coupon.id, "type": "coupon"}
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 1
    _valid(subscription)
    _events_valid(app)


def test_a_repeating_coupon_discounts_every_invoice_until_its_end(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    app.reset()
    coupon = client.v1.coupons.create(
        params={
            "amount_off": 300,
            "currency": "usd",
            "duration": "repeating",
            "duration_in_months": 2,
        }
    )
    clock, subscription = _subscribed(client, 1_000, [{"coupon": coupon.id}])
    discount = _events(app, "customer.discount.created")[0]
    assert (discount["start"], discount["end"]) == (T0, add_interval(T0, "month", 2))
    _advance(client, clock, 3)

    invoices = _invoices(client, subscription.id)
    assert [i.amount_due for i in invoices] == [700, 700, 1000, 1000]
    assert [i.discounts for i in invoices] == [[discount["id"]]] * 2 + [[]] * 2
    assert [d["id"] for d in _events(app, "customer.discount.deleted")] == [discount["id"]]
    _events_valid(app)


def test_a_forever_coupon_discounts_every_renewal(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    app.reset()
    coupon = client.v1.coupons.create(params={"percent_off": 12.5, "duration": "forever"})
    clock, subscription = _subscribed(client, 999, [{"coupon": coupon.id}])
    _advance(client, clock, 2)

    invoices = _invoices(client, subscription.id)
    # 12.5% of 999 = 124.875, rounded half up per line
    assert [(i.subtotal, i.total) for i in invoices] == [(999, 874)] * 3
    assert _events(app, "customer.discount.deleted") == []
    _events_valid(app)


def test_an_amount_off_larger_than_a_one_off_invoice_leaves_nothing_due(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    app.reset()
    v1 = client.v1
    customer = v1.customers.create(params={"email": "d@example.com"})
    coupon = v1.coupons.create(params={"amount_off": 5_000, "currency": "usd"})
    draft = v1.invoices.create(
        params={"customer": customer.id, "discounts": [{"coupon": coupon.id}]}  # type: ignore[typeddict-item]
    )
    for amount in (1_500, 1_000):
        v1.invoice_items.create(
            params={
                "customer": customer.id,
                "amount": amount,
                "currency": "usd",
                "invoice": draft.id,
            }
        )
    finalized = v1.invoices.finalize_invoice(draft.id)

    assert (finalized.subtotal, finalized.total, finalized.amount_due) == (2_500, 0, 0)
    assert finalized.status == "paid"  # a zero total is paid at finalization, as Stripe does
    assert [d.amount for d in finalized.total_discount_amounts or ()] == [2_500]
    shares = [
        [(d.amount, d.discount) for d in line.discount_amounts or ()]
        for line in finalized.lines.data
    ]
    assert shares == [[(off, finalized.discounts[0])] for off in (1_500, 1_000)]
    _valid(draft, finalized)
    _events_valid(app)


def test_a_promotion_code_on_checkout_discounts_the_session_and_its_subscription(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    app.reset()
    v1 = client.v1
    coupon = v1.coupons.create(params={"percent_off": 10, "duration": "forever"})
    code = v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "TENOFF"}
    )
    price = _monthly_price(client, 2_000)
    session = v1.checkout.sessions.create(
        params={"mode": "subscription", "success_url": "https://example.com/ok",
                "line_items": [{"price": price.id, "quantity": 1}],
                "discounts": [{"promotion_code": code.id}]}
    )  # fmt: skip
    assert (session.amount_subtotal, session.amount_total) == (2_000, 1_800)
    assert session.total_details is not None and session.total_details.amount_discount == 200
    items = v1.checkout.sessions.line_items.list(session.id)
    assert [(i.amount_discount, i.amount_total) for i in items.data] == [(200, 1_800)]
    app.complete_checkout_session(session.id)
    completed = v1.checkout.sessions.retrieve(session.id)
    subscription = v1.subscriptions.retrieve(str(completed.subscription))
    invoice = v1.invoices.retrieve(str(completed.invoice))

    discount = _events(app, "customer.discount.created")[0]
    assert subscription.discounts == [discount["id"]] == invoice.discounts
    assert (discount["promotion_code"], discount["checkout_session"]) == (code.id, session.id)
    assert (invoice.total, invoice.amount_paid) == (1_800, 1_800)
    assert v1.promotion_codes.retrieve(code.id).times_redeemed == 1
    _valid(session, items, completed, subscription, invoice)
    _events_valid(app)


def test_discounts_are_refused_when_they_cannot_apply(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _app, client = fake
    v1 = client.v1
    customer = v1.customers.create(params={"email": "r@example.com"})
    euros = v1.coupons.create(params={"amount_off": 100, "currency": "eur"})
    single = v1.coupons.create(params={"percent_off": 5, "max_redemptions": 1})
    v1.invoices.create(params={"customer": customer.id, "discounts": [{"coupon": single.id}]})  # type: ignore[typeddict-item]
    assert v1.coupons.retrieve(single.id).valid is False  # its one redemption is used
    for coupon in (euros.id, single.id, "no_such_coupon"):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            v1.invoices.create(params={"customer": customer.id, "discounts": [{"coupon": coupon}]})  # type: ignore[typeddict-item]
        assert refused.value.param == "discounts[0]"


def test_updating_a_subscriptions_discounts_replaces_them(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    app.reset()
    forever = client.v1.coupons.create(params={"percent_off": 50, "duration": "forever"})
    other = client.v1.coupons.create(params={"percent_off": 20, "duration": "forever"})
    clock, subscription = _subscribed(client, 1_000, [{"coupon": forever.id}])
    kept = client.v1.subscriptions.retrieve(subscription.id).discounts
    same = client.v1.subscriptions.update(
        subscription.id,
        params={"discounts": [{"coupon": forever.id}]},  # type: ignore[typeddict-item]
    )
    swapped = client.v1.subscriptions.update(
        subscription.id,
        params={"discounts": [{"coupon": other.id}]},  # type: ignore[typeddict-item]
    )
    cleared = client.v1.subscriptions.update(subscription.id, params={"discounts": ""})  # type: ignore[typeddict-item]
    _advance(client, clock, 1)

    assert same.discounts == kept and len(swapped.discounts) == 1 and swapped.discounts != kept
    assert cleared.discounts == []
    assert len(_events(app, "customer.discount.deleted")) == 2
    assert [i.total for i in _invoices(client, subscription.id)] == [500, 1_000]
    _valid(same, swapped, cleared)
    _events_valid(app)


def test_a_checkout_whose_coupon_was_used_up_meanwhile_cannot_complete_and_stays_open(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    v1 = client.v1
    single = v1.coupons.create(params={"percent_off": 10, "max_redemptions": 1})
    session = v1.checkout.sessions.create(
        params={"mode": "subscription", "success_url": "https://example.com/ok",
                "line_items": [{"price": _monthly_price(client, 1_000).id, "quantity": 1}],
                "discounts": [{"coupon": single.id}]}
    )  # fmt: skip
    customer = v1.customers.create()
    v1.invoices.create(params={"customer": customer.id, "discounts": [{"coupon": single.id}]})  # type: ignore[typeddict-item]

    with pytest.raises(FakeError) as refused:
        app.complete_checkout_session(session.id)
    assert refused.value.code == "checkout_session_not_completable"
    assert v1.checkout.sessions.retrieve(session.id).status == "open"
