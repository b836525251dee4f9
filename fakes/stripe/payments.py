"""PaymentIntents and the Charges they make (create, confirm, capture, cancel; retrieve and list).

Stripe's test payment methods decide the outcome of a confirmation (PROCESSORS.md 1, Stripe's testing
docs): ``pm_card_visa`` and the other ``pm_card_<brand>`` tokens succeed; ``pm_card_chargeDeclined*``
fail with a ``card_error`` (``402``, ``card_declined`` and the token's ``decline_code``), leaving the
intent in ``requires_payment_method`` with ``last_payment_error`` and a failed charge;
``pm_card_authenticationRequired`` and ``pm_card_threeDSecure2Required`` leave it in ``requires_action``.
A captured charge credits the account's balance (a ``balance_transaction`` net of Stripe's 2.9% + 30 fee).
"""

from __future__ import annotations

from typing import Any

from fakes._common import Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.errors import StripeApiError, no_such
from fakes.stripe.forms import Params, merge_metadata
from fakes.stripe.state import Obj, StripeState

__all__ = [
    "DECLINES",
    "NEEDS_ACTION",
    "brand_of",
    "charge_card",
    "check_payment_method",
    "create_charge_transaction",
    "payment_routes",
]

# token -> (code, decline_code, message); the tokens Stripe documents for declines.
DECLINES: dict[str, tuple[str, str, str]] = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedLostCard": ("card_declined", "lost_card", "Your card was declined."),
    "pm_card_chargeDeclinedStolenCard": ("card_declined", "stolen_card", "Your card was declined."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "expired_card", "Your card has expired."),
    # 4000000000000341: attaching it to a customer succeeds, every charge of it fails (the card Stripe's
    # docs give for testing a failed subscription renewal).
    "pm_card_chargeCustomerFail": ("card_declined", "generic_decline", "Your card was declined."),
}
NEEDS_ACTION = frozenset({"pm_card_authenticationRequired", "pm_card_threeDSecure2Required"})
_CANCELABLE = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"}
)
_CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
_CREATE_PARAMS = (
    "amount", "currency", "customer", "description", "metadata", "payment_method", "confirm",
    "capture_method", "payment_method_types", "receipt_email", "return_url", "off_session",
    "statement_descriptor_suffix", "setup_future_usage",
)  # fmt: skip


def brand_of(token: str) -> str:
    tail = token.removeprefix("pm_card_").split("_")[0].lower()
    return (
        tail
        if tail in ("visa", "mastercard", "amex", "discover", "jcb", "diners", "unionpay")
        else "visa"
    )


def check_payment_method(token: str | None, *, param: str = "payment_method") -> str | None:
    """``token`` if it names a payment method (the fake's are Stripe's ``pm_card_*`` test tokens)."""
    if token is not None and not token.startswith("pm_"):
        raise no_such("PaymentMethod", token, param=param)
    return token


def _payment_method(state: StripeState, p: Params, *, required: bool = False) -> str | None:
    return check_payment_method(p.text("payment_method", required=required))


def _intent_object(state: StripeState, p: Params) -> Obj:
    amount = p.required_integer("amount", minimum=1)
    customer = p.text("customer")
    if customer is not None:
        state.customer(customer, param="customer")
    capture = p.text("capture_method", choices=("automatic", "automatic_async", "manual"))
    intent_id = state.ids.new("pi_")
    return {
        **dict.fromkeys(
            (
                "application",
                "application_fee_amount",
                "automatic_payment_methods",
                "canceled_at",
                "cancellation_reason",
                "last_payment_error",
                "latest_charge",
                "next_action",
                "on_behalf_of",
                "payment_method_configuration_details",
                "payment_method_options",
                "processing",
                "review",
                "setup_future_usage",
                "shipping",
                "source",
                "statement_descriptor",
                "transfer_data",
                "transfer_group",
            ),
        ),
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "capture_method": capture or "automatic_async",
        "client_secret": f"{intent_id}_secret_{state.ids.new('', 24)}",
        "confirmation_method": "automatic",
        "created": state.now(),
        "currency": p.currency(),
        "customer": customer,
        "description": p.text("description"),
        "excluded_payment_method_types": None,
        "livemode": False,
        "metadata": merge_metadata({}, p.metadata()),
        "payment_method": _payment_method(state, p),
        "payment_method_types": list(p.array("payment_method_types") or ["card"]),
        "receipt_email": p.text("receipt_email"),
        "statement_descriptor_suffix": p.text("statement_descriptor_suffix"),
        "status": "requires_payment_method",
    }


def _create(state: StripeState, call: Call) -> Obj:
    p = call.params.only(_CREATE_PARAMS)
    intent = _intent_object(state, p)
    if intent["payment_method"] is not None:
        intent["status"] = "requires_confirmation"
    state.payment_intents[intent["id"]] = intent
    state.emit("payment_intent.created", intent, request=call.event_request())
    if p.boolean("confirm"):
        _confirm_intent(state, intent, call.event_request())
    return state.render(intent, p)


def _intent(state: StripeState, call: Call) -> Obj:
    return state.get(state.payment_intents, "payment_intent", call.path["intent"])


def _unexpected_state(intent: Obj, action: str) -> StripeApiError:
    return StripeApiError(
        400,
        f"You cannot {action} this PaymentIntent because it has a status of {intent['status']}.",
        code="payment_intent_unexpected_state",
        extra={"payment_intent": dict(intent)},
    )


def _confirm(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("payment_method", "return_url", "off_session", "receipt_email"))
    intent = _intent(state, call)
    if intent["status"] not in (
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
    ):
        raise _unexpected_state(intent, "confirm")
    token = _payment_method(state, p)
    if token is not None:
        intent["payment_method"] = token
    if intent["payment_method"] is None:
        raise StripeApiError(
            400,
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
            param="payment_method",
        )
    _confirm_intent(state, intent, call.event_request())
    return state.render(intent, p)


def charge_card(
    state: StripeState,
    customer: str,
    amount: int,
    currency: str,
    description: str,
    *,
    payment_method: str | None = None,
) -> Obj:
    """A PaymentIntent paying ``amount`` off session, as Stripe pays an invoice of a
    ``charge_automatically`` subscription; emits its ``payment_intent.*`` and ``charge.*`` events.

    The card is ``payment_method``, else the customer's ``invoice_settings.default_payment_method``, else
    ``pm_card_visa`` (the fake's customers completed Checkout with a working card when they have none).
    A declined card leaves the intent in ``requires_payment_method`` with ``last_payment_error``; the
    caller reads ``status`` (nothing is raised: the invoice, not the request, records the failure).
    """
    default = state.customers[customer]["invoice_settings"]["default_payment_method"]
    params = Params(
        {"amount": str(amount), "currency": currency, "customer": customer,
         "payment_method": payment_method or default or "pm_card_visa", "description": description}
    )  # fmt: skip
    intent = _intent_object(state, params)
    intent["status"] = "requires_confirmation"
    state.payment_intents[intent["id"]] = intent
    state.emit("payment_intent.created", intent)
    try:
        _confirm_intent(state, intent, None)
    except StripeApiError:
        if intent["status"] != "requires_payment_method":
            raise
    return intent


def _confirm_intent(state: StripeState, intent: Obj, request: dict[str, str | None] | None) -> None:
    method = str(intent["payment_method"])
    token = state.card_token(method)
    if token in NEEDS_ACTION and intent["status"] != "requires_action":
        intent["status"] = "requires_action"
        intent["next_action"] = {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect"},
        }
        state.emit("payment_intent.requires_action", intent, request=request)
        return
    intent["next_action"] = None
    decline = DECLINES.get(token)
    charge = _new_charge(state, intent, method, token, decline)
    intent["latest_charge"] = charge["id"]
    if decline is not None:
        code, decline_code, message = decline
        error = {
            "type": "card_error", "code": code, "decline_code": decline_code, "message": message,
            "charge": charge["id"], "payment_method_type": "card",
        }  # fmt: skip
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = error
        state.emit("charge.failed", charge, request=request)
        state.emit("payment_intent.payment_failed", intent, request=request)
        raise StripeApiError(
            402,
            message,
            code=code,
            type="card_error",
            extra={
                "decline_code": decline_code,
                "charge": charge["id"],
                "payment_intent": dict(intent),
            },
        )
    intent["last_payment_error"] = None
    if intent["capture_method"] == "manual":
        intent["status"] = "requires_capture"
        intent["amount_capturable"] = intent["amount"]
        state.emit("charge.succeeded", charge, request=request)
        state.emit("payment_intent.amount_capturable_updated", intent, request=request)
        return
    _settle(state, intent, charge, intent["amount"])
    state.emit("charge.succeeded", charge, request=request)
    state.emit("payment_intent.succeeded", intent, request=request)
    if token.startswith("pm_card_createDispute"):
        # Imported here: disputes builds on this module's balance transactions.
        from fakes.stripe.disputes import open_dispute

        open_dispute(state, charge, token)


def _settle(state: StripeState, intent: Obj, charge: Obj, amount: int) -> None:
    charge.update(captured=True, amount_captured=amount)
    charge["balance_transaction"] = create_charge_transaction(state, charge, amount)["id"]
    intent.update(status="succeeded", amount_received=amount, amount_capturable=0)


def create_charge_transaction(state: StripeState, source: Obj, amount: int) -> Obj:
    """The account's balance transaction for ``amount`` captured (positive) or refunded (negative)."""
    fee = round(amount * 0.029) + 30 if amount > 0 else 0
    kind = "charge" if amount > 0 else "refund"
    now = state.now()
    transaction: Obj = {
        "id": state.ids.new("txn_"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": now,
        "balance_type": "payments",
        "created": now,
        "currency": source["currency"],
        "description": None,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [
            {
                "amount": fee,
                "application": None,
                "currency": source["currency"],
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            },
        ]
        if fee
        else [],
        "net": amount - fee,
        "reporting_category": kind,
        "source": source["id"],
        "status": "available",
        "type": kind,
    }
    state.account_transactions[transaction["id"]] = transaction
    return transaction


def _new_charge(
    state: StripeState, intent: Obj, method: str, token: str, decline: tuple[str, str, str] | None
) -> Obj:
    charge_id = state.ids.new("ch_")
    failed = decline is not None
    charge: Obj = {
        **dict.fromkeys(
            (
                "application",
                "application_fee",
                "application_fee_amount",
                "balance_transaction",
                "calculated_statement_descriptor",
                "failure_balance_transaction",
                "on_behalf_of",
                "receipt_number",
                "review",
                "shipping",
                "source",
                "source_transfer",
                "statement_descriptor",
                "statement_descriptor_suffix",
                "transfer_data",
                "transfer_group",
            ),
        ),
        "id": charge_id,
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": 0,
        "amount_refunded": 0,
        "billing_details": dict.fromkeys(("address", "email", "name", "phone", "tax_id")),
        "captured": False,
        "created": state.now(),
        "currency": intent["currency"],
        "customer": intent["customer"],
        "description": intent["description"],
        "disputed": False,
        "failure_code": decline[0] if decline else None,
        "failure_message": decline[2] if decline else None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "outcome": _outcome(decline),
        "paid": not failed,
        "payment_intent": intent["id"],
        "payment_method": method,
        "payment_method_details": {"type": "card", "card": _card(token)},
        "receipt_email": intent["receipt_email"],
        "receipt_url": None if failed else f"https://pay.stripe.com/receipts/payment/{charge_id}",
        "refunded": False,
        "refunds": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/charges/{charge_id}/refunds",
        },
        "status": "failed" if failed else "succeeded",
    }
    state.charges[charge_id] = charge
    return charge


def _outcome(decline: tuple[str, str, str] | None) -> Obj:
    empty = dict.fromkeys(("advice_code", "network_advice_code", "network_decline_code"))
    if decline is None:
        return {
            **empty, "network_status": "approved_by_network", "reason": None, "risk_level": "normal",
            "seller_message": "Payment complete.", "type": "authorized",
        }  # fmt: skip
    return {
        **empty, "network_status": "declined_by_network", "reason": decline[1], "risk_level": "normal",
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }  # fmt: skip


def _card(token: str) -> dict[str, Any]:
    return {
        **dict.fromkeys(
            ("amount_authorized", "authorization_code", "checks", "installments", "mandate",
             "network_transaction_id", "regulated_status", "three_d_secure", "wallet"),
        ),
        "brand": brand_of(token), "country": "US", "exp_month": 12, "exp_year": 2034,
        "fingerprint": "payharnessfp0000", "funding": "credit", "last4": "4242", "network": brand_of(token),
    }  # fmt: skip


def _capture(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("amount_to_capture", "metadata"))
    intent = _intent(state, call)
    if intent["status"] != "requires_capture":
        raise _unexpected_state(intent, "capture")
    amount = p.integer("amount_to_capture", minimum=1) or intent["amount_capturable"]
    if amount > intent["amount_capturable"]:
        raise StripeApiError(
            400,
            "The amount to capture must be less than or equal to the amount capturable.",
            code="amount_too_large",
            param="amount_to_capture",
        )
    intent["metadata"] = merge_metadata(intent["metadata"], p.metadata())
    charge = state.charges[intent["latest_charge"]]
    _settle(state, intent, charge, amount)
    request = call.event_request()
    state.emit("charge.captured", charge, request=request)
    state.emit("payment_intent.succeeded", intent, request=request)
    return state.render(intent, p)


def _cancel(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("cancellation_reason",))
    intent = _intent(state, call)
    if intent["status"] not in _CANCELABLE:
        raise _unexpected_state(intent, "cancel")
    intent.update(
        status="canceled",
        canceled_at=state.now(),
        cancellation_reason=p.text("cancellation_reason", choices=_CANCELLATION_REASONS),
        amount_capturable=0,
        next_action=None,
    )
    state.emit("payment_intent.canceled", intent, request=call.event_request())
    return state.render(intent, p)


def _retrieve(state: StripeState, call: Call) -> Obj:
    return state.render(_intent(state, call), call.params.only(("client_secret",)))


def _list(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before", "customer", "created"))
    customer = p.text("customer")
    page = state.page(
        state.payment_intents.values(),
        p,
        "/v1/payment_intents",
        kind="payment_intent",
        keep=lambda pi: customer is None or pi["customer"] == customer,
    )
    return state.render(page, p)


def _retrieve_charge(state: StripeState, call: Call) -> Obj:
    charge = state.get(state.charges, "charge", call.path["charge"])
    return state.render(charge, call.params.only(()))


def _list_charges(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        ("limit", "starting_after", "ending_before", "customer", "payment_intent", "created")
    )
    customer, intent = p.text("customer"), p.text("payment_intent")
    page = state.page(
        state.charges.values(),
        p,
        "/v1/charges",
        kind="charge",
        keep=lambda ch: (
            (customer is None or ch["customer"] == customer)
            and (intent is None or ch["payment_intent"] == intent)
        ),
    )
    return state.render(page, p)


def payment_routes(state: StripeState) -> list[Route]:
    """PaymentIntents and Charges."""
    one = "/v1/payment_intents/{intent}"
    return [
        api_route(state, "POST", "/v1/payment_intents", "payment_intents.create", _create),
        api_route(state, "GET", "/v1/payment_intents", "payment_intents.list", _list),
        api_route(state, "GET", one, "payment_intents.retrieve", _retrieve),
        api_route(state, "POST", one + "/confirm", "payment_intents.confirm", _confirm),
        api_route(state, "POST", one + "/capture", "payment_intents.capture", _capture),
        api_route(state, "POST", one + "/cancel", "payment_intents.cancel", _cancel),
        api_route(state, "GET", "/v1/charges", "charges.list", _list_charges),
        api_route(state, "GET", "/v1/charges/{charge}", "charges.retrieve", _retrieve_charge),
    ]
