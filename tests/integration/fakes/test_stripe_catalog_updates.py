"""Products and prices updated, archived and deleted through stripe-python, schema-checked (issue 15)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from contracts.processors.stripe_validate import violations
from fakes.stripe import StripeFakeApp

pytestmark = pytest.mark.integration


def _valid(result: Any, name: str | None = None) -> None:
    assert violations(result.last_response.data, name) == []


def test_a_product_and_its_price_are_updated_and_archived_but_not_deleted(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _app, client = fake
    v1 = client.v1
    product = v1.products.create(params={"name": "Basic"})
    price = v1.prices.create(params={"product": product.id, "currency": "usd", "unit_amount": 500})
    renamed = v1.products.update(
        product.id,
        params={"name": "Basic+", "metadata": {"tier": "1"}, "default_price": price.id},
    )
    archived_price = v1.prices.update(
        price.id, params={"active": False, "nickname": "old", "lookup_key": "basic_old"}
    )
    archived = v1.products.update(product.id, params={"active": False})

    assert (renamed.name, renamed.default_price) == ("Basic+", price.id)
    assert renamed.metadata is not None and renamed.metadata.to_dict() == {"tier": "1"}
    assert (archived_price.active, archived_price.nickname, archived_price.unit_amount) == (
        False,
        "old",
        500,
    )
    assert archived.active is False
    assert v1.prices.list(params={"active": False, "product": product.id}).data[0].id == price.id
    with pytest.raises(stripe.InvalidRequestError) as refused:
        v1.products.delete(product.id)
    assert "has one or more user-created prices" in str(refused.value.user_message)
    for result in (renamed, archived_price, archived):
        _valid(result)


def test_a_product_without_prices_is_deleted_and_then_missing(
    fake: tuple[StripeFakeApp, stripe.StripeClient],
) -> None:
    _app, client = fake
    v1 = client.v1
    product = v1.products.create(params={"name": "Draft"})
    other = v1.products.create(params={"name": "Other"})
    foreign = v1.prices.create(params={"product": other.id, "currency": "usd", "unit_amount": 1})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        v1.products.update(product.id, params={"default_price": foreign.id})
    deleted = v1.products.delete(product.id)

    assert refused.value.param == "default_price"
    assert (deleted.id, deleted.deleted) == (product.id, True)
    _valid(deleted, "deleted_product")
    with pytest.raises(stripe.InvalidRequestError):
        v1.products.retrieve(product.id)
