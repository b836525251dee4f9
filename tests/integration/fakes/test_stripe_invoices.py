"""One-off invoices through their lifecycle on the fake Stripe, through stripe-python."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from fakes._common import LoopbackServer
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


def draft_of(client: stripe.StripeClient, amounts: list[int]) -> stripe.Invoice:
    customer = client.v1.customers.create(params={"email": "payer@example.com"})
    draft = client.v1.invoices.create(params={"customer": customer.id})
    for amount in amounts:
        client.v1.invoice_items.create(
            params={
                "customer": customer.id,
                "amount": amount,
                "currency": "usd",
                "invoice": draft.id,
            }
        )
    return client.v1.invoices.retrieve(draft.id)


def types(app: StripeFakeApp, invoice_id: str) -> list[str]:
    return [e["type"] for e in app.events() if e["data"]["object"].get("id") == invoice_id]


def test_a_draft_is_finalized_then_paid_by_card_with_its_events(
    served: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = served
    draft = draft_of(client, [1_000, 500])
    opened = client.v1.invoices.finalize_invoice(draft.id)
    paid = client.v1.invoices.pay(draft.id)

    assert (draft.status, draft.amount_due, len(draft.lines.data)) == ("draft", 1_500, 2)
    assert opened.status == "open" and opened.number is not None
    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 1_500, 0)
    assert types(app, draft.id) == [
        "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded",
    ]  # fmt: skip
    assert client.v1.charges.list(params={"customer": str(draft.customer)}).data[0].amount == 1_500


@pytest.mark.parametrize(
    ("close", "status", "event"),
    [("void_invoice", "void", "invoice.voided"),
     ("mark_uncollectible", "uncollectible", "invoice.marked_uncollectible")],
)  # fmt: skip
def test_an_open_invoice_can_be_closed_once_and_then_not_paid(
    served: tuple[StripeFakeApp, stripe.StripeClient], close: str, status: str, event: str
) -> None:
    app, client = served
    draft = draft_of(client, [2_000])
    client.v1.invoices.finalize_invoice(draft.id)
    closed = getattr(client.v1.invoices, close)(draft.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.pay(draft.id)
    assert closed.status == status
    assert types(app, draft.id)[-1] == event


def test_a_zero_invoice_is_paid_on_finalization_and_a_draft_can_be_deleted_but_not_paid(
    served: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _, client = served
    empty = draft_of(client, [])
    other = draft_of(client, [300])
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.pay(other.id)
    deleted = client.v1.invoices.delete(other.id)

    assert client.v1.invoices.finalize_invoice(empty.id).status == "paid"
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.retrieve(other.id)
