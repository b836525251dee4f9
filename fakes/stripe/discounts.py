"""Discounts: coupons and promotion codes redeemed on a subscription, an invoice or a Checkout Session,
and applied to invoices as Stripe does at API version 2025-11-17.clover.

A redemption (``discounts[i][coupon]`` or ``discounts[i][promotion_code]``) makes a ``discount`` object
(``source: {type: coupon, coupon}``) and counts a redemption on the coupon and the code. An invoice lists
the discounts it applies in ``discounts``; each line carries ``discount_amounts`` (one entry per discount,
the line's ``amount`` stays the pre-discount amount) and the invoice ``total_discount_amounts``; ``total``
and ``amount_due`` are after the discount.

How an amount is taken off (choices, documented because Stripe publishes no formula):

* ``percent_off`` takes ``percent_off`` % of each positive line, rounded half up per line;
* ``amount_off`` takes at most the lines' positive sum, split over the lines in proportion to their
  amounts (largest remainder, so the split adds up to the discount exactly);
* several discounts apply in order, each to what the previous ones left;
* lines of zero or negative amount (proration credits) are not discounted.

Duration over a subscription's invoices: ``once`` ends after the first invoice it applies to; ``repeating``
ends ``duration_in_months`` after the redemption (``discount.end``), so an invoice at or after ``end`` is not
discounted; ``forever`` never ends. A discount on a subscription sends ``customer.discount.created`` when
redeemed and ``customer.discount.deleted`` when it ends or is replaced. Not served: the customer-level
discount (the API version has no parameter that sets one, so ``customer.discount`` stays ``null``),
``applies_to`` product restrictions, and a promotion code's ``first_time_transaction`` and
``minimum_amount`` restrictions (stored, not enforced).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import Params
from fakes.stripe.periods import add_interval
from fakes.stripe.state import Obj, StripeState

__all__ = [
    "after_invoice",
    "apply_discounts",
    "check_currency",
    "end_discount",
    "line_discounts",
    "parse_discounts",
    "redeem",
    "replace_discounts",
    "resolve",
    "split_discounts",
    "subscription_discounts_at",
]

Request = dict[str, str | None] | None


def line_discounts(amounts: list[int], coupon: Obj) -> list[int]:
    """What ``coupon`` takes off each of ``amounts`` (minor units; nothing off a line <= 0)."""
    positive = [max(amount, 0) for amount in amounts]
    if coupon["percent_off"] is not None:
        rate = Decimal(str(coupon["percent_off"])) / 100
        return [int((amount * rate).quantize(Decimal(1), ROUND_HALF_UP)) for amount in positive]
    base = sum(positive)
    off = min(int(coupon["amount_off"]), base)
    if base == 0:
        return [0] * len(amounts)
    shares = [off * amount // base for amount in positive]
    # Largest remainder: the cents the floor division left go to the lines it shortchanged most.
    order = sorted(range(len(positive)), key=lambda i: -((off * positive[i]) % base))
    for index in order[: off - sum(shares)]:
        shares[index] += 1
    return shares


def parse_discounts(p: Params, key: str = "discounts") -> list[tuple[str, str | None]] | None:
    """``discounts[i][coupon|promotion_code]`` as ``(coupon id, promotion code id)`` pairs; None when
    absent, ``[]`` for ``discounts=`` (clear)."""
    if p.data.get(key) == "":
        return []
    raw = p.array(key)
    if raw is None:
        return None
    found: list[tuple[str, str | None]] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise StripeApiError(400, "Invalid hash", param=f"{p.name(key)}[{index}]")
        one = Params(entry, prefix=f"{p.name(key)}[{index}]").only(("coupon", "promotion_code"))
        coupon, code = one.text("coupon"), one.text("promotion_code")
        if (coupon is None) == (code is None):
            raise StripeApiError(
                400,
                "You must pass exactly one of coupon or promotion_code.",
                param=one.name("coupon"),
            )
        found.append((coupon or "", code))
    return found


def _coupon_for(
    state: StripeState,
    coupon_id: str,
    code_id: str | None,
    customer: str | None,
    at: int,
    param: str,
) -> tuple[Obj, Obj | None]:
    code = None
    if code_id is not None:
        code = state.get(state.promotion_codes, "promotion_code", code_id, param=param)
        expired = code["expires_at"] is not None and code["expires_at"] <= at
        used_up = code["max_redemptions"] is not None and (
            code["times_redeemed"] >= code["max_redemptions"]
        )
        if not code["active"] or expired or used_up:
            raise StripeApiError(
                400, f"Promotion code {code_id} is not active.", code="coupon_expired", param=param
            )
        if code["customer"] not in (None, customer):
            raise StripeApiError(
                400,
                f"Promotion code {code_id} cannot be redeemed by this customer.",
                param=param,
            )
        coupon_id = code["promotion"]["coupon"]
    coupon = state.get(state.coupons, "coupon", coupon_id, param=param)
    used_up = coupon["max_redemptions"] is not None and (
        coupon["times_redeemed"] >= coupon["max_redemptions"]
    )
    if used_up or (coupon["redeem_by"] is not None and coupon["redeem_by"] <= at):
        raise StripeApiError(
            400, f"Coupon {coupon['id']} is no longer valid.", code="coupon_expired", param=param
        )
    return coupon, code


def check_currency(coupon: Obj, currency: str, param: str) -> None:
    """An ``amount_off`` coupon discounts only amounts in its own currency."""
    if coupon["amount_off"] is not None and coupon["currency"] != currency:
        raise StripeApiError(
            400,
            f"The coupon {coupon['id']} is in {coupon['currency']}, this is billed in {currency}.",
            param=param,
        )


def resolve(
    state: StripeState,
    wanted: list[tuple[str, str | None]],
    *,
    customer: str | None,
    currency: str,
    at: int,
    param: str = "discounts",
) -> list[tuple[Obj, Obj | None]]:
    """The coupon (and promotion code) of each of ``wanted``, checked redeemable now in ``currency``."""
    found = []
    for index, (coupon_id, code_id) in enumerate(wanted):
        name = f"{param}[{index}]"
        coupon, code = _coupon_for(state, coupon_id, code_id, customer, at, name)
        check_currency(coupon, currency, name)
        found.append((coupon, code))
    return found


def redeem(
    state: StripeState,
    wanted: list[tuple[str, str | None]],
    *,
    customer: str,
    currency: str,
    at: int,
    param: str = "discounts",
    subscription: str | None = None,
    invoice: str | None = None,
    checkout_session: str | None = None,
    request: Request = None,
) -> list[str]:
    """New ``discount`` objects for ``wanted``, every one checked before any is made; their ids.

    A subscription's discounts send ``customer.discount.created``."""
    found = resolve(state, wanted, customer=customer, currency=currency, at=at, param=param)
    ids = []
    for coupon, code in found:
        months = coupon["duration_in_months"]
        discount: Obj = {
            "id": state.ids.new("di_"),
            "object": "discount",
            "checkout_session": checkout_session,
            "customer": customer,
            "end": add_interval(at, "month", months) if coupon["duration"] == "repeating" else None,
            "invoice": invoice,
            "invoice_item": None,
            "promotion_code": code["id"] if code is not None else None,
            "source": {"coupon": coupon["id"], "type": "coupon"},
            "start": at,
            "subscription": subscription,
            "subscription_item": None,
        }
        state.discounts[discount["id"]] = discount
        # The terms as redeemed: a coupon deleted later keeps discounting what it was redeemed on.
        state.discount_coupons[discount["id"]] = dict(coupon)
        coupon["times_redeemed"] += 1
        if coupon["max_redemptions"] is not None:
            coupon["valid"] = coupon["times_redeemed"] < coupon["max_redemptions"]
        if code is not None:
            code["times_redeemed"] += 1
        if subscription is not None:
            state.emit("customer.discount.created", discount, request=request)
        ids.append(discount["id"])
    return ids


def split_discounts(amounts: list[int], coupons: list[Obj]) -> list[list[int]]:
    """Per coupon, in order, what it takes off each amount (each applies to what the others left)."""
    left, taken = list(amounts), []
    for coupon in coupons:
        off = line_discounts(left, coupon)
        taken.append(off)
        left = [amount - o for amount, o in zip(left, off, strict=True)]
    return taken


def apply_discounts(state: StripeState, invoice: Obj) -> int:
    """Fill the invoice's and its lines' discount amounts from ``invoice["discounts"]``; the total off."""
    lines = invoice["lines"]["data"]
    ids = invoice["discounts"]
    amounts = [line["amount"] if line["discountable"] else 0 for line in lines]
    taken = split_discounts(amounts, [state.discount_coupons[i] for i in ids])
    for index, line in enumerate(lines):
        line["discounts"] = list(ids) if line["discountable"] else []
        line["discount_amounts"] = [
            {"amount": off[index], "discount": discount_id}
            for discount_id, off in zip(ids, taken, strict=True)
            if line["discountable"]
        ]
    invoice["total_discount_amounts"] = [
        {"amount": sum(off), "discount": discount_id}
        for discount_id, off in zip(ids, taken, strict=True)
    ]
    return sum(sum(off) for off in taken)


def end_discount(
    state: StripeState, subscription: Obj, discount_id: str, *, request: Request = None
) -> None:
    """Take a discount off ``subscription`` (``customer.discount.deleted``,
    ``customer.subscription.updated``)."""
    before = list(subscription["discounts"])
    subscription["discounts"] = [d for d in before if d != discount_id]
    state.emit("customer.discount.deleted", state.discounts[discount_id], request=request)
    state.emit(
        "customer.subscription.updated",
        subscription,
        request=request,
        previous_attributes={"discounts": before},
    )


def replace_discounts(
    state: StripeState,
    subscription: Obj,
    wanted: list[tuple[str, str | None]],
    *,
    at: int,
    request: Request,
) -> None:
    """``discounts`` on an update replaces the subscription's discounts (``discounts=`` clears them);
    a discount asked for again by its coupon and code is kept as it is (its ``end`` does not move)."""

    def key(coupon: str | None, code: str | None) -> tuple[str, str | None]:
        return ("promotion_code", code) if code is not None else ("coupon", coupon)

    kept = {
        key(d["source"]["coupon"], d["promotion_code"]): d["id"]
        for d in (state.discounts[i] for i in subscription["discounts"])
    }
    new = [pair for pair in wanted if key(*pair) not in kept]
    created = redeem(
        state, new, customer=subscription["customer"], currency=subscription["currency"], at=at,
        subscription=subscription["id"], request=request,
    )  # fmt: skip
    keep = {kept[key(*pair)] for pair in wanted if key(*pair) in kept}
    for discount_id in list(subscription["discounts"]):
        if discount_id not in keep:
            end_discount(state, subscription, discount_id, request=request)
    subscription["discounts"] = [*subscription["discounts"], *created]


def subscription_discounts_at(state: StripeState, subscription: Obj, at: int) -> list[str]:
    """The subscription's discounts that apply to an invoice at ``at``; those past their ``end`` end."""
    for discount_id in list(subscription["discounts"]):
        end = state.discounts[discount_id]["end"]
        if end is not None and end <= at:
            end_discount(state, subscription, discount_id)
    return list(subscription["discounts"])


def after_invoice(state: StripeState, subscription: Obj, applied: list[str]) -> None:
    """End the ``once`` discounts that have now applied to an invoice."""
    for discount_id in applied:
        once = state.discount_coupons[discount_id]["duration"] == "once"
        if once and discount_id in subscription["discounts"]:
            end_discount(state, subscription, discount_id)
