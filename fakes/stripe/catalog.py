"""Products and prices: create, retrieve, list and update both, delete a product that has no prices.

Enough for checkouts and subscriptions with a saved or an inline price. Not served: the catalog's events
(``product.*``, ``price.*``: the fake emits none, so an integration that waits for them finds out), and
search.
"""

from __future__ import annotations

from fakes._common import Route
from fakes.stripe.api import Call, api_route
from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import Params, merge_metadata
from fakes.stripe.shapes import product_defaults
from fakes.stripe.state import Obj, StripeState

__all__ = ["catalog_routes", "create_price", "create_product"]

_INTERVALS = ("day", "week", "month", "year")


def create_product(state: StripeState, p: Params) -> Obj:
    """A ``product`` from ``name`` (required), ``description``, ``metadata``, ``active``."""
    p.only(("name", "description", "metadata", "active", "id"))
    product_id = p.text("id") or state.ids.new("prod_", 14)
    if product_id in state.products:
        raise StripeApiError(
            400, f"Product already exists: {product_id}", code="resource_already_exists", param="id"
        )
    now = state.now()
    product: Obj = {
        **product_defaults(),
        "id": product_id,
        "object": "product",
        "active": p.boolean("active") is not False,
        "created": now,
        "default_price": None,
        "description": p.text("description"),
        "images": [],
        "livemode": False,
        "metadata": merge_metadata({}, p.metadata()),
        "name": p.required_text("name"),
        "type": "service",
        "updated": now,
        "url": None,
    }
    state.products[product_id] = product
    return product


def create_price(state: StripeState, p: Params, *, inline: bool = False) -> Obj:
    """A ``price``: ``currency``, ``unit_amount``, ``product`` or ``product_data``, optional ``recurring``.

    ``inline`` marks a price made from a checkout session's ``price_data`` (Stripe creates those too,
    but they cannot be reused, so they are inactive).
    """
    allowed = ["currency", "unit_amount", "product", "product_data", "recurring", "metadata"]
    if not inline:
        allowed += ["nickname", "lookup_key", "active"]
    p.only(allowed)
    currency = p.currency()
    unit_amount = p.required_integer("unit_amount", minimum=0)
    product_id = p.text("product")
    product_data = p.nested("product_data")
    if product_id is not None and product_data is not None:
        raise StripeApiError(
            400,
            "You may only specify one of these parameters: product, product_data.",
            code="parameters_exclusive",
            param="product",
        )
    if product_id is not None:
        state.get(state.products, "product", product_id, param=p.name("product"))
    elif product_data is not None:
        product_id = create_product(state, product_data)["id"]
    else:
        raise StripeApiError(
            400,
            "You must specify either product or product_data.",
            code="parameter_missing",
            param=p.name("product"),
        )
    recurring = p.nested("recurring")
    recurring_obj: Obj | None = None
    if recurring is not None:
        recurring.only(("interval", "interval_count", "usage_type"))
        interval = recurring.required_text("interval", choices=_INTERVALS)
        recurring_obj = {
            "interval": interval,
            "interval_count": recurring.integer("interval_count", minimum=1) or 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": recurring.text("usage_type", choices=("licensed", "metered"))
            or "licensed",
        }
    price: Obj = {
        "id": state.ids.new("price_"),
        "object": "price",
        "active": not inline and p.boolean("active") is not False,
        "billing_scheme": "per_unit",
        "created": state.now(),
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None if inline else p.text("lookup_key"),
        "metadata": merge_metadata({}, p.metadata()),
        "nickname": None if inline else p.text("nickname"),
        "product": product_id,
        "recurring": recurring_obj,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring_obj else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    state.prices[price["id"]] = price
    return price


def _create_product(state: StripeState, call: Call) -> Obj:
    return create_product(state, call.params)


def _retrieve_product(state: StripeState, call: Call) -> Obj:
    product = state.get(state.products, "product", call.path["product"])
    return state.render(product, call.params.only(()))


def _list_products(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before", "active"))
    active = p.boolean("active")
    return state.page(
        state.products.values(),
        p,
        "/v1/products",
        kind="product",
        keep=lambda product: active is None or product["active"] == active,
    )


def _create_price(state: StripeState, call: Call) -> Obj:
    return state.render(create_price(state, call.params), call.params)


def _retrieve_price(state: StripeState, call: Call) -> Obj:
    price = state.get(state.prices, "price", call.path["price"])
    return state.render(price, call.params.only(()))


def _list_prices(state: StripeState, call: Call) -> Obj:
    p = call.params.only(("limit", "starting_after", "ending_before", "active", "product", "type"))
    product = p.text("product")
    active = p.boolean("active")
    page = state.page(
        state.prices.values(),
        p,
        "/v1/prices",
        kind="price",
        keep=lambda price: (
            (product is None or price["product"] == product)
            and (active is None or price["active"] == active)
        ),
    )
    return state.render(page, p)


def _update_product(state: StripeState, call: Call) -> Obj:
    """``name``, ``description``, ``active``, ``metadata`` and ``default_price`` (a price of this product)."""
    p = call.params.only(("name", "description", "active", "metadata", "default_price"))
    product = state.get(state.products, "product", call.path["product"])
    if p.has("name"):
        product["name"] = p.required_text("name")
    if p.has("description"):
        product["description"] = p.text("description")
    active = p.boolean("active")
    if active is not None:
        product["active"] = active
    if p.has("metadata"):
        product["metadata"] = merge_metadata(product["metadata"], p.metadata())
    if p.has("default_price"):
        price_id = p.text("default_price")
        if price_id is not None:
            price = state.get(state.prices, "price", price_id, param="default_price")
            if price["product"] != product["id"]:
                raise StripeApiError(
                    400,
                    f"The price {price_id} is not a price of product {product['id']}.",
                    param="default_price",
                )
        product["default_price"] = price_id
    product["updated"] = state.now()
    return state.render(product, p)


def _delete_product(state: StripeState, call: Call) -> Obj:
    """As on Stripe, only a product without prices can be deleted (archive it otherwise)."""
    call.params.only(())
    product = state.get(state.products, "product", call.path["product"])
    if any(price["product"] == product["id"] for price in state.prices.values()):
        raise StripeApiError(
            400,
            "This product cannot be deleted because it has one or more user-created prices.",
            code="product_has_prices",  # an assumption: Stripe's message is known, its code is not
        )
    del state.products[product["id"]]
    return {"id": product["id"], "object": "product", "deleted": True}


def _update_price(state: StripeState, call: Call) -> Obj:
    """``active``, ``metadata``, ``nickname`` and ``lookup_key``: a price's amount never changes."""
    p = call.params.only(("active", "metadata", "nickname", "lookup_key"))
    price = state.get(state.prices, "price", call.path["price"])
    active = p.boolean("active")
    if active is not None:
        price["active"] = active
    if p.has("metadata"):
        price["metadata"] = merge_metadata(price["metadata"], p.metadata())
    for field in ("nickname", "lookup_key"):
        if p.has(field):
            price[field] = p.text(field)
    return state.render(price, p)


def catalog_routes(state: StripeState) -> list[Route]:
    """Products (create, retrieve, list, update, delete) and prices (create, retrieve, list, update)."""
    product = "/v1/products/{product}"
    price = "/v1/prices/{price}"
    return [
        api_route(state, "POST", "/v1/products", "products.create", _create_product),
        api_route(state, "GET", "/v1/products", "products.list", _list_products),
        api_route(state, "GET", "/v1/products/{product}", "products.retrieve", _retrieve_product),
        api_route(state, "POST", "/v1/prices", "prices.create", _create_price),
        api_route(state, "GET", "/v1/prices", "prices.list", _list_prices),
        api_route(state, "GET", "/v1/prices/{price}", "prices.retrieve", _retrieve_price),
        api_route(state, "POST", product, "products.update", _update_product),
        api_route(state, "DELETE", product, "products.delete", _delete_product),
        api_route(state, "POST", price, "prices.update", _update_price),
    ]
