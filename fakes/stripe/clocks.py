"""Test clocks and billing portal sessions.

A test clock (``POST /v1/test_helpers/test_clocks``) is a frozen time that customers created with
``test_clock`` live on (their subscriptions created directly start at the clock's ``frozen_time``).
Advancing it (``.../advance`` with a later ``frozen_time``) walks, in time order, every renewal (a period of
a live subscription of those customers ending by then) and every payment retry (an open invoice's
``next_payment_attempt``): each renewal is the invoice and events
:func:`~fakes.stripe.billing.renew_subscription` makes (``invoice.created`` ... ``invoice.paid``, or
``invoice.payment_failed`` for a declining card, :mod:`fakes.stripe.collection`), then
``test_helpers.test_clock.ready``. The renewals happen at once (Stripe
takes a few seconds in ``advancing``); the objects' ``created`` stamps stay on the fake's own clock.

A billing portal session (``POST /v1/billing_portal/sessions``) names a customer and a ``return_url`` and
answers the hosted portal URL.
"""

from __future__ import annotations

from fakes._common import Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.billing import invoice_subscription, renew_subscription
from fakes.stripe.collection import attempt_payment
from fakes.stripe.errors import StripeApiError
from fakes.stripe.state import Obj, StripeState

__all__ = ["clock_routes"]

_LIFETIME_SECONDS = 30 * 86_400  # Stripe deletes a test clock 30 days after its creation
_RENEWABLE = ("active", "past_due", "trialing")
# Renewals and retries per advance: ten years of monthly periods for ten subscriptions.
_MAX_STEPS = 1_200


def _clock(state: StripeState, call: Call) -> Obj:
    return state.get(state.test_clocks, "test_clock", call.path["clock"])


def _create(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("frozen_time", "name"))
    now = state.now()
    clock: Obj = {
        "id": state.ids.new("clock_"),
        "object": "test_helpers.test_clock",
        "created": now,
        "deletes_after": now + _LIFETIME_SECONDS,
        "frozen_time": p.required_integer("frozen_time", minimum=0),
        "livemode": False,
        "name": p.text("name", max_length=300),
        "status": "ready",
        "status_details": {},
    }
    state.test_clocks[clock["id"]] = clock
    state.emit("test_helpers.test_clock.created", clock, request=call.event_request())
    return state.render(clock, p)


def _advance(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("frozen_time",))
    clock = _clock(state, call)
    target = p.required_integer("frozen_time")
    if target <= clock["frozen_time"]:
        raise StripeApiError(
            400,
            "The frozen_time must be after the test clock's current frozen_time.",
            param="frozen_time",
        )
    request = call.event_request()
    state.emit(
        "test_helpers.test_clock.advancing", {**clock, "status": "advancing"}, request=request
    )
    clock["frozen_time"] = target
    customers = {cid for cid, c in state.customers.items() if c.get("test_clock") == clock["id"]}
    for _ in range(_MAX_STEPS):
        step = _next_step(state, customers, target)
        if step is None:
            break
        at, action, obj = step
        if action == "renew":
            renew_subscription(state, obj["id"], at=at)
        else:
            subscription = state.subscriptions.get(invoice_subscription(obj) or "")
            attempt_payment(state, obj, subscription, at=at)
    state.emit("test_helpers.test_clock.ready", clock, request=request)
    return state.render(clock, p)


def _next_step(state: StripeState, customers: set[str], target: int) -> tuple[int, str, Obj] | None:
    """The earliest renewal (a period ending) or payment retry (``next_payment_attempt``) due by ``target``
    for the clock's ``customers``: ``(when, "renew" | "retry", subscription | invoice)``."""
    steps: list[tuple[int, str, Obj]] = []
    for subscription in state.subscriptions.values():
        if subscription["customer"] in customers and subscription["status"] in _RENEWABLE:
            ends = min(item["current_period_end"] for item in subscription["items"]["data"])
            if ends <= target:
                steps.append((ends, "renew", subscription))
    for invoice in state.invoices.values():
        when = invoice["next_payment_attempt"]
        mine = invoice["customer"] in customers and invoice["status"] == "open"
        if mine and when is not None and when <= target:
            steps.append((when, "retry", invoice))
    # A retry due at the same moment as a renewal goes first, as the older invoice is collected first.
    return min(steps, key=lambda step: (step[0], step[1] == "renew"), default=None)


def _retrieve(state: StripeState, call: Call) -> Obj:
    return state.render(_clock(state, call), call.params.only(()))


def _list(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before"))
    page = state.page(
        state.test_clocks.values(), p, "/v1/test_helpers/test_clocks", kind="test_clock"
    )
    return state.render(page, p)


def _delete(state: StripeState, call: Call) -> Obj:
    call.params.only(())
    clock = _clock(state, call)
    del state.test_clocks[clock["id"]]
    state.emit("test_helpers.test_clock.deleted", clock, request=call.event_request())
    return {"id": clock["id"], "object": "test_helpers.test_clock", "deleted": True}


def _portal_session(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("customer", "return_url", "locale", "configuration", "flow_data"))
    customer = state.customer(p.required_text("customer"), param="customer")
    session_id = state.ids.new("bps_")
    return {
        "id": session_id,
        "object": "billing_portal.session",
        "configuration": p.text("configuration") or "bpc_payharness_default",
        "created": state.now(),
        "customer": customer["id"],
        "flow": None,
        "livemode": False,
        "locale": p.text("locale"),
        "on_behalf_of": None,
        "return_url": p.text("return_url"),
        "url": f"https://billing.stripe.com/p/session/test_{session_id[4:]}",
    }


def clock_routes(state: StripeState) -> list[Route]:
    """Test clocks and billing portal sessions."""
    base = "/v1/test_helpers/test_clocks"
    one = base + "/{clock}"
    return [
        api_route(state, "POST", base, "test_clocks.create", _create),
        api_route(state, "GET", base, "test_clocks.list", _list),
        api_route(state, "GET", one, "test_clocks.retrieve", _retrieve),
        api_route(state, "DELETE", one, "test_clocks.delete", _delete),
        api_route(state, "POST", one + "/advance", "test_clocks.advance", _advance),
        api_route(
            state,
            "POST",
            "/v1/billing_portal/sessions",
            "billing_portal.sessions.create",
            _portal_session,
        ),
    ]
