"""Stripe idempotency as PROCESSORS.md 1.5 describes it: replay, mismatch, in-flight, not-saved."""

from __future__ import annotations

import asyncio

import httpx

from fakes._common import Fault
from fakes.stripe import StripeConfig, StripeFakeApp, create_app

AUTH = {"authorization": "Bearer sk_test_payharness"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Gate:
    """An injected sleep that parks the request until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.entered.set()
        await self.opened.wait()


def client_for(app: StripeFakeApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://stripe.test", headers=AUTH
    )


def key(value: str) -> dict[str, str]:
    return {"idempotency-key": value}


async def test_a_retry_with_the_same_key_and_params_replays_the_first_response() -> None:
    app = create_app()
    async with client_for(app) as client:
        first = await client.post(
            "/v1/customers", data={"email": "a@example.com"}, headers=key("k1")
        )
        again = await client.post(
            "/v1/customers", data={"email": "a@example.com"}, headers=key("k1")
        )

    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert "idempotency-replayed" not in first.headers
    assert again.headers["original-request"] == first.headers["request-id"]
    assert len(app.state.customers) == 1
    assert len(app.events("customer.created")) == 1


async def test_the_same_params_in_another_order_still_replay() -> None:
    app = create_app()
    async with client_for(app) as client:
        await client.post(
            "/v1/customers",
            content="email=a%40b.c&name=A",
            headers={**key("k1"), "content-type": "application/x-www-form-urlencoded"},
        )
        again = await client.post(
            "/v1/customers",
            content="name=A&email=a%40b.c",
            headers={**key("k1"), "content-type": "application/x-www-form-urlencoded"},
        )
    assert again.headers.get("idempotency-replayed") == "true"


async def test_the_same_key_with_other_params_is_a_400_idempotency_error() -> None:
    app = create_app()
    async with client_for(app) as client:
        await client.post("/v1/customers", data={"email": "a@example.com"}, headers=key("k1"))
        other = await client.post(
            "/v1/customers", data={"email": "b@example.com"}, headers=key("k1")
        )

    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
    assert "same parameters" in other.json()["error"]["message"]
    assert len(app.state.customers) == 1


async def test_the_same_key_on_another_endpoint_is_a_400_naming_both_endpoints() -> None:
    app = create_app()
    async with client_for(app) as client:
        customer = (await client.post("/v1/customers", data={}, headers=key("k1"))).json()
        other = await client.post(
            f"/v1/customers/{customer['id']}/balance_transactions",
            data={},
            headers=key("k1"),
        )
    error = other.json()["error"]
    assert (other.status_code, error["type"]) == (400, "idempotency_error")
    assert (
        f"('/v1/customers' vs '/v1/customers/{customer['id']}/balance_transactions')"
        in error["message"]
    )


async def test_a_retry_while_the_first_request_executes_gets_409() -> None:
    gate = Gate()
    app = create_app(StripeConfig(sleep=gate))
    app.faults.add(
        Fault(route="customers.create", latency_seconds=1, during_execution=True, first_k=1)
    )
    async with client_for(app) as client:
        first = asyncio.create_task(
            client.post("/v1/customers", data={"email": "a@example.com"}, headers=key("k1"))
        )
        await gate.entered.wait()
        concurrent = await client.post(
            "/v1/customers", data={"email": "a@example.com"}, headers=key("k1")
        )
        gate.opened.set()
        first_response = await first
        later = await client.post(
            "/v1/customers", data={"email": "a@example.com"}, headers=key("k1")
        )

    assert concurrent.status_code == 409
    assert concurrent.json()["error"]["type"] == "idempotency_error"
    assert concurrent.json()["error"]["code"] == "idempotency_key_in_use"
    assert first_response.status_code == 200
    assert later.json()["id"] == first_response.json()["id"]
    assert len(app.state.customers) == 1


async def test_a_validation_failure_is_not_saved_so_a_corrected_retry_succeeds() -> None:
    app = create_app()
    async with client_for(app) as client:
        customer = (await client.post("/v1/customers", data={})).json()
        url = f"/v1/customers/{customer['id']}/balance_transactions"
        invalid = await client.post(
            url, data={"amount": "ten", "currency": "usd"}, headers=key("k1")
        )
        fixed = await client.post(
            url, data={"amount": "-1000", "currency": "usd"}, headers=key("k1")
        )

    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == "parameter_invalid_integer"
    assert fixed.status_code == 200
    assert fixed.json()["ending_balance"] == -1000


async def test_a_500_during_execution_is_saved_and_replayed() -> None:
    app = create_app()
    app.faults.add(Fault(route="customers.create", status=500, during_execution=True, first_k=1))
    async with client_for(app) as client:
        first = await client.post(
            "/v1/customers", data={"email": "a@example.com"}, headers=key("k1")
        )
        retry = await client.post(
            "/v1/customers", data={"email": "a@example.com"}, headers=key("k1")
        )

    assert first.status_code == retry.status_code == 500
    assert retry.json() == first.json()
    assert retry.json()["error"]["type"] == "api_error"
    assert retry.headers["idempotency-replayed"] == "true"


async def test_an_edge_fault_is_not_saved_so_the_retry_executes() -> None:
    app = create_app()
    app.faults.add(Fault(route="customers.create", status=503, first_k=1))
    async with client_for(app) as client:
        first = await client.post(
            "/v1/customers", data={"email": "a@example.com"}, headers=key("k1")
        )
        retry = await client.post(
            "/v1/customers", data={"email": "a@example.com"}, headers=key("k1")
        )

    assert first.status_code == 503
    assert retry.status_code == 200 and "idempotency-replayed" not in retry.headers
    assert len(app.state.customers) == 1


async def test_keys_are_ignored_on_get_and_delete() -> None:
    app = create_app()
    async with client_for(app) as client:
        customer = (await client.post("/v1/customers", data={}, headers=key("k1"))).json()
        read = await client.get(f"/v1/customers/{customer['id']}", headers=key("k1"))
    assert read.status_code == 200 and "idempotency-replayed" not in read.headers


async def test_keys_are_kept_at_least_24_hours_on_the_injected_clock() -> None:
    clock = Clock()
    app = create_app(StripeConfig(now=clock))
    async with client_for(app) as client:
        await client.post("/v1/customers", data={"email": "a@example.com"}, headers=key("k1"))
        clock.now += 24 * 3600 - 1
        still = await client.post(
            "/v1/customers", data={"email": "other@example.com"}, headers=key("k1")
        )
        clock.now += 1
        pruned = await client.post(
            "/v1/customers", data={"email": "other@example.com"}, headers=key("k1")
        )

    assert still.status_code == 400
    assert pruned.status_code == 200 and "idempotency-replayed" not in pruned.headers


async def test_keys_belong_to_one_api_key() -> None:
    app = create_app(StripeConfig(api_keys=("sk_test_one", "sk_test_two")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://s") as client:
        one = await client.post(
            "/v1/customers",
            data={"email": "a@b.c"},
            headers={"authorization": "Bearer sk_test_one", **key("k1")},
        )
        two = await client.post(
            "/v1/customers",
            data={"email": "x@y.z"},
            headers={"authorization": "Bearer sk_test_two", **key("k1")},
        )
    assert one.status_code == two.status_code == 200
    assert one.json()["id"] != two.json()["id"]


async def test_an_overlong_key_is_refused() -> None:
    app = create_app()
    async with client_for(app) as client:
        response = await client.post("/v1/customers", data={}, headers=key("k" * 256))
    assert response.status_code == 400
    assert len(app.state.customers) == 0
