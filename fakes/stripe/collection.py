"""Collecting an invoice's payment as Stripe does for ``charge_automatically``: attempts, failures, retries.

A subscription invoice goes ``draft`` (``invoice.created``) → ``open`` (``invoice.finalized``) and is then
charged off session with the subscription's ``default_payment_method``, else the customer's
``invoice_settings.default_payment_method``, else ``pm_card_visa`` (:func:`~fakes.stripe.payments.charge_card`):

* paid: ``invoice.paid``, ``invoice.payment_succeeded`` (a ``past_due`` subscription is ``active`` again);
* declined (``pm_card_chargeCustomerFail``, card 4000000000000341, or another decline token): the invoice
  stays ``open`` with ``attempted``, ``attempt_count`` and ``next_payment_attempt``; ``invoice.payment_failed``
  after the PaymentIntent's ``charge.failed`` and ``payment_intent.payment_failed``; the customer becomes
  ``delinquent``; a renewing subscription goes ``active`` → ``past_due`` and the first invoice of a new one
  leaves it ``incomplete`` (each with ``customer.subscription.updated``);
* needing authentication (``pm_card_authenticationRequired``): ``invoice.payment_action_required``.

Retries stand in for Smart Retries, whose timing Stripe chooses per invoice: the fake retries a renewal
:data:`RETRY_DAYS` days after each failed attempt, when a test clock is advanced past
``next_payment_attempt``; after the last one fails, ``next_payment_attempt`` is ``null`` and the
subscription is canceled (``customer.subscription.deleted``), Stripe's default "if all retries fail"
setting. The schedule is the fake's choice (documented, not Stripe's exact timing).
"""

from __future__ import annotations

from fakes.stripe.payments import charge_card
from fakes.stripe.state import Obj, StripeState

__all__ = ["RETRY_DAYS", "attempt_payment", "collect_invoice"]

#: Days from a failed attempt to the next (attempts 2, 3 and 4); a fourth failure ends the retries.
RETRY_DAYS = (3, 5, 7)
_DAY = 86_400
_UNPAID = {
    "finalized_at": None,
    "marked_uncollectible_at": None,
    "paid_at": None,
    "voided_at": None,
}


def collect_invoice(
    state: StripeState, invoice: Obj, subscription: Obj | None = None, *, at: int | None = None
) -> bool:
    """Emit a finalized invoice's draft and open snapshots, then charge it; ``True`` if it was paid.

    ``invoice`` is built as paid (amounts, ``paid_at``); a failed attempt rewrites it to ``open``.
    ``at`` is the moment of the attempt on the subscription's test clock (default: the fake's clock).
    """
    due = invoice["amount_due"]
    draft = {**invoice, "status": "draft", "amount_paid": 0, "amount_remaining": due}
    state.emit("invoice.created", {**draft, "status_transitions": dict(_UNPAID)})
    opened = {**_UNPAID, "finalized_at": invoice["status_transitions"]["finalized_at"]}
    state.emit("invoice.finalized", {**draft, "status": "open", "status_transitions": opened})
    if due <= 0:
        _paid(state, invoice, subscription)
        return True
    # The attempt below is the first; attempt_payment counts it again.
    invoice.update(attempt_count=0, attempted=False)
    intent = attempt_payment(state, invoice, subscription, at=at)
    return bool(intent["status"] == "succeeded")


def attempt_payment(
    state: StripeState,
    invoice: Obj,
    subscription: Obj | None = None,
    *,
    at: int | None = None,
    payment_method: str | None = None,
) -> Obj:
    """Charge an open (or just finalized) invoice once; the PaymentIntent (``succeeded`` if paid)."""
    due = invoice["amount_due"]
    if payment_method is None and subscription is not None:
        payment_method = subscription["default_payment_method"]
    intent = charge_card(
        state, invoice["customer"], due, invoice["currency"], f"Invoice {invoice['number']}",
        payment_method=payment_method,
    )  # fmt: skip
    attempts = invoice["attempt_count"] + 1
    invoice.update(attempt_count=attempts, attempted=True)
    if intent["status"] == "succeeded":
        invoice.update(
            status="paid", amount_paid=due, amount_remaining=0, next_payment_attempt=None
        )
        invoice["status_transitions"]["paid_at"] = state.now()
        _paid(state, invoice, subscription)
        return intent
    now = state.now() if at is None else at
    retries_left = (
        subscription is not None
        and invoice["billing_reason"] == "subscription_cycle"
        and attempts <= len(RETRY_DAYS)
    )
    invoice.update(
        status="open",
        amount_paid=0,
        amount_remaining=due,
        next_payment_attempt=now + RETRY_DAYS[attempts - 1] * _DAY if retries_left else None,
    )
    invoice["status_transitions"]["paid_at"] = None
    if intent["status"] == "requires_action":
        state.emit("invoice.payment_action_required", invoice)
    else:
        state.emit("invoice.payment_failed", invoice)
    _set_delinquent(state, invoice["customer"], True)
    if subscription is not None:
        _after_failure(state, subscription, invoice, retries_left=retries_left, at=now)
    return intent


def _paid(state: StripeState, invoice: Obj, subscription: Obj | None) -> None:
    state.emit("invoice.paid", invoice)
    state.emit("invoice.payment_succeeded", invoice)
    _set_delinquent(state, invoice["customer"], False)
    if subscription is not None and subscription["status"] in ("past_due", "incomplete"):
        _set_status(state, subscription, "active")


def _after_failure(
    state: StripeState, subscription: Obj, invoice: Obj, *, retries_left: bool, at: int
) -> None:
    if invoice["billing_reason"] == "subscription_create":
        if subscription["status"] != "incomplete":
            _set_status(state, subscription, "incomplete")
        return
    if retries_left:
        if subscription["status"] == "active":
            _set_status(state, subscription, "past_due")
        return
    # Every retry failed: Stripe's default is to cancel the subscription.
    previous = subscription["status"]
    subscription.update(
        status="canceled",
        canceled_at=at,
        ended_at=at,
        cancellation_details={"comment": None, "feedback": None, "reason": "payment_failed"},
    )
    state.emit(
        "customer.subscription.deleted", subscription, previous_attributes={"status": previous}
    )


def _set_status(state: StripeState, subscription: Obj, status: str) -> None:
    previous = subscription["status"]
    subscription["status"] = status
    state.emit(
        "customer.subscription.updated", subscription, previous_attributes={"status": previous}
    )


def _set_delinquent(state: StripeState, customer_id: str, delinquent: bool) -> None:
    customer = state.customers.get(customer_id)
    if customer is None or customer["delinquent"] == delinquent:
        return
    customer["delinquent"] = delinquent
    state.emit("customer.updated", customer, previous_attributes={"delinquent": not delinquent})
