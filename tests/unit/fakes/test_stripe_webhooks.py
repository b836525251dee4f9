"""Stripe events delivered to endpoints, verified by stripe-python's own construct_event."""

from __future__ import annotations

import json
from typing import Any

import httpx
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fakes.stripe import StripeConfig, StripeFakeApp, create_app

AUTH = {"authorization": "Bearer sk_test_payharness"}


class Receiver:
    """A Starlette webhook endpoint that verifies each delivery with stripe-python."""

    def __init__(self, secret: str = "whsec_payharness_test", *, fail_first: int = 0) -> None:
        self.secrets = {"/hook": secret}
        self.fail_first = fail_first
        self.seen = 0
        self.events: list[dict[str, Any]] = []
        self.headers: list[str] = []
        self.app = Starlette(routes=[Route("/{name}", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        self.seen += 1
        if self.seen <= self.fail_first:
            return Response(status_code=503)
        payload = await request.body()
        signature = request.headers["stripe-signature"]
        # Raises SignatureVerificationError (-> 500, a failed delivery) if the fake signs wrongly.
        event = stripe.Webhook.construct_event(payload, signature, self.secrets[request.url.path])
        self.events.append(json.loads(payload))
        self.headers.append(signature)
        assert event.id == self.events[-1]["id"]
        return Response(status_code=200)

    @property
    def types(self) -> list[str]:
        return [e["type"] for e in self.events]


def fake_for(receiver: Receiver, **config: Any) -> StripeFakeApp:
    return create_app(
        StripeConfig(
            webhook_urls=("http://hooks.test/hook",),
            delivery_transport=httpx.ASGITransport(receiver.app),
            time_scale=0.0001,
            **config,
        )
    )


def client_for(app: StripeFakeApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://stripe.test", headers=AUTH
    )


async def fund_new_customer(client: httpx.AsyncClient, amount: int = 5000) -> str:
    customer_id: str = (await client.post("/v1/customers", data={})).json()["id"]
    await client.post(
        f"/v1/test_helpers/customers/{customer_id}/fund_cash_balance",
        data={"amount": str(amount), "currency": "usd", "reference": "REF"},
    )
    return customer_id


async def test_configured_endpoints_receive_signed_events_stripe_python_accepts() -> None:
    receiver = Receiver()
    app = fake_for(receiver)
    async with client_for(app) as client:
        await fund_new_customer(client)
    await app.webhooks.drain()

    assert receiver.types == [
        "customer.created",
        "customer_cash_balance_transaction.created",
        "cash_balance.funds_available",
    ]
    funded = receiver.events[1]
    assert funded["data"]["object"]["type"] == "funded"
    assert funded["data"]["object"]["net_amount"] == 5000
    assert funded["object"] == "event" and funded["livemode"] is False
    assert funded["pending_webhooks"] == 1
    assert set(funded["request"]) == {"id", "idempotency_key"}


async def test_test_mode_signatures_carry_a_v0_that_receivers_must_ignore() -> None:
    receiver = Receiver()
    app = fake_for(receiver)
    async with client_for(app) as client:
        await client.post("/v1/customers", data={})
    await app.webhooks.drain()
    assert receiver.headers[0].startswith("t=") and ",v1=" in receiver.headers[0]
    assert ",v0=" in receiver.headers[0]


async def test_a_failing_endpoint_gets_the_event_again_once_it_recovers() -> None:
    receiver = Receiver(fail_first=2)
    app = fake_for(receiver)
    async with client_for(app) as client:
        await client.post("/v1/customers", data={})
    await app.webhooks.drain()

    attempts = app.webhooks.attempts()
    assert [(a.attempt, a.status) for a in attempts] == [(1, 503), (2, 503), (3, 200)]
    assert len({a.event_id for a in attempts}) == 1
    assert receiver.types == ["customer.created"]


async def test_each_retry_is_signed_afresh_at_send_time() -> None:
    clock = {"now": 1_700_000_000.0}
    signatures: list[str] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        signatures.append(request.headers["stripe-signature"])
        clock["now"] += 10  # time passes between attempts
        return httpx.Response(503 if len(signatures) == 1 else 200)

    app = create_app(
        StripeConfig(
            webhook_urls=("http://hooks.test/hook",),
            delivery_transport=httpx.MockTransport(endpoint),
            time_scale=0.0001,
            now=lambda: clock["now"],
        )
    )
    async with client_for(app) as client:
        await client.post("/v1/customers", data={})
    await app.webhooks.drain()

    assert [s.split(",")[0] for s in signatures] == ["t=1700000000", "t=1700000010"]


async def test_endpoints_created_through_the_api_get_their_own_secret() -> None:
    receiver = Receiver()
    app = create_app(
        StripeConfig(delivery_transport=httpx.ASGITransport(receiver.app), time_scale=0.0001)
    )
    async with client_for(app) as client:
        created = await client.post(
            "/v1/webhook_endpoints",
            data={"url": "http://hooks.test/api", "enabled_events[]": "invoice.paid"},
        )
        endpoint = created.json()
        receiver.secrets["/api"] = endpoint["secret"]
        listed = (await client.get("/v1/webhook_endpoints")).json()
        fetched = (await client.get(f"/v1/webhook_endpoints/{endpoint['id']}")).json()
        await client.post("/v1/customers", data={})  # customer.created: not enabled
    await app.webhooks.drain()

    assert endpoint["id"].startswith("we_") and endpoint["secret"].startswith("whsec_")
    assert endpoint["secret"] != "whsec_payharness_test"
    assert endpoint["enabled_events"] == ["invoice.paid"] and endpoint["status"] == "enabled"
    assert [e["id"] for e in listed["data"]] == [endpoint["id"]]
    assert "secret" not in fetched
    assert receiver.events == []


async def test_api_endpoints_receive_their_enabled_events_and_can_be_deleted() -> None:
    receiver = Receiver()
    app = create_app(
        StripeConfig(delivery_transport=httpx.ASGITransport(receiver.app), time_scale=0.0001)
    )
    async with client_for(app) as client:
        endpoint = (
            await client.post(
                "/v1/webhook_endpoints",
                data={
                    "url": "http://hooks.test/api",
                    "enabled_events[0]": "customer.created",
                    "enabled_events[1]": "*",
                },
            )
        ).json()
        receiver.secrets["/api"] = endpoint["secret"]
        await client.post("/v1/customers", data={})
        await app.webhooks.drain()
        deleted = (await client.delete(f"/v1/webhook_endpoints/{endpoint['id']}")).json()
        await client.post("/v1/customers", data={})
        missing = await client.get(f"/v1/webhook_endpoints/{endpoint['id']}")
    await app.webhooks.drain()

    assert receiver.types == ["customer.created"]
    assert deleted == {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}
    assert missing.status_code == 404


async def test_bad_webhook_endpoint_params_are_refused() -> None:
    async with client_for(create_app()) as client:
        no_events = await client.post(
            "/v1/webhook_endpoints", data={"url": "https://example.com/h"}
        )
        bad_url = await client.post(
            "/v1/webhook_endpoints", data={"url": "not a url", "enabled_events[]": "*"}
        )
        bad_event = await client.post(
            "/v1/webhook_endpoints", data={"url": "https://example.com/h", "enabled_events[]": "!!"}
        )
    assert no_events.json()["error"]["code"] == "parameter_missing"
    assert bad_url.json()["error"]["code"] == "url_invalid"
    assert bad_event.json()["error"]["param"] == "enabled_events[0]"


async def test_held_events_arrive_only_when_released() -> None:
    receiver = Receiver()
    app = fake_for(receiver)
    async with client_for(app) as client:
        await client.post("/_fake/deliveries/mode", json={"mode": "held"})
        await fund_new_customer(client)
        await app.webhooks.drain()
        assert receiver.events == []
        await client.post("/_fake/deliveries/release", json={})
    await app.webhooks.drain()
    assert len(receiver.events) == 3


async def test_duplicated_mode_delivers_every_event_twice_with_the_same_id() -> None:
    receiver = Receiver()
    app = fake_for(receiver)
    app.webhooks.set_mode("duplicated")
    async with client_for(app) as client:
        await client.post("/v1/customers", data={})
    await app.webhooks.drain()
    assert len(receiver.events) == 2
    assert receiver.events[0]["id"] == receiver.events[1]["id"]


async def test_reordered_mode_delivers_a_checkout_sequence_backwards() -> None:
    receiver = Receiver()
    app = fake_for(receiver)
    async with client_for(app) as client:
        customer_id = (await client.post("/v1/customers", data={})).json()["id"]
        session = (
            await client.post(
                "/v1/checkout/sessions",
                data={
                    "mode": "subscription",
                    "customer": customer_id,
                    "line_items[0][quantity]": "1",
                    "line_items[0][price_data][currency]": "usd",
                    "line_items[0][price_data][unit_amount]": "2000",
                    "line_items[0][price_data][recurring][interval]": "month",
                    "line_items[0][price_data][product_data][name]": "Pro",
                },
            )
        ).json()
        await app.webhooks.drain()
        await client.post("/_fake/deliveries/mode", json={"mode": "reordered"})
        await client.post(f"/_fake/checkout/sessions/{session['id']}/complete")
        await client.post("/_fake/deliveries/release")
    await app.webhooks.drain()
    assert receiver.types == [
        "customer.created",
        "invoice.payment_succeeded",
        "invoice.paid",
        "payment_intent.succeeded",
        "charge.succeeded",
        "payment_intent.created",
        "invoice.finalized",
        "invoice.created",
        "customer.subscription.created",
        "checkout.session.completed",
    ]


async def test_reset_keeps_configured_endpoints_and_forgets_everything_else() -> None:
    receiver = Receiver()
    app = fake_for(receiver)
    async with client_for(app) as client:
        customer_id = await fund_new_customer(client)
        await app.webhooks.drain()
        await client.post("/_fake/reset")
        gone = await client.get(f"/v1/customers/{customer_id}")
        events = (await client.get("/v1/events")).json()["data"]
        config = (await client.get("/_fake/config")).json()
    assert gone.status_code == 404 and events == []
    assert [e["url"] for e in config["webhook_endpoints"]] == ["http://hooks.test/hook"]
    assert config["api_keys"] == ["sk_test_payharness"]
    assert config["webhook_secret"] == "whsec_payharness_test"
