"""Changing a subscription's items mid-period prorates as Stripe does; through stripe-python.

A subscription on a test clock starts at ``START`` for a 30-day month (2023-11-14 22:13:20 UTC to
2023-12-14); the updates below happen at a chosen second of that period (``proration_date``, or the
clock's ``frozen_time``).
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes._common import LoopbackServer
from fakes.stripe import StripeConfig, StripeFakeApp, create_app

pytestmark = pytest.mark.integration

START = 1_700_000_000
DAY = 86_400


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[StripeFakeApp, stripe.StripeClient]]:
    app = create_app(StripeConfig(time_scale=0.0001))
    with LoopbackServer(app) as server:
        yield (
            app,
            stripe.StripeClient(
                "sk_test_payharness", base_addresses={"api": server.base_url}, max_network_retries=0
            ),
        )
    app.webhooks.close()


def monthly(client: stripe.StripeClient, unit_amount: int, name: str = "Plan") -> stripe.Price:
    product = client.v1.products.create(params={"name": name})
    return client.v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": unit_amount,
                "recurring": {"interval": "month"}}
    )  # fmt: skip


def subscribed(
    client: stripe.StripeClient, price: stripe.Price, quantity: int = 1
) -> tuple[stripe.Subscription, stripe.test_helpers.TestClock]:
    """A customer on a fresh test clock at ``START`` with a subscription to ``price``."""
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": START})
    customer = client.v1.customers.create(params={"test_clock": clock.id})
    subscription = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id, "quantity": quantity}]}
    )
    return subscription, clock


def change_price(
    client: stripe.StripeClient,
    subscription: stripe.Subscription,
    price: stripe.Price,
    **extra: Any,
) -> stripe.Subscription:
    item = subscription["items"].data[0]
    params = {"items": [{"id": item.id, "price": price.id}], **extra}
    return client.v1.subscriptions.update(subscription.id, params=params)  # type: ignore[arg-type]


def pending(client: stripe.StripeClient, customer: str) -> list[stripe.InvoiceItem]:
    items = client.v1.invoice_items.list(params={"customer": customer, "pending": True})
    return sorted(items.data, key=lambda item: item.amount)


def half_up(amount: int, remaining: int, period: int) -> int:
    """The formula: ``amount * remaining / period`` rounded half up."""
    exact = Fraction(amount * remaining, period)
    return int(exact + Fraction(1, 2))


def test_an_upgrade_mid_period_leaves_a_credit_and_a_charge_pending_for_the_next_invoice(
    served: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = served
    basic, pro = monthly(client, 1_000, "Basic"), monthly(client, 3_000, "Pro")
    subscription, _clock = subscribed(client, basic)
    item = subscription["items"].data[0]
    start, end = item.current_period_start, item.current_period_end
    at = start + 10 * DAY
    updated = change_price(client, subscription, pro, proration_date=at)
    credit, charge = pending(client, str(subscription.customer))

    assert updated["items"].data[0].price.id == pro.id
    assert (credit.proration, charge.proration) == (True, True)
    assert credit.amount == -half_up(1_000, end - at, end - start) == -667
    assert charge.amount == half_up(3_000, end - at, end - start) == 2_000
    assert credit.description == "Unused time on Basic after 24 Nov 2023"
    assert charge.description == "Remaining time on Pro after 24 Nov 2023"
    assert (credit.period.start, credit.period.end) == (at, end)
    assert credit.parent is not None and credit.parent.subscription_details is not None
    assert credit.parent.subscription_details.subscription_item == item.id
    assert credit.invoice is None and charge.invoice is None
    created = [e["data"]["object"]["id"] for e in app.events("invoiceitem.created")]
    assert created[-2:] == [credit.id, charge.id]


def test_always_invoice_bills_the_prorations_at_once_with_the_invoice_events(
    served: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = served
    basic, pro = monthly(client, 1_000), monthly(client, 3_000)
    subscription, _clock = subscribed(client, basic)
    first_invoice = str(subscription.latest_invoice)
    at = START + 15 * DAY
    updated = change_price(
        client, subscription, pro, proration_behavior="always_invoice", proration_date=at
    )
    invoice = client.v1.invoices.retrieve(str(updated.latest_invoice))
    lines = sorted(invoice.lines.data, key=lambda line: line.amount)
    types = [e["type"] for e in app.events() if e["data"]["object"].get("id") == invoice.id]

    assert invoice.id != first_invoice
    assert (invoice.billing_reason, invoice.status) == ("subscription_update", "paid")
    assert invoice.amount_paid == sum(line.amount for line in lines) > 0
    assert types == [
        "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded",
    ]  # fmt: skip
    details = [line.parent.subscription_item_details for line in lines if line.parent]
    assert [d.proration for d in details if d] == [True, True]
    credited = details[0].proration_details if details[0] else None
    assert credited is not None and credited.credited_items is not None
    assert credited.credited_items.invoice == first_invoice
    assert pending(client, str(subscription.customer)) == []


def test_a_downgrade_invoiced_at_once_credits_the_customer_balance_and_charges_nothing(
    served: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _app, client = served
    pro, basic = monthly(client, 3_000), monthly(client, 1_000)
    subscription, _clock = subscribed(client, pro)
    updated = change_price(
        client, subscription, basic, proration_behavior="always_invoice",
        proration_date=START + 10 * DAY,
    )  # fmt: skip
    invoice = client.v1.invoices.retrieve(str(updated.latest_invoice))
    customer = client.v1.customers.retrieve(str(subscription.customer))

    assert invoice.total < 0 and invoice.amount_due == 0 and invoice.status == "paid"
    assert customer.balance == invoice.total == invoice.ending_balance


def test_proration_behavior_none_creates_nothing(
    served: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _app, client = served
    basic, pro = monthly(client, 1_000), monthly(client, 3_000)
    subscription, _clock = subscribed(client, basic)
    updated = change_price(client, subscription, pro, proration_behavior="none")

    assert updated["items"].data[0].price.id == pro.id
    assert pending(client, str(subscription.customer)) == []
    assert updated.latest_invoice == subscription.latest_invoice


def test_a_proration_date_outside_the_current_period_is_refused(
    served: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _app, client = served
    basic, pro = monthly(client, 1_000), monthly(client, 3_000)
    subscription, _clock = subscribed(client, basic)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        change_price(client, subscription, pro, proration_date=START - 1)
    assert caught.value.param == "proration_date"
    assert pending(client, str(subscription.customer)) == []


def test_added_and_deleted_items_are_charged_and_credited_for_the_rest_of_the_period(
    served: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _app, client = served
    basic, seats = monthly(client, 1_000, "Basic"), monthly(client, 500, "Seat")
    subscription, _clock = subscribed(client, basic)
    item = subscription["items"].data[0]
    end = item.current_period_end
    at = START + 20 * DAY
    updated = client.v1.subscriptions.update(
        subscription.id,
        params={"items": [{"price": seats.id, "quantity": 3}], "proration_date": at},
    )
    added = updated["items"].data[1]
    client.v1.subscriptions.update(
        subscription.id,
        params={"items": [{"id": added.id, "deleted": True}], "proration_date": at},
    )
    amounts = [i.amount for i in pending(client, str(subscription.customer))]

    assert (added.current_period_start, added.current_period_end) == (START, end)
    assert amounts == [
        -half_up(1_500, end - at, end - START),
        half_up(1_500, end - at, end - START),
    ]


def test_the_renewal_on_a_test_clock_bills_the_pending_prorations_with_the_new_period(
    served: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _app, client = served
    basic, pro = monthly(client, 1_000), monthly(client, 3_000)
    subscription, clock = subscribed(client, basic)
    end = subscription["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": START + 10 * DAY})
    change_price(client, subscription, pro)  # at the clock's frozen_time
    credit, charge = pending(client, str(subscription.customer))
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": end + DAY})
    renewal = client.v1.invoices.retrieve(
        str(client.v1.subscriptions.retrieve(subscription.id).latest_invoice)
    )
    by_item = {
        line.parent.subscription_item_details.invoice_item: line.amount
        for line in renewal.lines.data
        if line.parent and line.parent.subscription_item_details
    }

    assert renewal.billing_reason == "subscription_cycle"
    assert by_item[credit.id] == credit.amount and by_item[charge.id] == charge.amount
    assert renewal.total == credit.amount + charge.amount + 3_000 == renewal.amount_paid
    assert pending(client, str(subscription.customer)) == []
    assert client.v1.invoice_items.retrieve(credit.id).invoice == renewal.id


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    old=st.integers(min_value=1, max_value=200_000),
    new=st.integers(min_value=1, max_value=200_000),
    quantity=st.integers(min_value=1, max_value=5),
    offset=st.floats(min_value=0.0, max_value=1.0),
)
def test_any_change_point_prorates_by_the_formula_and_never_bills_more_than_the_dearer_period(
    served: tuple[StripeFakeApp, stripe.StripeClient],
    old: int,
    new: int,
    quantity: int,
    offset: float,
) -> None:
    _app, client = served
    subscription, _clock = subscribed(client, monthly(client, old), quantity)
    item = subscription["items"].data[0]
    start, end = item.current_period_start, item.current_period_end
    at = start + round(offset * (end - start))
    change_price(client, subscription, monthly(client, new), proration_date=at)
    prorations = sum(i.amount for i in pending(client, str(subscription.customer)))
    predicted = half_up(new * quantity, end - at, end - start) - half_up(
        old * quantity, end - at, end - start
    )

    assert prorations == predicted
    assert old * quantity + prorations <= max(old, new) * quantity
