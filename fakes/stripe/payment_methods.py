"""PaymentMethods: card payment methods made from Stripe's test card numbers or test tokens, attached to
customers.

``POST /v1/payment_methods`` (``type=card``, ``card[number]``...) makes a ``pm_`` object whose behaviour is
the test card's: 4242424242424242 pays, 4000000000000341 attaches but every charge fails
(``pm_card_chargeCustomerFail``), 4000000000000002 declines, 4000002760003184 needs authentication, and so
on (:data:`TEST_CARDS`, from Stripe's testing docs). Attaching a ``pm_card_*`` token, as Stripe does, makes a
new payment method of that behaviour and attaches it. ``attach`` and ``detach`` send
``payment_method.attached`` and ``payment_method.detached``. Raw card numbers are accepted without the
"raw card data" account setting live Stripe asks for; only test numbers are known.
"""

from __future__ import annotations

from fakes._common import Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.errors import StripeApiError, no_such
from fakes.stripe.forms import Params, merge_metadata
from fakes.stripe.payments import brand_of
from fakes.stripe.shapes import address
from fakes.stripe.state import Obj, StripeState

__all__ = ["TEST_CARDS", "materialize", "payment_method_routes"]

#: Stripe's test card numbers -> the test token with the same behaviour.
TEST_CARDS: dict[str, str] = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "378282246310005": "pm_card_amex",
    "6011111111111117": "pm_card_discover",
    "4000000000000341": "pm_card_chargeCustomerFail",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
    "4000000000009987": "pm_card_chargeDeclinedLostCard",
    "4000000000009979": "pm_card_chargeDeclinedStolenCard",
    "4000000000000069": "pm_card_chargeDeclinedExpiredCard",
    "4000002760003184": "pm_card_authenticationRequired",
    "4000000000000259": "pm_card_createDispute",
    "4000000000001976": "pm_card_createDisputeInquiry",
}
_LAST4 = {token: number[-4:] for number, token in TEST_CARDS.items()}


def _card_details(token: str, exp_month: int, exp_year: int) -> Obj:
    brand = brand_of(token)
    return {
        "brand": brand,
        "checks": {"address_line1_check": None, "address_postal_code_check": None,
                   "cvc_check": "unchecked"},
        "country": "US",
        "display_brand": brand,
        "exp_month": exp_month,
        "exp_year": exp_year,
        "fingerprint": f"payharness{_LAST4.get(token, '4242')}",
        "funding": "credit",
        "generated_from": None,
        "last4": _LAST4.get(token, "4242"),
        "networks": {"available": [brand], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }  # fmt: skip


def _new(
    state: StripeState,
    token: str,
    *,
    exp_month: int = 12,
    exp_year: int = 2034,
    metadata: dict[str, str] | None = None,
    billing: Params | None = None,
) -> Obj:
    method_id = state.ids.new("pm_")
    details: Obj = {
        "address": address(),
        "email": None,
        "name": None,
        "phone": None,
        "tax_id": None,
    }
    if billing is not None:
        billing.only(("email", "name", "phone", "address"))
        for key in ("email", "name", "phone"):
            details[key] = billing.text(key)
    method: Obj = {
        "id": method_id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": details,
        "card": _card_details(token, exp_month, exp_year),
        "created": state.now(),
        "customer": None,
        "livemode": False,
        "metadata": metadata or {},
        "type": "card",
    }
    state.payment_methods[method_id] = method
    state.card_tokens[method_id] = token
    return method


def materialize(state: StripeState, payment_method: str, *, param: str = "payment_method") -> Obj:
    """The stored payment method ``payment_method``, or a new one for a ``pm_card_*`` test token."""
    found = state.payment_methods.get(payment_method)
    if found is not None:
        return found
    if payment_method.startswith("pm_card_"):
        return _new(state, payment_method)
    raise no_such("PaymentMethod", payment_method, param=param)


def attach(
    state: StripeState, method: Obj, customer_id: str, request: dict[str, str | None] | None
) -> None:
    """Attach ``method`` to the customer (``payment_method.attached``)."""
    if method["customer"] == customer_id:
        return
    if method["customer"] is not None:
        raise StripeApiError(
            400,
            "The payment method you provided has already been attached to a customer.",
            code="payment_method_unexpected_state",
        )
    method["customer"] = customer_id
    state.emit("payment_method.attached", method, request=request)


def _create(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("type", "card", "billing_details", "metadata"))
    p.text("type", required=True, choices=("card",))
    card = p.nested("card", required=True)
    assert card is not None
    card.only(("number", "exp_month", "exp_year", "cvc", "token"))
    number = (card.text("number", required=True) or "").replace(" ", "")
    token = TEST_CARDS.get(number)
    if token is None:
        raise StripeApiError(
            402,
            "Your card number is incorrect.",
            code="incorrect_number",
            type="card_error",
            param="card[number]",
        )
    method = _new(
        state,
        token,
        exp_month=card.required_integer("exp_month", minimum=1),
        exp_year=card.required_integer("exp_year", minimum=2000),
        metadata=merge_metadata({}, p.metadata()),
        billing=p.nested("billing_details"),
    )
    return state.render(method, p)


def _method(state: StripeState, call: Call) -> Obj:
    return state.get(state.payment_methods, "payment_method", call.path["method"])


def _retrieve(state: StripeState, call: Call) -> Obj:
    return state.render(_method(state, call), call.params.only(()))


def _attach(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("customer",))
    customer = state.customer(p.required_text("customer"), param="customer")
    method = materialize(state, call.path["method"])
    attach(state, method, customer["id"], call.event_request())
    return state.render(method, p)


def _detach(state: StripeState, call: Call) -> Obj:
    p = call.params.only(())
    method = _method(state, call)
    if method["customer"] is None:
        raise StripeApiError(
            400,
            "The payment method you provided is not attached to a customer so detachment is "
            "impossible.",
            code="payment_method_unexpected_state",
        )
    customer = state.customers.get(method["customer"])
    method["customer"] = None
    if customer is not None:
        settings = customer["invoice_settings"]
        if settings["default_payment_method"] == method["id"]:
            settings["default_payment_method"] = None
    state.emit("payment_method.detached", method, request=call.event_request())
    return state.render(method, p)


def _list(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before", "customer", "type"))
    customer = p.text("customer")
    kind = p.text("type")
    page = state.page(
        state.payment_methods.values(),
        p,
        "/v1/payment_methods",
        kind="payment_method",
        keep=lambda m: (
            (customer is None or m["customer"] == customer) and (kind is None or m["type"] == kind)
        ),
    )
    return state.render(page, p)


def _list_for_customer(state: StripeState, call: Call) -> Obj:
    customer = state.customer(call.path["customer"])
    p = call.params.only(("limit", "starting_after", "ending_before", "type"))
    kind = p.text("type")
    page = state.page(
        state.payment_methods.values(),
        p,
        f"/v1/customers/{customer['id']}/payment_methods",
        kind="payment_method",
        keep=lambda m: m["customer"] == customer["id"] and (kind is None or m["type"] == kind),
    )
    return state.render(page, p)


def payment_method_routes(state: StripeState) -> list[Route]:
    """PaymentMethods: create, retrieve, list, attach, detach; a customer's payment methods."""
    one = "/v1/payment_methods/{method}"
    return [
        api_route(state, "POST", "/v1/payment_methods", "payment_methods.create", _create),
        api_route(state, "GET", "/v1/payment_methods", "payment_methods.list", _list),
        api_route(state, "GET", one, "payment_methods.retrieve", _retrieve),
        api_route(state, "POST", one + "/attach", "payment_methods.attach", _attach),
        api_route(state, "POST", one + "/detach", "payment_methods.detach", _detach),
        api_route(
            state,
            "GET",
            "/v1/customers/{customer}/payment_methods",
            "customers.payment_methods.list",
            _list_for_customer,
        ),
    ]
