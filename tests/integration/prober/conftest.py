"""Loopback servers for the prober's integration tests: the fake Stripe and reference services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from probe_servers import STRIPE_API_KEY, WEBHOOK_SECRET, StartReference, stripe_adapter

from fakes._common.server import LoopbackServer
from fakes.stripe import StripeConfig
from fakes.stripe import create_app as create_stripe
from harness.reference import ReferenceSettings, create_app
from harness.reference.rails.stripe import StripeAdapter
from harness.reference.settings import StripeRail


@pytest.fixture
def fake_stripe() -> Iterator[LoopbackServer]:
    """The fake Stripe on a loopback port (checkout sessions for the checkout leg)."""
    with LoopbackServer(create_stripe(StripeConfig(api_keys=(STRIPE_API_KEY,)))) as server:
        yield server


@pytest.fixture
def start_reference(tmp_path: Path, fake_stripe: LoopbackServer) -> Iterator[StartReference]:
    """Start reference services on loopback ports; each on its own SQLite file, all stopped after.

    `live` sets PAYMENTS_LIVE; `adapter` swaps the Stripe adapter for a subclass (a defective variant);
    `stripe_base` points the Stripe rail elsewhere (default: the fake Stripe).
    """
    servers: list[LoopbackServer] = []

    def start(
        *,
        live: bool = True,
        adapter: type[StripeAdapter] | None = None,
        stripe_base: str | None = None,
    ) -> LoopbackServer:
        rail = StripeRail(
            api_base=stripe_base or fake_stripe.base_url,
            api_key=STRIPE_API_KEY,
            webhook_secret=WEBHOOK_SECRET,
        )
        settings = ReferenceSettings(
            payments_live=live,
            database_url=f"sqlite+aiosqlite:///{tmp_path / f'reference-{len(servers)}.sqlite3'}",
            stripe=rail,
            outbound_max_retries=0,
        )
        app = create_app(settings)
        if adapter is not None:
            app.state.service.adapters["stripe"] = stripe_adapter(adapter, rail)
        server = LoopbackServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
