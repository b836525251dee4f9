"""Coupons and promotion codes through stripe-python: create, retrieve, update, list, delete (applying them to
invoices is ``test_stripe_discounts.py``).

Every answer is checked against the pinned ``coupon``, ``deleted_coupon`` and ``promotion_code`` schemas.
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from contracts.processors.stripe_validate import violations
from fakes.stripe import StripeFakeApp

pytestmark = pytest.mark.integration


def _valid(result: Any) -> None:
    body = result.last_response.data
    name = f"deleted_{body['object']}" if body.get("deleted") else None
    for item in body["data"] if body.get("object") == "list" else [body]:
        assert violations(item, name) == [], item["object"]


def test_coupons_are_created_retrieved_updated_listed_and_deleted(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    app, client = fake
    percent = client.v1.coupons.create(
        params={"percent_off": 25.5, "duration": "repeating", "duration_in_months": 3,
                "name": "Launch", "max_redemptions": 10}
    )  # fmt: skip
    fixed = client.v1.coupons.create(
        params={"id": "FIVEOFF", "amount_off": 500, "currency": "usd", "duration": "forever"}
    )
    renamed = client.v1.coupons.update(
        percent.id, params={"name": "Launch 2", "metadata": {"k": "v"}}
    )
    listed = client.v1.coupons.list()
    deleted = client.v1.coupons.delete(fixed.id)

    assert (percent.percent_off, percent.duration_in_months, percent.valid) == (25.5, 3, True)
    assert (fixed.id, fixed.amount_off, fixed.currency) == ("FIVEOFF", 500, "usd")
    assert renamed.name == "Launch 2" and renamed.metadata is not None
    assert renamed.metadata.to_dict() == {"k": "v"}
    assert [c.id for c in listed.data] == [fixed.id, percent.id] and deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.coupons.retrieve(fixed.id)
    kinds = [e["type"] for e in app.events() if e["data"]["object"]["id"] == fixed.id]
    assert kinds == ["coupon.created", "coupon.deleted"]
    for result in (
        percent,
        fixed,
        renamed,
        listed,
        deleted,
        client.v1.coupons.retrieve(percent.id),
    ):
        _valid(result)


@pytest.mark.parametrize(
    "params",
    [{"duration": "once"}, {"percent_off": 10, "amount_off": 5, "currency": "usd"},
     {"percent_off": 150}, {"amount_off": 100}, {"percent_off": 5, "duration": "repeating"}],
)  # fmt: skip
def test_a_coupon_needs_exactly_one_valid_discount_and_its_duration_details(
    fake: tuple[StripeFakeApp, stripe.StripeClient], params: dict[str, Any]
) -> None:
    _, client = fake
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.coupons.create(params=params)  # type: ignore[arg-type]


def test_promotion_codes_name_a_coupon_and_an_active_code_is_unique(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _, client = fake
    coupon = client.v1.coupons.create(params={"percent_off": 10})
    customer = client.v1.customers.create()
    code = client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "SPRING10",
                "customer": customer.id,
                "restrictions": {"minimum_amount": 1000, "minimum_amount_currency": "usd"}}
    )  # fmt: skip
    generated = client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}}
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.promotion_codes.create(
            params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "spring10"}
        )
    off = client.v1.promotion_codes.update(code.id, params={"active": False})
    again = client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "SPRING10"}
    )
    found = client.v1.promotion_codes.list(params={"code": "SPRING10", "active": True})

    assert code.promotion.coupon == coupon.id and code.restrictions.minimum_amount == 1000
    assert generated.code and generated.active is True and off.active is False
    assert [c.id for c in found.data] == [again.id]
    for result in (code, generated, off, found, client.v1.promotion_codes.retrieve(code.id)):
        _valid(result)
