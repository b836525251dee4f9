"""The fake Stripe on a loopback port with stripe-python pointed at it, one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from fakes._common import LoopbackServer
from fakes.stripe import StripeConfig, StripeFakeApp, create_app


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[StripeFakeApp, stripe.StripeClient]]:
    app = create_app(StripeConfig(time_scale=0.0001))
    with LoopbackServer(app) as server:
        client = stripe.StripeClient(
            "sk_test_payharness", base_addresses={"api": server.base_url}, max_network_retries=0
        )
        yield app, client
    app.webhooks.close()
