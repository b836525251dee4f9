"""SetupIntents and PaymentMethods through stripe-python: saving a card, then charging it off session.

Every answer is checked against the pinned schemas (``setup_intent``, ``payment_method``).
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from contracts.processors.stripe_validate import violations
from fakes.stripe import StripeFakeApp

pytestmark = pytest.mark.integration


def _valid(result: Any) -> None:
    body = result.last_response.data
    for item in body["data"] if body.get("object") == "list" else [body]:
        assert violations(item) == [], item["object"]


def test_a_setup_intent_saves_a_card_that_later_pays_off_session(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    customer = client.v1.customers.create()
    intent = client.v1.setup_intents.create(
        params={"customer": customer.id, "usage": "off_session"}
    )
    assert intent.status == "requires_payment_method" and intent.client_secret
    confirmed = client.v1.setup_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa"}
    )
    method = client.v1.payment_methods.retrieve(str(confirmed.payment_method))

    assert confirmed.status == "succeeded"
    assert (method.customer, method.type, method.card and method.card.last4) == (
        customer.id, "card", "4242",
    )  # fmt: skip
    assert [m.id for m in client.v1.customers.payment_methods.list(customer.id).data] == [method.id]
    paid = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "customer": customer.id,
                "payment_method": method.id, "off_session": True, "confirm": True}
    )  # fmt: skip
    assert paid.status == "succeeded"
    types = [
        e["type"] for e in app.events() if e["data"]["object"].get("id") in (intent.id, method.id)
    ]
    assert types == ["setup_intent.created", "payment_method.attached", "setup_intent.succeeded"]
    for result in (intent, confirmed, method, client.v1.setup_intents.list()):
        _valid(result)


def test_a_card_made_from_4000000000000341_attaches_and_then_every_charge_fails(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _, client = fake
    customer = client.v1.customers.create()
    method = client.v1.payment_methods.create(
        params={"type": "card",
                "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2034}}
    )  # fmt: skip
    intent = client.v1.setup_intents.create(
        params={"customer": customer.id, "payment_method": method.id, "confirm": True}
    )
    assert intent.status == "succeeded" and method.card is not None and method.card.last4 == "0341"
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.create(
            params={"amount": 500, "currency": "usd", "customer": customer.id,
                    "payment_method": method.id, "confirm": True}
        )  # fmt: skip
    assert caught.value.code == "card_declined"
    _valid(method)


def test_a_declining_card_fails_the_setup_with_a_card_error(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _, client = fake
    intent = client.v1.setup_intents.create(params={})
    with pytest.raises(stripe.CardError) as caught:
        client.v1.setup_intents.confirm(
            intent.id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    again = client.v1.setup_intents.retrieve(intent.id)
    assert caught.value.code == "card_declined"
    assert again.status == "requires_payment_method" and again.last_setup_error is not None
    _valid(again)


def test_a_card_needing_authentication_waits_for_it_and_a_setup_intent_can_be_canceled(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _, client = fake
    intent = client.v1.setup_intents.create(
        params={"payment_method": "pm_card_authenticationRequired", "confirm": True}
    )
    assert intent.status == "requires_action" and intent.next_action is not None
    assert client.v1.setup_intents.confirm(intent.id).status == "succeeded"
    other = client.v1.setup_intents.create()
    canceled = client.v1.setup_intents.cancel(other.id, params={"cancellation_reason": "abandoned"})
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.setup_intents.confirm(other.id, params={"payment_method": "pm_card_visa"})
    _valid(canceled)


def test_detaching_a_payment_method_clears_the_customers_default(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _, client = fake
    customer = client.v1.customers.create()
    method = client.v1.payment_methods.attach(
        "pm_card_mastercard", params={"customer": customer.id}
    )
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    detached = client.v1.payment_methods.detach(method.id)
    settings = client.v1.customers.retrieve(customer.id).invoice_settings
    assert (
        detached.customer is None and method.card is not None and method.card.brand == "mastercard"
    )
    assert settings is not None and settings.default_payment_method is None
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_methods.create(
            params={"type": "card", "card": {"number": "4111", "exp_month": 1, "exp_year": 2030}}
        )
    assert caught.value.code == "incorrect_number"
    _valid(detached)
