"""Refunds (partial and full, with ``refund.created`` and ``charge.refunded``), the account balance and
its balance transactions, and customer search.

A refund names a ``charge`` or a ``payment_intent`` (its latest charge); without ``amount`` it refunds what
is left. It debits the account balance (a ``refund`` balance transaction). ``GET /v1/balance`` sums the
account's balance transactions per currency. ``GET /v1/customers/search`` understands Stripe's search
query language for the clauses integrations use: ``email:'x'``, ``name:'x'``, ``metadata['k']:'v'``,
joined with ``AND``.
"""

from __future__ import annotations

import re

from fakes._common import Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import merge_metadata
from fakes.stripe.payments import create_charge_transaction
from fakes.stripe.state import Obj, StripeState

__all__ = ["refund_routes"]

_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_CLAUSE = re.compile(r"\s*(email|name|phone|metadata\['([^']+)'\])\s*:\s*'([^']*)'\s*")


def _create(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("charge", "payment_intent", "amount", "reason", "metadata"))
    charge_id, intent_id = p.text("charge"), p.text("payment_intent")
    if (charge_id is None) == (intent_id is None):
        raise StripeApiError(
            400, "You must provide exactly one of charge or payment_intent.", param="charge"
        )
    if intent_id is not None:
        intent = state.get(
            state.payment_intents, "payment_intent", intent_id, param="payment_intent"
        )
        charge_id = intent["latest_charge"]
        if charge_id is None or not state.charges[charge_id]["captured"]:
            raise StripeApiError(
                400,
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
    assert charge_id is not None
    charge = state.get(state.charges, "charge", charge_id, param="charge")
    remaining = charge["amount_captured"] - charge["amount_refunded"]
    if charge["refunded"] or remaining <= 0:
        raise StripeApiError(
            400,
            f"Charge {charge_id} has already been refunded.",
            code="charge_already_refunded",
        )
    amount = p.integer("amount", minimum=1) or remaining
    if amount > remaining:
        raise StripeApiError(
            400,
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            code="amount_too_large",
            param="amount",
        )
    refund_id = state.ids.new("re_")
    transaction = create_charge_transaction(state, {**charge, "id": refund_id}, -amount)
    refund: Obj = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": transaction["id"],
        "charge": charge_id,
        "created": state.now(),
        "currency": charge["currency"],
        "destination_details": {"type": "card", "card": {"reference_status": "pending",
                                                         "reference_type": "acquirer_reference_number",
                                                         "type": "refund"}},
        "metadata": merge_metadata({}, p.metadata()),
        "payment_intent": charge["payment_intent"],
        "reason": p.text("reason", choices=_REASONS),
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }  # fmt: skip
    state.refunds[refund_id] = refund
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
    charge["refunds"]["data"].insert(0, dict(refund))
    request = call.event_request()
    state.emit("refund.created", refund, request=request)
    state.emit("charge.refunded", charge, request=request)
    return state.render(refund, p)


def _retrieve(state: StripeState, call: Call) -> Obj:
    refund = state.get(state.refunds, "refund", call.path["refund"])
    return state.render(refund, call.params.only(()))


def _list(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        ("limit", "starting_after", "ending_before", "charge", "payment_intent", "created")
    )
    charge, intent = p.text("charge"), p.text("payment_intent")
    page = state.page(
        state.refunds.values(),
        p,
        "/v1/refunds",
        kind="refund",
        keep=lambda r: (
            (charge is None or r["charge"] == charge)
            and (intent is None or r["payment_intent"] == intent)
        ),
    )
    return state.render(page, p)


def _balance(state: StripeState, call: Call) -> Obj:
    call.params.only(())
    totals: dict[str, int] = {}
    for transaction in state.account_transactions.values():
        currency = transaction["currency"]
        totals[currency] = totals.get(currency, 0) + transaction["net"]
    currencies = sorted(totals) or ["usd"]
    return {
        "object": "balance",
        "available": [
            {"amount": totals.get(c, 0), "currency": c, "source_types": {"card": totals.get(c, 0)}}
            for c in currencies
        ],
        "livemode": False,
        "pending": [{"amount": 0, "currency": c, "source_types": {"card": 0}} for c in currencies],
    }


def _retrieve_transaction(state: StripeState, call: Call) -> Obj:
    found = state.get(state.account_transactions, "balance transaction", call.path["transaction"])
    return state.render(found, call.params.only(()))


def _list_transactions(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before", "type", "source", "created"))
    kind, source = p.text("type"), p.text("source")
    page = state.page(
        state.account_transactions.values(),
        p,
        "/v1/balance_transactions",
        kind="balance transaction",
        keep=lambda t: (
            (kind is None or t["type"] == kind) and (source is None or t["source"] == source)
        ),
    )
    return state.render(page, p)


def _matcher(query: str) -> list[tuple[str, str | None, str]]:
    clauses = []
    for part in re.split(r"\s+AND\s+", query.strip()):
        found = _CLAUSE.fullmatch(part)
        if found is None:
            raise StripeApiError(
                400,
                f"Invalid search query: {query[:100]!r}. Supported here: email, name, phone and "
                "metadata['key'] with ':' and a quoted value, joined with AND.",
                param="query",
            )
        field, key, value = found.groups()
        clauses.append(("metadata" if key else field, key, value))
    return clauses


def _search_customers(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("query", "limit", "page"))
    clauses = _matcher(p.required_text("query"))
    limit = p.integer("limit", minimum=1) or 10
    if limit > 100:
        raise StripeApiError(
            400,
            "Invalid limit: must be between 1 and 100",
            code="parameter_invalid_integer",
            param="limit",
        )

    def matches(customer: Obj) -> bool:
        return all(
            (customer["metadata"].get(key) if key else customer.get(field)) == value
            for field, key, value in clauses
        )

    found = [
        c
        for cid, c in reversed(state.customers.items())
        if cid not in state.deleted_customers and matches(c)
    ]
    return state.render(
        {
            "object": "search_result",
            "data": found[:limit],
            "has_more": len(found) > limit,
            "next_page": None,
            "url": "/v1/customers/search",
        },
        p,
    )


def refund_routes(state: StripeState) -> list[Route]:
    """Refunds, balance, balance transactions and customer search."""
    return [
        api_route(state, "POST", "/v1/refunds", "refunds.create", _create),
        api_route(state, "GET", "/v1/refunds", "refunds.list", _list),
        api_route(state, "GET", "/v1/refunds/{refund}", "refunds.retrieve", _retrieve),
        api_route(state, "GET", "/v1/balance", "balance.retrieve", _balance),
        api_route(
            state,
            "GET",
            "/v1/balance_transactions",
            "balance_transactions.list",
            _list_transactions,
        ),
        api_route(
            state,
            "GET",
            "/v1/balance_transactions/{transaction}",
            "balance_transactions.retrieve",
            _retrieve_transaction,
        ),
        api_route(state, "GET", "/v1/customers/search", "customers.search", _search_customers),
    ]
