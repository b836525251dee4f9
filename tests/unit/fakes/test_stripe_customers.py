"""Customers, auth, errors and customer balance transactions (negative amounts credit)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from fakes.stripe import StripeConfig, StripeFakeApp, create_app

AUTH = {"authorization": "Bearer sk_test_payharness"}


def client_for(app: StripeFakeApp, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app),
        base_url="http://stripe.test",
        headers=AUTH if headers is None else headers,
    )


async def new_customer(client: httpx.AsyncClient, **data: Any) -> dict[str, Any]:
    response = await client.post("/v1/customers", data=data)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_basic_auth_with_the_secret_key_as_user_name_is_accepted() -> None:
    token = base64.b64encode(b"sk_test_payharness:").decode()
    async with client_for(create_app(), {"authorization": f"Basic {token}"}) as client:
        assert (await client.get("/v1/customers")).status_code == 200


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (None, "You did not provide an API key"),
        ("Bearer sk_test_wrong_key_1234", "Invalid API Key provided: sk_test_********1234"),
        ("Bearer sk_live_abcdefgh", "test-mode keys"),
        ("Basic not-base64!", "You did not provide an API key"),
    ],
)
async def test_missing_unknown_and_live_keys_get_stripes_401(
    header: str | None, fragment: str
) -> None:
    async with client_for(
        create_app(), {} if header is None else {"authorization": header}
    ) as client:
        response = await client.get("/v1/customers")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert fragment in response.json()["error"]["message"]


async def test_every_response_carries_a_request_id_and_the_api_version() -> None:
    async with client_for(create_app()) as client:
        ok = await client.get("/v1/customers")
        missing = await client.get("/v1/customers/cus_missing")
    for response in (ok, missing):
        assert response.headers["request-id"].startswith("req_")
        assert response.headers["stripe-version"] == "2025-11-17.clover"
    assert ok.headers["request-id"] != missing.headers["request-id"]


async def test_unknown_objects_and_unknown_urls_are_404_resource_missing() -> None:
    async with client_for(create_app()) as client:
        customer = await client.get("/v1/customers/cus_missing")
        url = await client.post("/v1/charges/ch_1/explode")
    assert customer.status_code == url.status_code == 404
    assert customer.json()["error"] == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "message": "No such customer: 'cus_missing'",
        "param": "id",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
    }
    assert url.json()["error"]["code"] == "resource_missing"
    assert (
        "Unrecognized request URL (POST: /v1/charges/ch_1/explode)"
        in url.json()["error"]["message"]
    )


async def test_a_customer_is_created_with_metadata_and_read_back() -> None:
    async with client_for(create_app()) as client:
        created = await new_customer(
            client, email="a@example.com", **{"metadata[account_id]": "acc_1"}
        )
        read = (await client.get(f"/v1/customers/{created['id']}")).json()
    assert created["id"].startswith("cus_")
    assert read == created
    assert (read["email"], read["metadata"], read["balance"], read["livemode"]) == (
        "a@example.com",
        {"account_id": "acc_1"},
        0,
        False,
    )


async def test_unknown_create_params_are_refused() -> None:
    async with client_for(create_app()) as client:
        response = await client.post("/v1/customers", data={"emali": "typo@example.com"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parameter_unknown"
    assert response.json()["error"]["param"] == "emali"


async def test_updates_merge_metadata_and_emit_customer_updated() -> None:
    app = create_app()
    async with client_for(app) as client:
        customer = await new_customer(client, **{"metadata[a]": "1", "metadata[b]": "2"})
        updated = await client.post(
            f"/v1/customers/{customer['id']}",
            data={"name": "Ada", "metadata[b]": "", "metadata[c]": "3"},
        )
    assert updated.json()["name"] == "Ada"
    assert updated.json()["metadata"] == {"a": "1", "c": "3"}
    event = app.events("customer.updated")[-1]
    assert event["data"]["previous_attributes"] == {"name": None, "metadata": {"a": "1", "b": "2"}}


async def test_a_deleted_customer_answers_with_its_tombstone_and_leaves_the_list() -> None:
    async with client_for(create_app()) as client:
        customer = await new_customer(client)
        deleted = await client.delete(f"/v1/customers/{customer['id']}")
        read = await client.get(f"/v1/customers/{customer['id']}")
        listed = (await client.get("/v1/customers")).json()
        credit = await client.post(
            f"/v1/customers/{customer['id']}/balance_transactions",
            data={"amount": "-1", "currency": "usd"},
        )
    assert deleted.json() == {"id": customer["id"], "object": "customer", "deleted": True}
    assert read.json() == {"id": customer["id"], "object": "customer", "deleted": True}
    assert listed["data"] == []
    assert credit.status_code == 404


async def test_lists_are_newest_first_and_paginate_with_starting_after() -> None:
    async with client_for(create_app()) as client:
        ids = [(await new_customer(client, email=f"{n}@example.com"))["id"] for n in range(5)]
        first = (await client.get("/v1/customers", params={"limit": 2})).json()
        second = (
            await client.get(
                "/v1/customers", params={"limit": 2, "starting_after": first["data"][-1]["id"]}
            )
        ).json()
        before = (await client.get("/v1/customers", params={"ending_before": ids[2]})).json()
        by_email = (await client.get("/v1/customers", params={"email": "3@example.com"})).json()
        too_many = await client.get("/v1/customers", params={"limit": 101})

    assert (first["object"], first["url"], first["has_more"]) == ("list", "/v1/customers", True)
    assert [c["id"] for c in first["data"]] == [ids[4], ids[3]]
    assert [c["id"] for c in second["data"]] == [ids[2], ids[1]]
    assert [c["id"] for c in before["data"]] == [ids[4], ids[3]]
    assert [c["id"] for c in by_email["data"]] == [ids[3]]
    assert too_many.status_code == 400


async def test_a_negative_balance_transaction_credits_the_customer() -> None:
    async with client_for(create_app()) as client:
        customer = await new_customer(client)
        url = f"/v1/customers/{customer['id']}/balance_transactions"
        credit = (await client.post(url, data={"amount": "-5000", "currency": "usd"})).json()
        after = (await client.get(f"/v1/customers/{customer['id']}")).json()

    assert credit["id"].startswith("cbtxn_")
    assert (credit["object"], credit["type"], credit["amount"]) == (
        "customer_balance_transaction",
        "adjustment",
        -5000,
    )
    assert credit["ending_balance"] == -5000
    assert (after["balance"], after["currency"]) == (-5000, "usd")


async def test_ending_balance_accumulates_across_credits_and_debits() -> None:
    async with client_for(create_app()) as client:
        customer = await new_customer(client)
        url = f"/v1/customers/{customer['id']}/balance_transactions"
        endings = [
            (await client.post(url, data={"amount": amount, "currency": "usd"})).json()[
                "ending_balance"
            ]
            for amount in ("-5000", "-2500", "1200")
        ]
        listed = (await client.get(url)).json()
        balance = (await client.get(f"/v1/customers/{customer['id']}")).json()["balance"]

    assert endings == [-5000, -7500, -6300]
    assert balance == -6300
    assert [t["amount"] for t in listed["data"]] == [1200, -2500, -5000]
    assert listed["url"] == url


async def test_balance_transactions_are_immutable_except_description_and_metadata() -> None:
    async with client_for(create_app()) as client:
        customer = await new_customer(client)
        url = f"/v1/customers/{customer['id']}/balance_transactions"
        created = (await client.post(url, data={"amount": "-100", "currency": "usd"})).json()
        change_amount = await client.post(f"{url}/{created['id']}", data={"amount": "-999"})
        annotate = await client.post(
            f"{url}/{created['id']}", data={"description": "promo", "metadata[source]": "ops"}
        )
        read = (await client.get(f"{url}/{created['id']}")).json()

    assert change_amount.status_code == 400
    assert change_amount.json()["error"]["code"] == "parameter_unknown"
    assert annotate.status_code == 200
    assert (read["amount"], read["description"], read["metadata"]) == (
        -100,
        "promo",
        {"source": "ops"},
    )


async def test_balance_transactions_need_an_integer_amount_and_a_currency() -> None:
    async with client_for(create_app()) as client:
        customer = await new_customer(client)
        url = f"/v1/customers/{customer['id']}/balance_transactions"
        no_amount = await client.post(url, data={"currency": "usd"})
        bad_amount = await client.post(url, data={"amount": "1.5", "currency": "usd"})
        no_currency = await client.post(url, data={"amount": "100"})

    assert no_amount.json()["error"]["code"] == "parameter_missing"
    assert no_amount.json()["error"]["param"] == "amount"
    assert bad_amount.json()["error"]["code"] == "parameter_invalid_integer"
    assert no_currency.json()["error"]["param"] == "currency"


async def test_balances_in_other_currencies_are_kept_apart() -> None:
    async with client_for(create_app()) as client:
        customer = await new_customer(client)
        url = f"/v1/customers/{customer['id']}/balance_transactions"
        await client.post(url, data={"amount": "-100", "currency": "usd"})
        eur = (await client.post(url, data={"amount": "-700", "currency": "eur"})).json()
        expanded = (
            await client.get(
                f"/v1/customers/{customer['id']}", params={"expand[]": "invoice_credit_balance"}
            )
        ).json()

    assert eur["ending_balance"] == -700
    assert expanded["balance"] == -100
    assert expanded["invoice_credit_balance"] == {"usd": -100, "eur": -700}


async def test_unsupported_expansions_are_refused() -> None:
    async with client_for(create_app()) as client:
        customer = await new_customer(client)
        response = await client.get(
            f"/v1/customers/{customer['id']}", params={"expand[0]": "nonsense"}
        )
    assert response.status_code == 400
    assert "cannot be expanded (nonsense)" in response.json()["error"]["message"]


async def test_ids_are_deterministic_for_a_seed() -> None:
    ids = []
    for _ in range(2):
        async with client_for(create_app(StripeConfig(seed=7))) as client:
            ids.append((await new_customer(client))["id"])
    assert ids[0] == ids[1]


async def test_without_a_seed_a_restarted_fake_never_reuses_an_id() -> None:
    ids = set()
    for _ in range(3):
        app = create_app()
        async with client_for(app) as client:
            ids.add((await new_customer(client))["id"])
        app.state.clear()
        async with client_for(app) as client:
            ids.add((await new_customer(client))["id"])
    assert len(ids) == 6
