"""Coupons and promotion codes: create, retrieve, update, list (and delete a coupon), with their events.

They are applied where a ``discounts`` parameter redeems them (subscriptions, invoices, Checkout
Sessions): :mod:`fakes.stripe.discounts`, which also counts ``times_redeemed``. A promotion code names
its coupon under ``promotion`` (``{type: coupon, coupon}``), the shape of API version 2025-11-17.clover;
its ``code`` must be unique among active codes.
"""

from __future__ import annotations

import math

from fakes._common import Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import Params, merge_metadata
from fakes.stripe.state import Obj, StripeState

__all__ = ["coupon_routes"]


def _percent(p: Params) -> float | None:
    raw = p.data.get("percent_off")
    if raw is None:
        return None
    try:
        value = float(raw) if isinstance(raw, str) else math.nan
    except ValueError:
        value = math.nan
    if not 0 < value <= 100:  # also false for NaN
        raise StripeApiError(
            400,
            "Invalid percent_off: must be greater than 0 and less than or equal to 100",
            param="percent_off",
        )
    return value


def _create_coupon(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        ("id", "percent_off", "amount_off", "currency", "duration", "duration_in_months",
         "max_redemptions", "redeem_by", "name", "metadata", "applies_to")
    )  # fmt: skip
    percent = _percent(p)
    amount = p.integer("amount_off", minimum=1)
    if (percent is None) == (amount is None):
        raise StripeApiError(
            400, "You must pass exactly one of percent_off or amount_off.", param="percent_off"
        )
    currency = p.currency(required=amount is not None)
    duration = p.text("duration", choices=("forever", "once", "repeating")) or "once"
    months = p.integer("duration_in_months", minimum=1)
    if (duration == "repeating") != (months is not None):
        raise StripeApiError(
            400,
            "duration_in_months is required with, and only with, duration=repeating.",
            param="duration_in_months",
        )
    coupon_id = p.text("id", max_length=200) or state.ids.new("", 8)
    if coupon_id in state.coupons:
        raise StripeApiError(
            400, "Coupon already exists.", code="resource_already_exists", param="id"
        )
    coupon: Obj = {
        "id": coupon_id,
        "object": "coupon",
        "amount_off": amount,
        "created": state.now(),
        "currency": currency if amount is not None else None,
        "duration": duration,
        "duration_in_months": months,
        "livemode": False,
        "max_redemptions": p.integer("max_redemptions", minimum=1),
        "metadata": merge_metadata({}, p.metadata()),
        "name": p.text("name", max_length=40),
        "percent_off": percent,
        "redeem_by": p.integer("redeem_by", minimum=1),
        "times_redeemed": 0,
        "valid": True,
    }
    state.coupons[coupon_id] = coupon
    state.emit("coupon.created", coupon, request=call.event_request())
    return state.render(coupon, p)


def _coupon(state: StripeState, call: Call) -> Obj:
    return state.get(state.coupons, "coupon", call.path["coupon"])


def _retrieve_coupon(state: StripeState, call: Call) -> Obj:
    return state.render(_coupon(state, call), call.params.only(()))


def _update_coupon(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("name", "metadata"))
    coupon = _coupon(state, call)
    previous: Obj = {}
    if p.has("name"):
        previous["name"] = coupon["name"]
        coupon["name"] = p.text("name", max_length=40)
    if p.has("metadata"):
        previous["metadata"] = coupon["metadata"]
        coupon["metadata"] = merge_metadata(coupon["metadata"], p.metadata())
    state.emit("coupon.updated", coupon, request=call.event_request(), previous_attributes=previous)
    return state.render(coupon, p)


def _delete_coupon(state: StripeState, call: Call) -> Obj:
    call.params.only(())
    coupon = _coupon(state, call)
    del state.coupons[coupon["id"]]
    state.emit("coupon.deleted", coupon, request=call.event_request())
    return {"id": coupon["id"], "object": "coupon", "deleted": True}


def _list_coupons(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before", "created"))
    return state.render(state.page(state.coupons.values(), p, "/v1/coupons", kind="coupon"), p)


def _restrictions(p: Params) -> Obj:
    restrictions = p.nested("restrictions")
    found: Obj = {
        "first_time_transaction": False,
        "minimum_amount": None,
        "minimum_amount_currency": None,
    }
    if restrictions is None:
        return found
    restrictions.only(("first_time_transaction", "minimum_amount", "minimum_amount_currency"))
    found["first_time_transaction"] = restrictions.boolean("first_time_transaction") is True
    found["minimum_amount"] = restrictions.integer("minimum_amount", minimum=1)
    if found["minimum_amount"] is not None:
        found["minimum_amount_currency"] = restrictions.currency("minimum_amount_currency")
    return found


def _create_code(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        ("promotion", "code", "active", "customer", "expires_at", "max_redemptions",
         "restrictions", "metadata")
    )  # fmt: skip
    promotion = p.nested("promotion", required=True)
    assert promotion is not None
    promotion.only(("type", "coupon"))
    promotion.text("type", required=True, choices=("coupon",))
    coupon = state.get(
        state.coupons, "coupon", promotion.required_text("coupon"), param="promotion[coupon]"
    )
    customer = p.text("customer")
    if customer is not None:
        state.customer(customer, param="customer")
    code = p.text("code", max_length=500) or state.ids.new("", 8).upper()
    active = p.boolean("active")
    _check_unique(state, code)
    promotion_code: Obj = {
        "id": state.ids.new("promo_"),
        "object": "promotion_code",
        "active": active is not False,
        "code": code,
        "created": state.now(),
        "customer": customer,
        "expires_at": p.integer("expires_at", minimum=1),
        "livemode": False,
        "max_redemptions": p.integer("max_redemptions", minimum=1),
        "metadata": merge_metadata({}, p.metadata()),
        "promotion": {"coupon": coupon["id"], "type": "coupon"},
        "restrictions": _restrictions(p),
        "times_redeemed": 0,
    }
    state.promotion_codes[promotion_code["id"]] = promotion_code
    state.emit("promotion_code.created", promotion_code, request=call.event_request())
    return state.render(promotion_code, p)


def _check_unique(state: StripeState, code: str) -> None:
    taken = any(
        c["active"] and c["code"].lower() == code.lower() for c in state.promotion_codes.values()
    )
    if taken:
        raise StripeApiError(
            400,
            "An active promotion code with `code: " + code + "` already exists.",
            code="resource_already_exists",
            param="code",
        )


def _code(state: StripeState, call: Call) -> Obj:
    return state.get(state.promotion_codes, "promotion_code", call.path["code"])


def _retrieve_code(state: StripeState, call: Call) -> Obj:
    return state.render(_code(state, call), call.params.only(()))


def _update_code(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("active", "metadata"))
    promotion_code = _code(state, call)
    previous: Obj = {}
    active = p.boolean("active")
    if active is not None and active != promotion_code["active"]:
        if active:
            _check_unique(state, promotion_code["code"])
        previous["active"] = promotion_code["active"]
        promotion_code["active"] = active
    if p.has("metadata"):
        previous["metadata"] = promotion_code["metadata"]
        promotion_code["metadata"] = merge_metadata(promotion_code["metadata"], p.metadata())
    state.emit(
        "promotion_code.updated",
        promotion_code,
        request=call.event_request(),
        previous_attributes=previous,
    )
    return state.render(promotion_code, p)


def _list_codes(state: StripeState, call: Call) -> Obj:
    p = call.params.only(
        ("limit", "starting_after", "ending_before", "active", "code", "coupon", "customer",
         "created")
    )  # fmt: skip
    active, code = p.boolean("active"), p.text("code")
    coupon, customer = p.text("coupon"), p.text("customer")
    page = state.page(
        state.promotion_codes.values(),
        p,
        "/v1/promotion_codes",
        kind="promotion_code",
        keep=lambda c: (
            (active is None or c["active"] == active)
            and (code is None or c["code"] == code)
            and (coupon is None or c["promotion"]["coupon"] == coupon)
            and (customer is None or c["customer"] == customer)
        ),
    )
    return state.render(page, p)


def coupon_routes(state: StripeState) -> list[Route]:
    """Coupons (create, retrieve, update, delete, list) and promotion codes (create, retrieve,
    update, list)."""
    coupon = "/v1/coupons/{coupon}"
    code = "/v1/promotion_codes/{code}"
    return [
        api_route(state, "POST", "/v1/coupons", "coupons.create", _create_coupon),
        api_route(state, "GET", "/v1/coupons", "coupons.list", _list_coupons),
        api_route(state, "GET", coupon, "coupons.retrieve", _retrieve_coupon),
        api_route(state, "POST", coupon, "coupons.update", _update_coupon),
        api_route(state, "DELETE", coupon, "coupons.delete", _delete_coupon),
        api_route(state, "POST", "/v1/promotion_codes", "promotion_codes.create", _create_code),
        api_route(state, "GET", "/v1/promotion_codes", "promotion_codes.list", _list_codes),
        api_route(state, "GET", code, "promotion_codes.retrieve", _retrieve_code),
        api_route(state, "POST", code, "promotion_codes.update", _update_code),
    ]
