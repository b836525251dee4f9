"""A failing card through stripe-python: renewals on a test clock, retries, first payments, one-off invoices.

The scenario Stripe's docs give for testing a failed renewal: a subscription whose card is
``pm_card_chargeCustomerFail`` (4000000000000341: it attaches, every charge fails), renewed by advancing a
test clock, sends ``invoice.payment_failed`` with the PaymentIntent's events, and every object is valid
against the pinned schemas.
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from contracts.processors.stripe_validate import violations
from fakes.stripe import StripeFakeApp
from fakes.stripe.collection import RETRY_DAYS

pytestmark = pytest.mark.integration

DAY = 86_400
START = 1_700_000_000
FAILING = "pm_card_chargeCustomerFail"


def _subscribe(
    client: stripe.StripeClient, *, card: str = "pm_card_visa"
) -> tuple[stripe.test_helpers.TestClock, stripe.Subscription]:
    """A customer on a new test clock, paying a monthly price with ``card``."""
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": START})
    customer = client.v1.customers.create(
        params={"test_clock": clock.id, "payment_method": card,
                "invoice_settings": {"default_payment_method": card}}
    )  # fmt: skip
    product = client.v1.products.create(params={"name": "Monthly"})
    price = client.v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": 1200,
                "recurring": {"interval": "month"}}
    )  # fmt: skip
    subscription = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    return clock, subscription


def _events_after(app: StripeFakeApp, count: int) -> list[dict[str, Any]]:
    return app.events()[count:]


def _advance(client: stripe.StripeClient, clock_id: str, to: int) -> None:
    client.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": to})


def test_a_renewal_on_a_failing_card_sends_invoice_payment_failed_as_stripe_does(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    clock, subscription = _subscribe(client)
    assert subscription.status == "active" and subscription.start_date == START
    client.v1.subscriptions.update(subscription.id, params={"default_payment_method": FAILING})
    seen = len(app.events())

    _advance(client, clock.id, START + 31 * DAY)

    events = _events_after(app, seen)
    types = [e["type"] for e in events]
    assert types == [
        "test_helpers.test_clock.advancing",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
        "invoice.payment_failed",
        "customer.updated",  # delinquent
        "customer.subscription.updated",  # past_due
        "test_helpers.test_clock.ready",
    ]
    failed = next(e for e in events if e["type"] == "invoice.payment_failed")["data"]["object"]
    renewed = subscription.items.data[0].current_period_end
    assert failed["billing_reason"] == "subscription_cycle" and failed["status"] == "open"
    assert (failed["attempted"], failed["attempt_count"]) == (True, 1)
    assert [failed[k] for k in ("amount_due", "amount_paid", "amount_remaining")] == [1200, 0, 1200]
    assert failed["next_payment_attempt"] == renewed + RETRY_DAYS[0] * DAY
    intent = next(e for e in events if e["type"] == "payment_intent.payment_failed")
    assert intent["data"]["object"]["last_payment_error"]["decline_code"] == "generic_decline"
    updated = client.v1.subscriptions.retrieve(subscription.id)
    assert updated.status == "past_due"
    assert client.v1.invoices.retrieve(failed["id"]).status == "open"
    for event in events:
        assert violations(event) == [], event["type"]
        assert violations(event["data"]["object"]) == [], event["type"]


def test_a_retry_after_the_card_is_fixed_pays_the_invoice_and_reactivates_the_subscription(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    clock, subscription = _subscribe(client, card=FAILING)
    # The first invoice failed too: the subscription is incomplete until a payment succeeds.
    assert subscription.status == "incomplete"
    first = client.v1.invoices.retrieve(str(subscription.latest_invoice))
    assert (first.status, first.next_payment_attempt) == ("open", None)
    client.v1.invoices.pay(first.id, params={"payment_method": "pm_card_visa"})
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"

    _advance(client, clock.id, START + 31 * DAY)
    assert client.v1.subscriptions.retrieve(subscription.id).status == "past_due"
    client.v1.customers.update(
        subscription.customer,  # type: ignore[arg-type]
        params={"invoice_settings": {"default_payment_method": "pm_card_visa"}},
    )
    seen = len(app.events())
    _advance(client, clock.id, START + 31 * DAY + RETRY_DAYS[0] * DAY)

    types = [e["type"] for e in _events_after(app, seen)]
    assert "invoice.paid" in types and "invoice.payment_failed" not in types
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"
    renewal = client.v1.invoices.list(params={"subscription": subscription.id}).data[0]
    assert (renewal.status, renewal.attempt_count) == ("paid", 2)


def test_when_every_retry_fails_the_subscription_is_canceled(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    clock, subscription = _subscribe(client)
    client.v1.subscriptions.update(subscription.id, params={"default_payment_method": FAILING})
    seen = len(app.events())
    # one period, then every retry (3 + 5 + 7 days), short of the next period's end
    _advance(client, clock.id, START + 31 * DAY + sum(RETRY_DAYS) * DAY)

    types = [e["type"] for e in _events_after(app, seen)]
    assert types.count("invoice.payment_failed") == 1 + len(RETRY_DAYS)
    ended = client.v1.subscriptions.retrieve(subscription.id)
    assert ended.status == "canceled"
    assert ended.cancellation_details is not None
    assert ended.cancellation_details.reason == "payment_failed"
    invoice = client.v1.invoices.list(params={"subscription": subscription.id}).data[0]
    assert (invoice.status, invoice.attempt_count) == ("open", 4)
    assert invoice.next_payment_attempt is None


def test_error_if_incomplete_refuses_a_declining_first_payment_with_a_card_error(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _, client = fake
    customer = client.v1.customers.create(
        params={"invoice_settings": {"default_payment_method": FAILING}}
    )
    product = client.v1.products.create(params={"name": "Strict"})
    price = client.v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": 500,
                "recurring": {"interval": "month"}}
    )  # fmt: skip
    with pytest.raises(stripe.CardError) as caught:
        client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price.id}],
                    "payment_behavior": "error_if_incomplete"}
        )  # fmt: skip
    assert caught.value.code == "card_declined"
    assert client.v1.subscriptions.list(params={"customer": customer.id}).data == []


def test_paying_a_one_off_invoice_with_a_failing_card_is_a_card_error_and_leaves_it_open(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    customer = client.v1.customers.create(params={"payment_method": FAILING})
    invoice = client.v1.invoices.create(params={"customer": customer.id})
    client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 900, "currency": "usd", "invoice": invoice.id}
    )
    client.v1.invoices.finalize_invoice(invoice.id)
    seen = len(app.events())
    with pytest.raises(stripe.CardError) as caught:
        client.v1.invoices.pay(invoice.id, params={"payment_method": FAILING})

    assert caught.value.code == "card_declined"
    again = client.v1.invoices.retrieve(invoice.id)
    assert (again.status, again.attempt_count, again.amount_remaining) == ("open", 1, 900)
    assert "invoice.payment_failed" in [e["type"] for e in _events_after(app, seen)]
    assert violations(again.last_response.data) == []  # type: ignore[union-attr]
