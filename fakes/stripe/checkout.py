"""Checkout sessions in subscription, payment and setup modes, and the completion a real customer would
do in a browser.

Stripe has no public test helper to complete a Checkout Session, so completion is a fake-only control
route (``POST /_fake/checkout/sessions/{id}/complete``) and a Python method; the customer pays or saves
``pm_card_visa``. Completion in subscription mode creates the subscription (``metadata`` from
``subscription_data``) and its paid invoice, then emits, in this order, ``checkout.session.completed``,
``customer.subscription.created`` and ``invoice.paid``. In payment mode it pays ``amount_total`` with a
PaymentIntent (``payment_intent.created``, ``charge.succeeded``, ``payment_intent.succeeded``, then
``checkout.session.completed``); in setup mode it confirms a SetupIntent that attaches the card to the
customer (``setup_intent.created``, ``payment_method.attached``, ``setup_intent.succeeded``, then
``checkout.session.completed``).
"""

from __future__ import annotations

from fakes._common import FakeError, FakeNotFound, Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.billing import make_subscription_invoice, new_subscription_item
from fakes.stripe.catalog import create_price
from fakes.stripe.collection import collect_invoice
from fakes.stripe.customers import new_customer
from fakes.stripe.discounts import parse_discounts, redeem, resolve, split_discounts
from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import Params, merge_metadata
from fakes.stripe.payments import charge_card
from fakes.stripe.setup_intents import create_setup_intent
from fakes.stripe.shapes import checkout_session_defaults, subscription_defaults
from fakes.stripe.state import Obj, StripeState

__all__ = ["checkout_routes", "complete_checkout_session"]

_SESSION_TTL_SECONDS = 24 * 3600  # Stripe's default expires_at


def _line_items(state: StripeState, p: Params, mode: str) -> list[tuple[Obj, int]]:
    """The session's prices and quantities: recurring prices in subscription mode, one-time ones in
    payment mode (as Stripe refuses a recurring price there)."""
    raw_items = p.array("line_items", required=True) or []
    resolved: list[tuple[Obj, int]] = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise StripeApiError(400, "Invalid hash", param=f"line_items[{index}]")
        item = Params(raw, prefix=f"line_items[{index}]").only(("price", "price_data", "quantity"))
        quantity = item.required_integer("quantity", minimum=1)
        price_id = item.text("price")
        price_data = item.nested("price_data")
        if (price_id is None) == (price_data is None):
            raise StripeApiError(
                400,
                "You must specify exactly one of these parameters: price, price_data.",
                code="parameters_exclusive" if price_id else "parameter_missing",
                param=item.name("price"),
            )
        if price_id is not None:
            price = state.get(state.prices, "price", price_id, param=item.name("price"))
        else:
            assert price_data is not None
            if mode == "subscription" and not price_data.has("recurring"):
                raise StripeApiError(
                    400,
                    "You must specify price_data[recurring] in subscription mode.",
                    code="parameter_missing",
                    param=price_data.name("recurring"),
                )
            price = create_price(state, price_data, inline=True)
        if mode == "subscription" and price["recurring"] is None:
            raise StripeApiError(
                400,
                "You must provide at least one recurring price in `subscription` mode when using "
                "prices.",
                param=item.name("price"),
            )
        if mode == "payment" and price["recurring"] is not None:
            raise StripeApiError(
                400,
                "You specified `payment` mode but passed a recurring price. Either switch to "
                "`subscription` mode or use only one-time prices.",
                param=item.name("price"),
            )
        resolved.append((price, quantity))
    if not resolved:
        raise StripeApiError(400, "Missing required param: line_items.", param="line_items")
    currencies = {price["currency"] for price, _ in resolved}
    if len(currencies) > 1:
        raise StripeApiError(400, "All line items must use the same currency.", param="line_items")
    return resolved


def _create(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        (
            "mode",
            "customer",
            "customer_email",
            "client_reference_id",
            "success_url",
            "cancel_url",
            "line_items",
            "metadata",
            "subscription_data",
            "payment_method_types",
            "allow_promotion_codes",
            "billing_address_collection",
            "locale",
            "discounts",
            "currency",
        )
    )
    mode = p.required_text("mode", choices=("payment", "setup", "subscription"))
    customer_id = p.text("customer")
    customer_email = p.text("customer_email")
    if customer_id is not None and customer_email is not None:
        raise StripeApiError(
            400,
            "You may only specify one of these parameters: customer, customer_email.",
            code="parameters_exclusive",
            param="customer",
        )
    if customer_id is not None:
        state.customer(customer_id, param="customer")
    if mode != "subscription" and p.has("subscription_data"):
        raise StripeApiError(
            400,
            "subscription_data can only be used in subscription mode.",
            param="subscription_data",
        )
    subscription_data = p.nested("subscription_data")
    subscription_metadata: dict[str, str] = {}
    description = None
    if subscription_data is not None:
        subscription_data.only(("metadata", "description"))
        subscription_metadata = merge_metadata({}, subscription_data.metadata())
        description = subscription_data.text("description", max_length=500)
    if mode == "setup":
        return _create_setup(state, call, p, customer_id, customer_email)
    items = _line_items(state, p, mode)
    wanted = parse_discounts(p) or []
    if wanted and p.boolean("allow_promotion_codes"):
        raise StripeApiError(
            400,
            "You may only specify one of these parameters: allow_promotion_codes, discounts.",
            code="parameters_exclusive",
            param="discounts",
        )
    now = state.now()
    # Checked now, redeemed on the subscription when the session completes (as Stripe does).
    coupons = [
        coupon
        for coupon, _ in resolve(
            state, wanted, customer=customer_id, currency=items[0][0]["currency"], at=now
        )
    ]
    amounts = [price["unit_amount"] * quantity for price, quantity in items]
    off = [sum(per_line) for per_line in zip(*split_discounts(amounts, coupons), strict=True)]
    off = off or [0] * len(amounts)
    subtotal = sum(amounts)
    total = subtotal - sum(off)
    session_id = state.ids.new("cs_test_", 58)
    session: Obj = {
        **checkout_session_defaults(),
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": subtotal,
        "amount_total": total,
        "cancel_url": p.text("cancel_url"),
        "client_reference_id": p.text("client_reference_id", max_length=200),
        "created": now,
        "currency": items[0][0]["currency"],
        "customer": customer_id,
        "customer_email": customer_email,
        "discounts": [
            {"coupon": None if code else coupon, "promotion_code": code} for coupon, code in wanted
        ],
        "expires_at": now + _SESSION_TTL_SECONDS,
        "invoice": None,
        "livemode": False,
        "locale": p.text("locale"),
        "metadata": merge_metadata({}, p.metadata()),
        "mode": mode,
        "payment_status": "unpaid" if total > 0 else "no_payment_required",
        "status": "open",
        "subscription": None,
        "success_url": p.text("success_url"),
        "url": f"{state.config.checkout_url_base}{session_id}",
    }
    session["total_details"]["amount_discount"] = subtotal - total
    state.checkout_sessions[session_id] = session
    state.session_line_items[session_id] = [
        {
            "id": state.ids.new("li_"),
            "object": "item",
            "amount_discount": discount,
            "amount_subtotal": price["unit_amount"] * quantity,
            "amount_tax": 0,
            "amount_total": price["unit_amount"] * quantity - discount,
            "currency": price["currency"],
            "description": state.products.get(price["product"], {}).get("name"),
            "price": price,
            "quantity": quantity,
        }
        for (price, quantity), discount in zip(items, off, strict=True)
    ]
    # Kept aside for completion: Stripe copies subscription_data onto the subscription it creates.
    state.session_subscription_data[session_id] = {
        "metadata": subscription_metadata,
        "description": description,
        "discounts": wanted,
    }
    return state.render(session, p)


def complete_checkout_session(state: StripeState, session_id: str) -> Obj:
    """Complete an open session as its customer would (paying with ``pm_card_visa``); returns it."""
    session = state.checkout_sessions.get(session_id)
    if session is None:
        raise FakeNotFound(f"no checkout session {session_id!r}", code="unknown_checkout_session")
    if session["status"] != "open":
        raise FakeError(
            f"checkout session {session_id} is {session['status']}, not open",
            code="checkout_session_not_open",
        )
    customer_id = session["customer"]
    if customer_id is None:
        # Checkout creates the customer when the session named none (in every mode, a choice: Stripe
        # leaves a payment-mode guest without one unless customer_creation=always).
        customer_id = _new_checkout_customer(state, session["customer_email"])
    complete = {"payment": _complete_payment, "setup": _complete_setup}.get(
        session["mode"], _complete_subscription
    )
    try:
        return complete(state, session, customer_id)
    except StripeApiError as exc:
        # A discount that was valid at creation and is used up or gone now: the session stays open.
        raise FakeError(
            f"checkout session {session_id} cannot complete: {exc}",
            code="checkout_session_not_completable",
        ) from exc


def _complete_subscription(state: StripeState, session: Obj, customer_id: str) -> Obj:
    session_id = session["id"]
    now = state.now()
    subscription_id = state.ids.new("sub_")
    extra = state.session_subscription_data.get(session_id, {})
    items = [
        new_subscription_item(state, subscription_id, item["price"], item["quantity"], now)
        for item in state.session_line_items[session_id]
    ]
    subscription: Obj = {
        **subscription_defaults(),
        "id": subscription_id,
        "object": "subscription",
        "billing_cycle_anchor": now,
        "created": now,
        "currency": session["currency"],
        "customer": customer_id,
        "description": extra.get("description"),
        "items": {
            "object": "list",
            "data": items,
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "metadata": dict(extra.get("metadata") or {}),
        "start_date": now,
        "status": "active",
    }
    subscription["discounts"] = redeem(
        state, extra.get("discounts") or [], customer=customer_id, currency=session["currency"],
        at=now, subscription=subscription_id, checkout_session=session_id,
    )  # fmt: skip
    state.subscriptions[subscription_id] = subscription
    invoice = make_subscription_invoice(
        state, subscription, billing_reason="subscription_create", period_start=now, period_end=now
    )
    session.update(
        status="complete",
        payment_status="paid",
        customer=customer_id,
        subscription=subscription_id,
        invoice=invoice["id"],
    )
    state.emit("checkout.session.completed", session)
    state.emit("customer.subscription.created", subscription)
    collect_invoice(state, invoice, subscription)
    return session


def _complete_payment(state: StripeState, session: Obj, customer_id: str) -> Obj:
    """Payment mode: a PaymentIntent for ``amount_total`` paid by card (``payment_intent.*``,
    ``charge.succeeded``); nothing is charged when the discounts leave nothing due."""
    extra = state.session_subscription_data.get(session["id"], {})
    redeem(
        state, extra.get("discounts") or [], customer=customer_id, currency=session["currency"],
        at=state.now(), checkout_session=session["id"],
    )  # fmt: skip
    intent = None
    if session["amount_total"] > 0:
        intent = charge_card(
            state, customer_id, session["amount_total"], session["currency"],
            f"Checkout Session {session['id']}", payment_method="pm_card_visa",
        )["id"]  # fmt: skip
    session.update(
        status="complete",
        payment_status="paid" if intent else "no_payment_required",
        customer=customer_id,
        payment_intent=intent,
    )
    state.emit("checkout.session.completed", session)
    return session


def _create_setup(
    state: StripeState, call: Call, p: Params, customer_id: str | None, email: str | None
) -> Obj:
    """Setup mode: no line items and no amounts; completion saves a card (a SetupIntent)."""
    if p.has("line_items") or p.has("discounts"):
        param = "line_items" if p.has("line_items") else "discounts"
        raise StripeApiError(400, f"{param} cannot be used in setup mode.", param=param)
    session_id = state.ids.new("cs_test_", 58)
    now = state.now()
    session: Obj = {
        **checkout_session_defaults(),
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": None,
        "amount_total": None,
        "cancel_url": p.text("cancel_url"),
        "client_reference_id": p.text("client_reference_id", max_length=200),
        "created": now,
        "currency": p.currency(required=False),
        "customer": customer_id,
        "customer_email": email,
        "expires_at": now + _SESSION_TTL_SECONDS,
        "invoice": None,
        "livemode": False,
        "locale": p.text("locale"),
        "metadata": merge_metadata({}, p.metadata()),
        "mode": "setup",
        "payment_status": "no_payment_required",
        "status": "open",
        "subscription": None,
        "success_url": p.text("success_url"),
        "total_details": None,
        "url": f"{state.config.checkout_url_base}{session_id}",
    }
    state.checkout_sessions[session_id] = session
    state.session_line_items[session_id] = []
    return state.render(session, p)


def _complete_setup(state: StripeState, session: Obj, customer_id: str) -> Obj:
    """Setup mode: a SetupIntent confirmed with ``pm_card_visa``, the card attached to the customer."""
    intent = create_setup_intent(
        state,
        Params({"customer": customer_id, "payment_method": "pm_card_visa", "confirm": "true"}),
        request=None,
    )
    session.update(status="complete", customer=customer_id, setup_intent=intent["id"])
    state.emit("checkout.session.completed", session)
    return session


def _new_checkout_customer(state: StripeState, email: str | None) -> str:
    customer = new_customer(state, Params({"email": email} if email else {}))
    return str(customer["id"])


def _retrieve(state: StripeState, call: Call) -> Obj:
    session = state.get(state.checkout_sessions, "checkout.session", call.path["session"])
    return state.render(session, call.params.only(()))


def _list(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        ("limit", "starting_after", "ending_before", "customer", "subscription", "status")
    )
    customer = p.text("customer")
    subscription = p.text("subscription")
    status = p.text("status", choices=("open", "complete", "expired"))
    page = state.page(
        state.checkout_sessions.values(),
        p,
        "/v1/checkout/sessions",
        kind="checkout.session",
        keep=lambda s: (
            (customer is None or s["customer"] == customer)
            and (subscription is None or s["subscription"] == subscription)
            and (status is None or s["status"] == status)
        ),
    )
    return state.render(page, p)


def _expire(state: StripeState, call: Call) -> Obj:
    session = state.get(state.checkout_sessions, "checkout.session", call.path["session"])
    if session["status"] != "open":
        raise StripeApiError(
            400,
            f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{session["status"]}".',
        )
    session["status"] = "expired"
    state.emit("checkout.session.expired", session, request=call.event_request())
    return state.render(session, call.params.only(()))


def _line_items_list(state: StripeState, call: Call) -> Obj:
    session_id = call.path["session"]
    state.get(state.checkout_sessions, "checkout.session", session_id)
    p = call.params.only(("limit", "starting_after", "ending_before"))
    # Line items are listed in the order they were given, not newest first.
    return state.page(
        reversed(state.session_line_items[session_id]),
        p,
        f"/v1/checkout/sessions/{session_id}/line_items",
        kind="line item",
    )


def checkout_routes(state: StripeState) -> list[Route]:
    """Checkout session create, retrieve, list, expire and line items."""
    one = "/v1/checkout/sessions/{session}"
    return [
        api_route(state, "POST", "/v1/checkout/sessions", "checkout.sessions.create", _create),
        api_route(state, "GET", "/v1/checkout/sessions", "checkout.sessions.list", _list),
        api_route(state, "GET", one, "checkout.sessions.retrieve", _retrieve),
        api_route(state, "POST", one + "/expire", "checkout.sessions.expire", _expire),
        api_route(
            state, "GET", one + "/line_items", "checkout.sessions.line_items", _line_items_list
        ),
    ]
