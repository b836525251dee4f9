"""Disputes: opened by Stripe's dispute test cards, answered with evidence, closed (list, retrieve, update,
close).

A charge paid with ``pm_card_createDispute`` (4000000000000259) succeeds and is then disputed as
``fraudulent`` (``needs_response``); ``pm_card_createDisputeInquiry`` (4000000000001976) opens an inquiry
(``warning_needs_response``). Opening one withdraws the amount plus Stripe's 15.00 dispute fee from the
balance (``charge.dispute.created``, ``charge.dispute.funds_withdrawn``). Updating with ``evidence`` (and
``submit``, default true) sends ``charge.dispute.updated``; submitted evidence whose ``uncategorized_text``
is Stripe's test value ``winning_evidence`` wins the dispute (``won``, funds reinstated), ``losing_evidence``
loses it (``lost``), anything else leaves it ``under_review``. ``close`` concedes it (``lost``), as on
Stripe; each closing sends ``charge.dispute.closed``.
"""

from __future__ import annotations

from fakes._common import Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import merge_metadata
from fakes.stripe.payments import brand_of, create_charge_transaction
from fakes.stripe.state import Obj, StripeState

__all__ = ["DISPUTE_TOKENS", "dispute_routes", "open_dispute"]

#: test token -> the status its dispute opens in
DISPUTE_TOKENS = {
    "pm_card_createDispute": "needs_response",
    "pm_card_createDisputeInquiry": "warning_needs_response",
}
_FEE_CENTS = 1500
_EVIDENCE_DAYS = 7  # the fake's evidence deadline (Stripe's depends on the network)
_EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation",
    "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt",
    "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date",
    "service_documentation", "shipping_address", "shipping_carrier", "shipping_date",
    "shipping_documentation", "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
)  # fmt: skip
_OPEN = ("needs_response", "warning_needs_response", "under_review", "warning_under_review")


def open_dispute(state: StripeState, charge: Obj, token: str) -> Obj:
    """Dispute ``charge`` as its test card does; emits ``charge.dispute.created`` (and the withdrawal)."""
    status = DISPUTE_TOKENS[token]
    now = state.now()
    dispute_id = state.ids.new("du_")
    dispute: Obj = {
        "id": dispute_id,
        "object": "dispute",
        "amount": charge["amount"],
        "balance_transactions": [],
        "charge": charge["id"],
        "created": now,
        "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(_EVIDENCE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {
            "due_by": now + _EVIDENCE_DAYS * 86_400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {
            "type": "card",
            "card": {
                "brand": brand_of(token),
                "case_type": "inquiry" if status.startswith("warning") else "chargeback",
                "network_reason_code": "10.4",
            },
        },
        "reason": "fraudulent",
        "status": status,
    }
    state.disputes[dispute_id] = dispute
    charge["disputed"] = True
    state.emit("charge.dispute.created", dispute)
    if not status.startswith("warning"):  # an inquiry moves no money
        _move_funds(state, dispute, -1)
        state.emit("charge.dispute.funds_withdrawn", dispute)
    return dispute


def _move_funds(state: StripeState, dispute: Obj, sign: int) -> None:
    transaction = create_charge_transaction(
        state, {"id": dispute["id"], "currency": dispute["currency"]}, sign * dispute["amount"]
    )
    fee = _FEE_CENTS if sign < 0 else -_FEE_CENTS
    transaction.update(
        type="adjustment",
        reporting_category="dispute" if sign < 0 else "dispute_reversal",
        description="Chargeback withdrawal" if sign < 0 else "Chargeback reversal",
        fee=fee,
        net=sign * dispute["amount"] - fee,
        fee_details=[
            {"amount": fee, "application": None, "currency": dispute["currency"],
             "description": "Dispute fee", "type": "stripe_fee"}
        ],
    )  # fmt: skip
    dispute["balance_transactions"].append(dict(transaction))


def _dispute(state: StripeState, call: Call) -> Obj:
    return state.get(state.disputes, "dispute", call.path["dispute"])


def _closing(state: StripeState, dispute: Obj, status: str, request: dict[str, str | None]) -> None:
    won = status == "won"
    if dispute["status"].startswith("warning"):
        status = "warning_closed"
    dispute["status"] = status
    if won and status == "won":
        _move_funds(state, dispute, +1)
        state.emit("charge.dispute.funds_reinstated", dispute, request=request)
    state.emit("charge.dispute.closed", dispute, request=request)


def _update(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("evidence", "metadata", "submit"))
    dispute = _dispute(state, call)
    if dispute["status"] not in _OPEN:
        raise StripeApiError(400, f"This dispute is already closed ({dispute['status']}).")
    previous: Obj = {}
    evidence = p.nested("evidence")
    if evidence is not None:
        evidence.only(_EVIDENCE_FIELDS)
        previous["evidence"] = dict(dispute["evidence"])
        for field in _EVIDENCE_FIELDS:
            if evidence.has(field):
                dispute["evidence"][field] = evidence.text(field, max_length=150_000)
        dispute["evidence_details"]["has_evidence"] = True
    if p.has("metadata"):
        previous["metadata"] = dispute["metadata"]
        dispute["metadata"] = merge_metadata(dispute["metadata"], p.metadata())
    submit = p.boolean("submit")
    request = call.event_request()
    if evidence is not None and submit is not False:
        dispute["evidence_details"]["submission_count"] += 1
        previous["status"] = dispute["status"]
        warning = dispute["status"].startswith("warning")
        dispute["status"] = "warning_under_review" if warning else "under_review"
    state.emit("charge.dispute.updated", dispute, request=request, previous_attributes=previous)
    text = dispute["evidence"]["uncategorized_text"]
    if dispute["status"] in ("under_review", "warning_under_review"):
        # Stripe's test evidence values decide the outcome at once.
        if text == "winning_evidence":
            _closing(state, dispute, "won", request)
        elif text == "losing_evidence":
            _closing(state, dispute, "lost", request)
    return state.render(dispute, p)


def _close(state: StripeState, call: Call) -> Obj:
    p = call.params.only(())
    dispute = _dispute(state, call)
    if dispute["status"] not in _OPEN:
        raise StripeApiError(400, f"This dispute is already closed ({dispute['status']}).")
    _closing(state, dispute, "lost", call.event_request())
    return state.render(dispute, p)


def _retrieve(state: StripeState, call: Call) -> Obj:
    return state.render(_dispute(state, call), call.params.only(()))


def _list(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        ("limit", "starting_after", "ending_before", "charge", "payment_intent", "created")
    )
    charge, intent = p.text("charge"), p.text("payment_intent")
    page = state.page(
        state.disputes.values(),
        p,
        "/v1/disputes",
        kind="dispute",
        keep=lambda d: (
            (charge is None or d["charge"] == charge)
            and (intent is None or d["payment_intent"] == intent)
        ),
    )
    return state.render(page, p)


def dispute_routes(state: StripeState) -> list[Route]:
    """Disputes: list, retrieve, update (evidence), close."""
    one = "/v1/disputes/{dispute}"
    return [
        api_route(state, "GET", "/v1/disputes", "disputes.list", _list),
        api_route(state, "GET", one, "disputes.retrieve", _retrieve),
        api_route(state, "POST", one, "disputes.update", _update),
        api_route(state, "POST", one + "/close", "disputes.close", _close),
    ]
