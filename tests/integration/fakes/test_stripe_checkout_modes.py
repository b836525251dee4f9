"""Checkout in payment and setup modes through stripe-python (issue 15), every answer and event
schema-checked."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from contracts.processors.stripe_validate import violations
from fakes.stripe import StripeFakeApp

pytestmark = pytest.mark.integration

OK = "https://example.com/ok"


def _valid(app: StripeFakeApp, *results: Any) -> None:
    for result in results:
        body = result.last_response.data
        for item in body["data"] if body.get("object") == "list" else [body]:
            assert violations(item) == [], item["object"]
    for event in app.events():
        assert violations(event["data"]["object"]) == [], event["type"]


def _types(app: StripeFakeApp) -> list[str]:
    return [event["type"] for event in app.events()]


def test_a_payment_mode_session_is_paid_by_a_payment_intent_for_its_discounted_total(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    app.reset()
    v1 = client.v1
    product = v1.products.create(params={"name": "One-off"})
    price = v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": 1_200}
    )
    coupon = v1.coupons.create(params={"amount_off": 200, "currency": "usd"})
    session = v1.checkout.sessions.create(
        params={"mode": "payment", "success_url": OK, "customer_email": "pay@example.com",
                "discounts": [{"coupon": coupon.id}],
                "line_items": [
                    {"price": price.id, "quantity": 2},
                    {"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 600,
                                                   "product_data": {"name": "Extra"}}},
                ]}
    )  # fmt: skip
    assert (session.mode, session.amount_subtotal, session.amount_total) == (
        "payment",
        3_000,
        2_800,
    )
    assert session.payment_intent is None and session.payment_status == "unpaid"
    app.complete_checkout_session(session.id)
    done = v1.checkout.sessions.retrieve(session.id)
    intent = v1.payment_intents.retrieve(str(done.payment_intent))

    assert (done.status, done.payment_status, done.subscription) == ("complete", "paid", None)
    assert (intent.status, intent.amount, intent.amount_received) == ("succeeded", 2_800, 2_800)
    assert intent.customer == done.customer is not None
    assert v1.charges.retrieve(str(intent.latest_charge)).amount_captured == 2_800
    assert v1.coupons.retrieve(coupon.id).times_redeemed == 1
    types = _types(app)
    assert types.index("payment_intent.succeeded") < types.index("checkout.session.completed")
    assert "charge.succeeded" in types and "customer.subscription.created" not in types
    _valid(app, session, done, intent)


def test_a_setup_mode_session_saves_a_card_to_its_customer(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    app.reset()
    v1 = client.v1
    customer = v1.customers.create(params={"email": "setup@example.com"})
    session = v1.checkout.sessions.create(
        params={"mode": "setup", "currency": "usd", "customer": customer.id, "success_url": OK}
    )
    assert (session.amount_total, session.payment_status) == (None, "no_payment_required")
    app.complete_checkout_session(session.id)
    done = v1.checkout.sessions.retrieve(session.id)
    intent = v1.setup_intents.retrieve(str(done.setup_intent))
    methods = v1.customers.payment_methods.list(customer.id)

    assert (done.status, intent.status, intent.customer) == ("complete", "succeeded", customer.id)
    assert [m.id for m in methods.data] == [intent.payment_method]
    types = _types(app)
    assert types.index("setup_intent.succeeded") < types.index("checkout.session.completed")
    assert "payment_intent.created" not in types
    _valid(app, session, done, intent, methods)


@pytest.mark.parametrize(
    ("mode", "extra", "param"),
    [
        ("payment", {"recurring": {"interval": "month"}}, "line_items[0][price]"),
        ("setup", None, "line_items"),
        ("payment", {"subscription_data": {"metadata": {"k": "v"}}}, "subscription_data"),
    ],
)
def test_a_session_refuses_what_its_mode_does_not_take(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
    mode: str,
    extra: dict[str, Any] | None,
    param: str,
) -> None:
    _app, client = fake
    v1 = client.v1
    product = v1.products.create(params={"name": "Refused"})
    recurring = extra is not None and "recurring" in extra
    price = v1.prices.create(
        params={"product": product.id, "currency": "usd", "unit_amount": 100,
                **({"recurring": {"interval": "month"}} if recurring else {})}  # type: ignore[typeddict-item]
    )  # fmt: skip
    params: Any = {"mode": mode, "success_url": OK, "currency": "usd",
                   "line_items": [{"price": price.id, "quantity": 1}]}  # fmt: skip
    if extra and "subscription_data" in extra:
        params["subscription_data"] = extra["subscription_data"]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        v1.checkout.sessions.create(params=params)
    assert refused.value.param == param
