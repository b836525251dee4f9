"""``create_app(StripeConfig())``: the Stripe fake as an ASGI app with a Python handle."""

from __future__ import annotations

from typing import Any

from fakes._common import FakeApp, Journal
from fakes.stripe.config import StripeConfig
from fakes.stripe.processor import StripeProcessor
from fakes.stripe.state import Obj, StripeState

__all__ = ["StripeFakeApp", "create_app"]


class StripeFakeApp(FakeApp[StripeProcessor]):
    """The Stripe fake: an ASGI app plus Python helpers equal to its ``/_fake/`` control routes."""

    @property
    def config(self) -> StripeConfig:
        """The configuration this fake was built with."""
        return self.processor.config

    @property
    def state(self) -> StripeState:
        """Every object the fake holds (read it under ``state.lock`` from another thread)."""
        return self.processor.state

    def complete_checkout_session(self, session_id: str) -> Obj:
        """Complete an open subscription checkout: subscription + paid invoice, then
        ``checkout.session.completed``, ``customer.subscription.created``, ``invoice.paid``."""
        return self.processor.complete_checkout_session(session_id)

    def renew_subscription(self, subscription_id: str) -> Obj:
        """Bill the next period of a subscription: a new paid invoice and ``invoice.paid``."""
        return self.processor.renew_subscription(subscription_id)

    def fund_cash_balance(
        self, customer_id: str, amount: int, currency: str = "usd", reference: str | None = None
    ) -> Obj:
        """Simulate a bank transfer into a customer's cash balance (emits the two cash events)."""
        return self.processor.fund_cash_balance(customer_id, amount, currency, reference)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Emitted events, oldest first, optionally of one type."""
        with self.state.lock:
            events = list(self.state.events.values())
        return [e for e in events if event_type is None or e["type"] == event_type]


def create_app(config: StripeConfig | None = None) -> StripeFakeApp:
    """A fresh, independent Stripe fake (``StripeConfig()`` defaults need no set-up)."""
    config = config if config is not None else StripeConfig()
    return StripeFakeApp(
        StripeProcessor(config),
        journal=Journal(config.journal_size, now=config.now),
        sleep=config.sleep,
    )
