"""Disputes through stripe-python: opened by the dispute test cards, answered, won, lost, closed.

Every answer and event object is checked against the pinned ``dispute`` and ``charge`` schemas.
"""

from __future__ import annotations

import pytest
import stripe

from contracts.processors.stripe_validate import violations
from fakes.stripe import StripeFakeApp

pytestmark = pytest.mark.integration


def _disputed(client: stripe.StripeClient, card: str = "pm_card_createDispute") -> stripe.Dispute:
    intent = client.v1.payment_intents.create(
        params={"amount": 4200, "currency": "usd", "payment_method": card, "confirm": True}
    )
    assert intent.status == "succeeded"
    [dispute] = client.v1.disputes.list(params={"payment_intent": intent.id}).data
    return dispute


def _events_of(app: StripeFakeApp, dispute_id: str) -> list[str]:
    return [e["type"] for e in app.events() if e["data"]["object"].get("id") == dispute_id]


def test_the_dispute_test_card_opens_a_fraudulent_dispute_that_withdraws_the_funds(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    dispute = _disputed(client)
    charge = client.v1.charges.retrieve(str(dispute.charge))
    assert (dispute.status, dispute.reason, dispute.amount) == (
        "needs_response",
        "fraudulent",
        4200,
    )
    assert charge.disputed is True
    [withdrawal] = dispute.balance_transactions
    assert (withdrawal.amount, withdrawal.fee) == (-4200, 1500)
    assert _events_of(app, dispute.id) == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
    ]
    assert violations(client.v1.disputes.retrieve(dispute.id).last_response.data) == []  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "status", "reinstated"),
    [("winning_evidence", "won", True), ("losing_evidence", "lost", False),
     ("a receipt and tracking", "under_review", False)],
)  # fmt: skip
def test_submitted_evidence_decides_the_dispute_as_stripes_test_values_do(
    fake: tuple[StripeFakeApp, stripe.StripeClient], text: str, status: str, reinstated: bool
) -> None:
    app, client = fake
    dispute = _disputed(client)
    updated = client.v1.disputes.update(
        dispute.id,
        params={"evidence": {"uncategorized_text": text, "customer_name": "Ada"},
                "metadata": {"case": "1"}},
    )  # fmt: skip
    assert updated.status == status
    assert (
        updated.evidence.customer_name == "Ada" and updated.evidence_details.submission_count == 1
    )
    events = _events_of(app, dispute.id)
    assert ("charge.dispute.funds_reinstated" in events) is reinstated
    assert ("charge.dispute.closed" in events) is (status != "under_review")
    for event in app.events():
        if event["data"]["object"].get("id") == dispute.id:
            assert violations(event["data"]["object"]) == [], event["type"]


def test_closing_concedes_the_dispute_and_an_inquiry_closes_as_a_warning(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _, client = fake
    conceded = client.v1.disputes.close(_disputed(client).id)
    inquiry = _disputed(client, "pm_card_createDisputeInquiry")
    assert conceded.status == "lost"
    assert inquiry.status == "warning_needs_response" and inquiry.balance_transactions == []
    assert client.v1.disputes.close(inquiry.id).status == "warning_closed"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(conceded.id)
    assert violations(conceded.last_response.data) == []  # type: ignore[union-attr]
