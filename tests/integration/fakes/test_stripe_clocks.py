"""Test clocks renew subscriptions as time advances; billing portal sessions; through stripe-python."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import stripe

from fakes._common import LoopbackServer
from fakes.stripe import StripeConfig, create_app

pytestmark = pytest.mark.integration

DAY = 86_400


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    app = create_app(StripeConfig(time_scale=0.0001))
    with LoopbackServer(app) as running:
        yield running
    app.webhooks.close()


@pytest.fixture(scope="module")
def client(server: LoopbackServer) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_payharness", base_addresses={"api": server.base_url}, max_network_retries=0
    )


def subscribe(client: stripe.StripeClient, base: str, clock: str | None) -> stripe.Subscription:
    """A customer (on ``clock``) with a monthly subscription, through Checkout."""
    params: dict[str, str] = {"email": "clock@example.com"}
    if clock is not None:
        params["test_clock"] = clock
    customer = client.v1.customers.create(params=params)  # type: ignore[arg-type]
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription", "customer": customer.id, "success_url": "https://example.com/ok",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": "usd", "unit_amount": 900, "recurring": {"interval": "month"},
                "product_data": {"name": "Clocked"}}}],
        }
    )  # fmt: skip
    httpx.post(f"{base}/_fake/checkout/sessions/{session.id}/complete").raise_for_status()
    return client.v1.subscriptions.list(params={"customer": customer.id}).data[0]


@pytest.mark.parametrize(("days", "renewals"), [(10, 0), (40, 1), (70, 2)])
def test_advancing_a_clock_renews_its_customers_subscriptions_once_per_period_passed(
    client: stripe.StripeClient, server: LoopbackServer, days: int, renewals: int
) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    mine = subscribe(client, server.base_url, clock.id)
    other = subscribe(client, server.base_url, None)
    advanced = client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + days * DAY}
    )
    invoices = client.v1.invoices.list(params={"subscription": mine.id}).data
    untouched = client.v1.invoices.list(params={"subscription": other.id}).data

    assert (advanced.status, advanced.frozen_time) == ("ready", clock.frozen_time + days * DAY)
    assert [i.billing_reason for i in invoices] == ["subscription_cycle"] * renewals + [
        "subscription_create"
    ]
    assert all(i.status == "paid" for i in invoices) and len(untouched) == 1


def test_a_clock_only_moves_forward(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": 2_000_000_000})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": 1_999_999_999})
    assert caught.value.param == "frozen_time"


def test_a_billing_portal_session_answers_a_hosted_url_for_a_known_customer(
    client: stripe.StripeClient,
) -> None:
    customer = client.v1.customers.create()
    session = client.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "https://example.com/account"}
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.sessions.create(params={"customer": "cus_missing"})
    assert session.customer == customer.id and session.url.startswith("https://billing.stripe.com/")
    assert session.return_url == "https://example.com/account"
