"""Hostile form values never make the fake Stripe answer 5xx: non-integers are Stripe's ``400``
``parameter_invalid_integer`` (issue 12.5), whatever the value and whatever the parameter."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes.stripe import create_app
from fakes.stripe.errors import StripeApiError
from fakes.stripe.forms import Params, decode_form

AUTH = {"authorization": "Bearer sk_test_payharness"}

INTEGER_POSTS = [
    ("/v1/prices", {"currency": "usd", "product_data[name]": "p"}, "unit_amount"),
    ("/v1/customers/{customer}/balance_transactions", {"currency": "usd"}, "amount"),
    ("/v1/test_helpers/customers/{customer}/fund_cash_balance", {"currency": "usd"}, "amount"),
]


async def _send(requests: list[tuple[str, str, dict[str, str]]]) -> list[httpx.Response]:
    app = create_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://stripe.test", headers=AUTH
    ) as client:
        customer = (await client.post("/v1/customers", data={})).json()["id"]
        return [
            await client.request(method, path.format(customer=customer), data=data or None)
            for method, path, data in requests
        ]


@pytest.mark.parametrize(
    "value", ["--5", "²", "9" * 4_301, "-" + "1" * 5_000, "1e3", " 5", "٣", "9" * 20]
)
def test_values_that_are_not_64_bit_integers_are_parameter_invalid_integer(value: str) -> None:
    with pytest.raises(StripeApiError) as caught:
        Params({"amount": value}).required_integer("amount")
    assert (caught.value.status, caught.value.code) == (400, "parameter_invalid_integer")


@pytest.mark.parametrize("path,base,key", INTEGER_POSTS)
def test_the_issue_12_amounts_get_stripes_400_on_every_integer_route(
    path: str, base: dict[str, str], key: str
) -> None:
    hostile = ["--5", "²", "9" * 4_301]
    responses = asyncio.run(_send([("POST", path, {**base, key: v}) for v in hostile]))
    for response in responses:
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["type"], error["code"]) == (
            "invalid_request_error",
            "parameter_invalid_integer",
        )


def test_an_array_index_that_is_not_an_ascii_number_is_a_hash_key_not_a_crash() -> None:
    assert decode_form([("metadata[²]", "x")]) == {"metadata": {"²": "x"}}
    assert decode_form([("items[" + "9" * 5_000 + "]", "x")])["items"] == {"9" * 5_000: "x"}


form_keys = st.sampled_from(
    [
        "amount",
        "unit_amount",
        "currency",
        "limit",
        "quantity",
        "metadata[k]",
        "expand[0]",
        "line_items[0][quantity]",
        "items[²]",
        "created[gte]",
        "email",
        "mode",
        "interval_count",
    ]
) | st.text(min_size=1, max_size=12)
form_values = st.text(max_size=30) | st.integers().map(str) | st.just("9" * 4_400)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(form_keys, form_values, max_size=5),
    route=st.sampled_from(
        [("POST", p, {}) for p, _, _ in INTEGER_POSTS]
        + [
            ("POST", "/v1/customers", {}),
            ("POST", "/v1/checkout/sessions", {}),
            ("POST", "/v1/products", {}),
            ("POST", "/v1/webhook_endpoints", {}),
            ("POST", "/v1/customers/{customer}", {}),
            ("GET", "/v1/events", {}),
            ("GET", "/v1/customers", {}),
        ]
    ),
)
def test_arbitrary_form_values_never_get_a_5xx(
    data: dict[str, str], route: tuple[str, str, dict[str, Any]]
) -> None:
    method, path, _ = route
    if method == "GET":

        async def get() -> list[httpx.Response]:
            app = create_app()
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app), base_url="http://stripe.test", headers=AUTH
            ) as client:
                return [await client.get(path, params=data)]

        responses = asyncio.run(get())
    else:
        responses = asyncio.run(_send([(method, path, data)]))
    assert responses[0].status_code < 500, responses[0].text
