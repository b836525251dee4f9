"""PaymentIntents, Charges, Refunds, balance and customer search on the fake Stripe, through stripe-python."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes._common import Fault, LoopbackServer
from fakes.stripe import StripeConfig, StripeFakeApp, create_app

pytestmark = pytest.mark.integration


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


@pytest.fixture
def fake(served: tuple[StripeFakeApp, stripe.StripeClient]) -> StripeFakeApp:
    served[0].reset()
    return served[0]


@pytest.fixture
def client(
    fake: StripeFakeApp, served: tuple[StripeFakeApp, stripe.StripeClient]
) -> stripe.StripeClient:
    return served[1]


def pay(
    client: stripe.StripeClient, amount: int, token: str = "pm_card_visa"
) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={"amount": amount, "currency": "usd", "payment_method": token, "confirm": True}
    )


def test_a_visa_payment_succeeds_with_a_captured_charge_and_credits_the_balance_net_of_fees(
    client: stripe.StripeClient, fake: StripeFakeApp
) -> None:
    intent = pay(client, 10_000)
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    balance = client.v1.balance.retrieve()

    assert (intent.status, intent.amount_received) == ("succeeded", 10_000)
    assert (charge.status, charge.captured, charge.paid) == ("succeeded", True, True)
    assert balance.available[0].amount == 10_000 - (290 + 30)
    assert [e["type"] for e in fake.events()] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


@pytest.mark.parametrize(
    ("token", "decline_code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
def test_a_declined_card_is_a_card_error_with_its_decline_code(
    client: stripe.StripeClient, fake: StripeFakeApp, token: str, decline_code: str
) -> None:
    with pytest.raises(stripe.CardError) as caught:
        pay(client, 700, token)
    intent_id = fake.events("payment_intent.payment_failed")[0]["data"]["object"]["id"]
    intent = client.v1.payment_intents.retrieve(intent_id)

    assert (caught.value.http_status, caught.value.code) == (402, "card_declined")
    assert caught.value.error is not None and caught.value.error.decline_code == decline_code
    assert intent.status == "requires_payment_method"
    assert (
        intent.last_payment_error is not None
        and intent.last_payment_error.decline_code == decline_code
    )
    assert client.v1.charges.list().data[0].status == "failed"


def test_a_card_needing_authentication_waits_in_requires_action_until_confirmed_again(
    client: stripe.StripeClient,
) -> None:
    intent = pay(client, 500, "pm_card_authenticationRequired")
    assert (intent.status, intent.next_action and intent.next_action.type) == (
        "requires_action",
        "use_stripe_sdk",
    )
    done = client.v1.payment_intents.confirm(intent.id)
    assert done.status == "succeeded"


def test_a_manual_capture_can_take_less_than_authorized_and_only_once(
    client: stripe.StripeClient,
) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 3000, "currency": "usd", "capture_method": "manual",
                "payment_method": "pm_card_visa", "confirm": True}
    )  # fmt: skip
    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 2500})
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.capture(intent.id)

    assert (intent.status, intent.amount_capturable) == ("requires_capture", 3000)
    assert (captured.status, captured.amount_received) == ("succeeded", 2500)
    assert again.value.code == "payment_intent_unexpected_state"


def test_a_canceled_intent_cannot_be_confirmed(
    client: stripe.StripeClient, fake: StripeFakeApp
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"})
    canceled = client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "abandoned"}
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert fake.events()[-1]["type"] == "payment_intent.canceled"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=st.lists(st.integers(min_value=1, max_value=4_000), min_size=1, max_size=6))
def test_refunds_never_exceed_the_charge_and_the_last_full_one_marks_it_refunded(
    served: tuple[StripeFakeApp, stripe.StripeClient], amounts: list[int]
) -> None:
    app, client = served
    app.reset()
    intent = pay(client, 3_000)
    refunded = 0
    for amount in amounts:
        try:
            client.v1.refunds.create(params={"payment_intent": intent.id, "amount": amount})
            refunded += amount
        except stripe.InvalidRequestError as exc:
            assert exc.code in ("amount_too_large", "charge_already_refunded")
            assert refunded + amount > 3_000
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    balance = client.v1.balance.retrieve().available[0].amount

    assert charge.amount_refunded == refunded <= 3_000
    assert charge.refunded == (refunded == 3_000)
    assert balance == 3_000 - 117 - refunded
    assert (
        len(app.events("charge.refunded"))
        == len(app.events("refund.created"))
        == len(client.v1.refunds.list(params={"limit": 100}).data)
    )


def test_customer_search_matches_email_and_metadata_and_is_not_read_as_an_id(
    client: stripe.StripeClient,
) -> None:
    ada = client.v1.customers.create(
        params={"email": "ada@example.com", "metadata": {"account_id": "acc_1"}}
    )
    client.v1.customers.create(params={"email": "bob@example.com"})
    by_email = client.v1.customers.search(params={"query": "email:'ada@example.com'"})
    by_both = client.v1.customers.search(
        params={"query": "email:'ada@example.com' AND metadata['account_id']:'acc_1'"}
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.search(params={"query": "email~'ada'"})
    assert [c.id for c in by_email.data] == [c.id for c in by_both.data] == [ada.id]


def test_payment_intent_creation_is_idempotent_and_fault_injectable(
    client: stripe.StripeClient, fake: StripeFakeApp
) -> None:
    first = client.v1.payment_intents.create(
        params={"amount": 100, "currency": "usd"}, options={"idempotency_key": "pi-once"}
    )
    again = client.v1.payment_intents.create(
        params={"amount": 100, "currency": "usd"}, options={"idempotency_key": "pi-once"}
    )
    fake.faults.add(Fault(route="payment_intents.create", status=503, first_k=1))
    with pytest.raises(stripe.APIError):
        client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    assert first.id == again.id
    assert len(client.v1.payment_intents.list().data) == 1
