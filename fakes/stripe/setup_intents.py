"""SetupIntents: saving a card for later off-session payments (create, confirm, retrieve, list, cancel).

Confirming with a payment method (a ``pm_`` id or a ``pm_card_*`` test token, which becomes a new payment
method as on Stripe) decides the outcome by the card's behaviour (Stripe's testing docs):

* most cards, ``pm_card_chargeCustomerFail`` included (it attaches; its charges fail later):
  ``succeeded``, the payment method attached to the intent's customer (``payment_method.attached``),
  ``setup_intent.succeeded``;
* ``pm_card_authenticationRequired``: ``requires_action`` (``setup_intent.requires_action``), and a second
  confirmation completes it, as the customer passing 3D Secure would;
* a declining card (``pm_card_chargeDeclined``...): ``402 card_error``, the intent back in
  ``requires_payment_method`` with ``last_setup_error`` (``setup_intent.setup_failed``).
"""

from __future__ import annotations

from fakes._common import Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import Params, merge_metadata
from fakes.stripe.payment_methods import attach, materialize
from fakes.stripe.payments import DECLINES, NEEDS_ACTION
from fakes.stripe.state import Obj, StripeState

__all__ = ["create_setup_intent", "setup_intent_routes"]

_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_CANCELABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


def _create(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        ("customer", "payment_method", "confirm", "usage", "payment_method_types", "metadata",
         "description", "return_url")
    )  # fmt: skip
    return state.render(create_setup_intent(state, p, request=call.event_request()), p)


def create_setup_intent(
    state: StripeState, p: Params, *, request: dict[str, str | None] | None
) -> Obj:
    """A new SetupIntent from create parameters, confirmed at once when ``confirm`` is true (as
    ``POST /v1/setup_intents`` and a completed setup-mode Checkout Session make one)."""
    customer = p.text("customer")
    if customer is not None:
        state.customer(customer, param="customer")
    intent_id = state.ids.new("seti_")
    intent: Obj = {
        **dict.fromkeys(
            (
                "application",
                "automatic_payment_methods",
                "cancellation_reason",
                "flow_directions",
                "last_setup_error",
                "latest_attempt",
                "mandate",
                "next_action",
                "on_behalf_of",
                "payment_method_configuration_details",
                "single_use_mandate",
                "excluded_payment_method_types",
            ),
        ),
        "id": intent_id,
        "object": "setup_intent",
        "client_secret": f"{intent_id}_secret_{state.ids.new('', 24)}",
        "created": state.now(),
        "customer": customer,
        "description": p.text("description"),
        "livemode": False,
        "metadata": merge_metadata({}, p.metadata()),
        "payment_method": None,
        "payment_method_options": {
            "card": {
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": list(p.array("payment_method_types") or ["card"]),
        "status": "requires_payment_method",
        "usage": p.text("usage", choices=("off_session", "on_session")) or "off_session",
    }
    card = p.text("payment_method")
    if card is not None:
        intent["payment_method"] = materialize(state, card)["id"]
        intent["status"] = "requires_confirmation"
    state.setup_intents[intent_id] = intent
    state.emit("setup_intent.created", intent, request=request)
    if p.boolean("confirm"):
        _confirm_intent(state, intent, request)
    return intent


def _intent(state: StripeState, call: Call) -> Obj:
    return state.get(state.setup_intents, "setup_intent", call.path["intent"])


def _unexpected(intent: Obj, action: str) -> StripeApiError:
    return StripeApiError(
        400,
        f"You cannot {action} this SetupIntent because it has a status of {intent['status']}.",
        code="setup_intent_unexpected_state",
        extra={"setup_intent": dict(intent)},
    )


def _confirm(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("payment_method", "return_url", "mandate_data"))
    intent = _intent(state, call)
    if intent["status"] not in _CONFIRMABLE:
        raise _unexpected(intent, "confirm")
    card = p.text("payment_method")
    if card is not None:
        intent["payment_method"] = materialize(state, card)["id"]
    if intent["payment_method"] is None:
        raise StripeApiError(
            400,
            "You cannot confirm this SetupIntent because it's missing a payment method.",
            code="setup_intent_unexpected_state",
            param="payment_method",
        )
    _confirm_intent(state, intent, call.event_request())
    return state.render(intent, p)


def _confirm_intent(state: StripeState, intent: Obj, request: dict[str, str | None] | None) -> None:
    method = state.payment_methods[intent["payment_method"]]
    token = state.card_token(method["id"])
    if token in NEEDS_ACTION and intent["status"] != "requires_action":
        intent["status"] = "requires_action"
        intent["next_action"] = {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect"},
        }
        state.emit("setup_intent.requires_action", intent, request=request)
        return
    intent["next_action"] = None
    # pm_card_chargeCustomerFail (4000000000000341) is the card that saves fine and fails when charged.
    decline = None if token == "pm_card_chargeCustomerFail" else DECLINES.get(token)
    if decline is not None:
        code, decline_code, message = decline
        intent["status"] = "requires_payment_method"
        intent["last_setup_error"] = {
            "type": "card_error", "code": code, "decline_code": decline_code, "message": message,
            "payment_method_type": "card",
        }  # fmt: skip
        state.emit("setup_intent.setup_failed", intent, request=request)
        raise StripeApiError(
            402,
            message,
            code=code,
            type="card_error",
            extra={"decline_code": decline_code, "setup_intent": dict(intent)},
        )
    intent.update(status="succeeded", last_setup_error=None)
    if intent["customer"] is not None:
        attach(state, method, intent["customer"], request)
    state.emit("setup_intent.succeeded", intent, request=request)


def _cancel(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("cancellation_reason",))
    intent = _intent(state, call)
    if intent["status"] not in _CANCELABLE:
        raise _unexpected(intent, "cancel")
    intent.update(
        status="canceled",
        next_action=None,
        cancellation_reason=p.text(
            "cancellation_reason", choices=("abandoned", "duplicate", "requested_by_customer")
        ),
    )
    state.emit("setup_intent.canceled", intent, request=call.event_request())
    return state.render(intent, p)


def _retrieve(state: StripeState, call: Call) -> Obj:
    return state.render(_intent(state, call), call.params.only(("client_secret",)))


def _list(state: StripeState, call: Call) -> Obj:
    p: Params = call.params.only(
        ("limit", "starting_after", "ending_before", "customer", "payment_method", "created")
    )
    customer, method = p.text("customer"), p.text("payment_method")
    page = state.page(
        state.setup_intents.values(),
        p,
        "/v1/setup_intents",
        kind="setup_intent",
        keep=lambda si: (
            (customer is None or si["customer"] == customer)
            and (method is None or si["payment_method"] == method)
        ),
    )
    return state.render(page, p)


def setup_intent_routes(state: StripeState) -> list[Route]:
    """SetupIntents: create, retrieve, list, confirm, cancel."""
    one = "/v1/setup_intents/{intent}"
    return [
        api_route(state, "POST", "/v1/setup_intents", "setup_intents.create", _create),
        api_route(state, "GET", "/v1/setup_intents", "setup_intents.list", _list),
        api_route(state, "GET", one, "setup_intents.retrieve", _retrieve),
        api_route(state, "POST", one + "/confirm", "setup_intents.confirm", _confirm),
        api_route(state, "POST", one + "/cancel", "setup_intents.cancel", _cancel),
    ]
