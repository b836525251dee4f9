"""Cash balance, funding instructions and fund_cash_balance (PROCESSORS.md 1.3)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fakes._common import FakeError
from fakes.stripe import StripeFakeApp, create_app

AUTH = {"authorization": "Bearer sk_test_payharness"}
FUNDING = {
    "bank_transfer[type]": "us_bank_transfer",
    "currency": "usd",
    "funding_type": "bank_transfer",
}


def client_for(app: StripeFakeApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://stripe.test", headers=AUTH
    )


async def new_customer(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/customers", data={"metadata[account_id]": "acc_1"})
    customer_id: str = response.json()["id"]
    return customer_id


async def fund(client: httpx.AsyncClient, customer_id: str, **data: str) -> httpx.Response:
    return await client.post(
        f"/v1/test_helpers/customers/{customer_id}/fund_cash_balance", data=data
    )


async def test_funding_records_a_funded_transaction_with_the_bank_reference() -> None:
    async with client_for(create_app()) as client:
        customer_id = await new_customer(client)
        response = await fund(
            client, customer_id, amount="5000", currency="usd", reference="TOPUP-1"
        )
    txn: dict[str, Any] = response.json()
    assert txn["id"].startswith("ccsbtxn_")
    assert (txn["object"], txn["type"], txn["net_amount"], txn["ending_balance"]) == (
        "customer_cash_balance_transaction",
        "funded",
        5000,
        5000,
    )
    assert txn["funded"]["bank_transfer"]["reference"] == "TOPUP-1"
    assert txn["funded"]["bank_transfer"]["type"] == "us_bank_transfer"
    assert (txn["customer"], txn["currency"], txn["livemode"]) == (customer_id, "usd", False)


async def test_cash_balance_accumulates_per_currency() -> None:
    async with client_for(create_app()) as client:
        customer_id = await new_customer(client)
        await fund(client, customer_id, amount="5000", currency="usd")
        second = (await fund(client, customer_id, amount="2500", currency="usd")).json()
        await fund(client, customer_id, amount="100", currency="eur")
        balance = (await client.get(f"/v1/customers/{customer_id}/cash_balance")).json()
    assert second["ending_balance"] == 7500
    assert balance["object"] == "cash_balance"
    assert balance["available"] == {"usd": 7500, "eur": 100}
    assert balance["settings"] == {
        "reconciliation_mode": "automatic",
        "using_merchant_default": True,
    }


async def test_funding_emits_the_transaction_event_then_funds_available() -> None:
    app = create_app()
    async with client_for(app) as client:
        customer_id = await new_customer(client)
        txn = (await fund(client, customer_id, amount="5000", currency="usd", reference="R")).json()
    created, available = app.events()[-2:]
    assert created["type"] == "customer_cash_balance_transaction.created"
    assert created["data"]["object"] == txn
    assert available["type"] == "cash_balance.funds_available"
    assert available["data"]["object"]["available"] == {"usd": 5000}
    assert created["request"]["id"] is not None


async def test_funding_needs_a_positive_integer_amount() -> None:
    async with client_for(create_app()) as client:
        customer_id = await new_customer(client)
        zero = await fund(client, customer_id, amount="0", currency="usd")
        missing = await fund(client, customer_id, currency="usd")
        unknown = await fund(client, "cus_nobody", amount="100", currency="usd")
    assert zero.status_code == 400 and zero.json()["error"]["code"] == "parameter_invalid_integer"
    assert missing.json()["error"]["code"] == "parameter_missing"
    assert unknown.status_code == 404


async def test_cash_transactions_are_listed_and_retrieved() -> None:
    async with client_for(create_app()) as client:
        customer_id = await new_customer(client)
        first = (await fund(client, customer_id, amount="100", currency="usd")).json()
        second = (await fund(client, customer_id, amount="200", currency="usd")).json()
        url = f"/v1/customers/{customer_id}/cash_balance_transactions"
        listed = (await client.get(url)).json()
        one = (await client.get(f"{url}/{first['id']}")).json()
        missing = await client.get(f"{url}/ccsbtxn_missing")
    assert [t["id"] for t in listed["data"]] == [second["id"], first["id"]]
    assert one == first
    assert missing.status_code == 404


async def test_funding_instructions_are_the_same_every_time() -> None:
    async with client_for(create_app()) as client:
        customer_id = await new_customer(client)
        url = f"/v1/customers/{customer_id}/funding_instructions"
        first = (await client.post(url, data=FUNDING)).json()
        again = (await client.post(url, data=FUNDING)).json()
    assert first == again
    assert (first["object"], first["currency"], first["funding_type"]) == (
        "funding_instructions",
        "usd",
        "bank_transfer",
    )
    address = first["bank_transfer"]["financial_addresses"][0]
    assert address["type"] == "aba" and address["aba"]["account_number"]


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({**FUNDING, "currency": "eur"}, "currency"),
        ({**FUNDING, "funding_type": "card"}, "funding_type"),
        ({"currency": "usd", "funding_type": "bank_transfer"}, "bank_transfer"),
        ({**FUNDING, "bank_transfer[type]": "mars_transfer"}, "bank_transfer[type]"),
    ],
)
async def test_funding_instructions_validate_their_params(data: dict[str, str], param: str) -> None:
    async with client_for(create_app()) as client:
        customer_id = await new_customer(client)
        response = await client.post(f"/v1/customers/{customer_id}/funding_instructions", data=data)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_reconciliation_mode_can_be_set_to_manual() -> None:
    async with client_for(create_app()) as client:
        customer_id = await new_customer(client)
        url = f"/v1/customers/{customer_id}/cash_balance"
        updated = (await client.post(url, data={"settings[reconciliation_mode]": "manual"})).json()
        bad = await client.post(url, data={"settings[reconciliation_mode]": "sometimes"})
    assert updated["settings"] == {"reconciliation_mode": "manual", "using_merchant_default": False}
    assert bad.status_code == 400


async def test_the_python_helper_funds_like_the_test_helper_route() -> None:
    app = create_app()
    async with client_for(app) as client:
        customer_id = await new_customer(client)
    txn = app.fund_cash_balance(customer_id, 1234, "USD", reference="PY")
    assert (txn["net_amount"], txn["currency"], txn["funded"]["bank_transfer"]["reference"]) == (
        1234,
        "usd",
        "PY",
    )
    with pytest.raises(FakeError) as caught:
        app.fund_cash_balance("cus_nobody", 1)
    assert caught.value.code == "resource_missing"
