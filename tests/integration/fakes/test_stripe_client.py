"""The Stripe fake on a loopback port, driven by stripe-python, delivering to a real webhook endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fakes._common import Fault, LoopbackServer
from fakes.stripe import StripeConfig, StripeFakeApp, create_app

pytestmark = pytest.mark.integration

KEY = "sk_test_payharness"

# What a completed subscription checkout emits, oldest first (the invoice's life and its card payment).
CHECKOUT_EVENTS = [
    "checkout.session.completed",
    "customer.subscription.created",
    "invoice.created",
    "invoice.finalized",
    "payment_intent.created",
    "charge.succeeded",
    "payment_intent.succeeded",
    "invoice.paid",
    "invoice.payment_succeeded",
]


class WebhookReceiver:
    """A Starlette endpoint that accepts only what ``stripe.Webhook.construct_event`` verifies."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {"/hooks/config": "whsec_payharness_test"}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.rejected = 0
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/hooks/{name}", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        payload = await request.body()
        try:
            stripe.Webhook.construct_event(
                payload, request.headers["stripe-signature"], self.secrets[request.url.path]
            )
        except (stripe.SignatureVerificationError, KeyError):
            with self.lock:
                self.rejected += 1
            return Response(status_code=400)
        with self.lock:
            self.events.append((request.url.path, json.loads(payload)))
        return Response(status_code=200)

    def types(self, path: str = "/hooks/config") -> list[str]:
        with self.lock:
            return [event["type"] for p, event in self.events if p == path]


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[tuple[WebhookReceiver, LoopbackServer]]:
    receiver = WebhookReceiver()
    with LoopbackServer(receiver.app) as server:
        yield receiver, server


@pytest.fixture(scope="module")
def fake_server(
    receiver_server: tuple[WebhookReceiver, LoopbackServer],
) -> Iterator[tuple[StripeFakeApp, LoopbackServer]]:
    _, hooks = receiver_server
    app = create_app(
        StripeConfig(webhook_urls=(f"{hooks.base_url}/hooks/config",), time_scale=0.0001)
    )
    with LoopbackServer(app) as server:
        yield app, server
    app.webhooks.close()


@pytest.fixture
def fake(fake_server: tuple[StripeFakeApp, LoopbackServer]) -> StripeFakeApp:
    app, _ = fake_server
    app.reset()
    return app


@pytest.fixture
def receiver(receiver_server: tuple[WebhookReceiver, LoopbackServer]) -> WebhookReceiver:
    receiver, _ = receiver_server
    with receiver.lock:
        receiver.events.clear()
        receiver.rejected = 0
    return receiver


@pytest.fixture
def client(
    fake: StripeFakeApp, fake_server: tuple[StripeFakeApp, LoopbackServer]
) -> stripe.StripeClient:
    _, server = fake_server
    return stripe.StripeClient(KEY, base_addresses={"api": server.base_url}, max_network_retries=0)


def test_stripe_python_creates_a_customer_and_credits_its_balance(
    client: stripe.StripeClient,
) -> None:
    customer = client.v1.customers.create(
        params={"email": "a@example.com", "metadata": {"account_id": "acc_1"}}
    )
    credit = client.v1.customers.balance_transactions.create(
        customer.id, params={"amount": -5000, "currency": "usd", "description": "top-up"}
    )
    debit = client.v1.customers.balance_transactions.create(
        customer.id, params={"amount": 1200, "currency": "usd"}
    )
    fetched = client.v1.customers.retrieve(customer.id)

    assert customer.metadata is not None and customer.metadata["account_id"] == "acc_1"
    assert (credit.amount, credit.ending_balance) == (-5000, -5000)
    assert debit.ending_balance == -3800
    assert fetched.balance == -3800


def test_stripe_python_funds_a_cash_balance_and_the_webhooks_verify(
    client: stripe.StripeClient, fake: StripeFakeApp, receiver: WebhookReceiver
) -> None:
    customer = client.v1.customers.create(params={"metadata": {"account_id": "acc_1"}})
    instructions = client.v1.customers.funding_instructions.create(
        customer.id,
        params={
            "bank_transfer": {"type": "us_bank_transfer"},
            "currency": "usd",
            "funding_type": "bank_transfer",
        },
    )
    funded = client.v1.test_helpers.customers.fund_cash_balance(
        customer.id, params={"amount": 5000, "currency": "usd", "reference": "TOPUP-42"}
    )
    balance = client.v1.customers.cash_balance.retrieve(customer.id)
    fake.webhooks.drain_blocking(10)

    assert instructions.bank_transfer.type == "us_bank_transfer"
    assert (funded.type, funded.net_amount, funded.ending_balance) == ("funded", 5000, 5000)
    assert funded.funded is not None and funded.funded.bank_transfer.reference == "TOPUP-42"
    assert balance.available is not None and balance.available["usd"] == 5000
    assert receiver.types() == [
        "customer.created",
        "customer_cash_balance_transaction.created",
        "cash_balance.funds_available",
    ]
    assert receiver.rejected == 0


def test_a_completed_checkout_shows_in_the_event_list_and_reaches_the_endpoint(
    client: stripe.StripeClient,
    fake: StripeFakeApp,
    fake_server: tuple[StripeFakeApp, LoopbackServer],
    receiver: WebhookReceiver,
) -> None:
    _, server = fake_server
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "client_reference_id": "acc_1",
            "success_url": "https://example.com/ok",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 2000,
                        "recurring": {"interval": "month"},
                        "product_data": {"name": "Pro"},
                    },
                }
            ],
            "subscription_data": {"metadata": {"account_id": "acc_1", "plan": "pro"}},
        }
    )
    completed = httpx.post(f"{server.base_url}/_fake/checkout/sessions/{session.id}/complete")
    events = client.v1.events.list(params={"limit": 9})
    invoices = client.v1.invoices.list(params={"customer": customer.id})
    fake.webhooks.drain_blocking(10)

    assert completed.status_code == 200
    assert [e.type for e in reversed(events.data)] == CHECKOUT_EVENTS
    invoice = invoices.data[0]
    assert (invoice.status, invoice.amount_paid) == ("paid", 2000)
    details = invoice.parent.subscription_details if invoice.parent else None
    assert details is not None and details.metadata is not None
    assert details.metadata["plan"] == "pro"
    assert receiver.types()[-9:] == CHECKOUT_EVENTS


def test_an_endpoint_created_with_stripe_python_verifies_with_its_own_secret(
    client: stripe.StripeClient,
    fake: StripeFakeApp,
    receiver_server: tuple[WebhookReceiver, LoopbackServer],
    receiver: WebhookReceiver,
) -> None:
    _, hooks = receiver_server
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": f"{hooks.base_url}/hooks/api", "enabled_events": ["customer.created"]}
    )
    receiver.secrets["/hooks/api"] = endpoint.secret or ""
    client.v1.customers.create(params={"email": "b@example.com"})
    fake.webhooks.drain_blocking(10)

    assert receiver.types("/hooks/api") == ["customer.created"]
    assert receiver.rejected == 0


def test_stripe_python_retries_an_injected_503_with_the_same_idempotency_key(
    fake: StripeFakeApp, fake_server: tuple[StripeFakeApp, LoopbackServer]
) -> None:
    _, server = fake_server
    retrying = stripe.StripeClient(
        KEY, base_addresses={"api": server.base_url}, max_network_retries=1
    )
    fake.faults.add(Fault(route="customers.create", status=503, first_k=1))

    customer = retrying.v1.customers.create(params={"email": "retry@example.com"})

    calls = fake.journal.calls(route="customers.create")
    assert [c.status for c in calls] == [503, 200]
    assert calls[0].idempotency_key is not None
    assert calls[0].idempotency_key == calls[1].idempotency_key
    assert customer.email == "retry@example.com"
    assert len(fake.state.customers) == 1


def test_a_live_key_is_refused_with_an_authentication_error(
    fake_server: tuple[StripeFakeApp, LoopbackServer],
) -> None:
    _, server = fake_server
    live = stripe.StripeClient(
        "sk_live_123456789", base_addresses={"api": server.base_url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError):
        live.v1.customers.list()


def test_an_unknown_customer_is_an_invalid_request_error(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.retrieve("cus_missing")
    assert (caught.value.code, caught.value.http_status) == ("resource_missing", 404)


async def test_the_async_httpx_client_works_against_the_fake(
    fake: StripeFakeApp, fake_server: tuple[StripeFakeApp, LoopbackServer]
) -> None:
    _, server = fake_server
    http_client = stripe.HTTPXClient()
    client = stripe.StripeClient(
        KEY, base_addresses={"api": server.base_url}, http_client=http_client, max_network_retries=0
    )
    try:
        customer = await client.v1.customers.create_async(params={"email": "async@example.com"})
        listed = await client.v1.customers.list_async(params={"email": "async@example.com"})
    finally:
        await http_client.close_async()  # type: ignore[no-untyped-call]  # untyped in stripe 16
    assert [c.id for c in listed.data] == [customer.id]
