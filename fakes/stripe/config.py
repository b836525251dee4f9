"""The Stripe fake's configuration: zero arguments give a working fake with deterministic test credentials."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from fakes._common import InvalidFakeArgument

__all__ = ["STRIPE_RETRY_SCHEDULE_SECONDS", "StripeConfig"]

# Stripe retries a failed webhook "for up to three days with an exponential back off" and does not publish
# the exact delays; these add up to about 2.3 days. Scale them with StripeConfig.time_scale in tests.
STRIPE_RETRY_SCHEDULE_SECONDS: tuple[float, ...] = (
    60,
    300,
    1_800,
    3_600,
    7_200,
    14_400,
    28_800,
    57_600,
    86_400,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StripeConfig:
    """Everything a Stripe fake instance needs; two instances with two configs never share state.

    ``api_keys`` are the accepted secret keys (test mode only: a ``sk_live_`` key is refused, as a live key
    has no business reaching a fake). ``webhook_secret`` signs deliveries to endpoints registered through
    ``webhook_urls`` or the control API; endpoints created through ``POST /v1/webhook_endpoints`` get their
    own generated ``whsec_`` secret, as on Stripe. ``seed`` makes every generated id reproducible; without
    one, ids are random per instance (unique across restarts, as Stripe's are).
    """

    api_keys: tuple[str, ...] = ("sk_test_payharness",)
    webhook_secret: str = "whsec_payharness_test"
    # The API version stamped on events; a version Stripe's API reference documents (PROCESSORS.md S-CBT).
    api_version: str = "2025-11-17.clover"
    account_id: str = "acct_payharness"
    now: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    time_scale: float = 1.0
    retry_schedule_seconds: tuple[float, ...] = STRIPE_RETRY_SCHEDULE_SECONDS
    webhook_urls: tuple[str, ...] = ()
    delivery_transport: httpx.AsyncBaseTransport | None = None
    delivery_timeout_seconds: float = 10.0
    journal_size: int = 10_000
    seed: int | None = None
    # Stripe adds an unverifiable v0 signature to test-mode events so receivers prove they ignore it
    # (PROCESSORS.md 1.1, S-SIGDOC).
    include_v0_signature: bool = True
    idempotency_retention_seconds: float = 24 * 3600
    checkout_url_base: str = "https://checkout.stripe.com/c/pay/"

    def __post_init__(self) -> None:
        if not self.api_keys:
            raise InvalidFakeArgument("StripeConfig.api_keys needs at least one key")
        for key in self.api_keys:
            if not key.startswith(("sk_test_", "rk_test_")):
                raise InvalidFakeArgument(
                    f"StripeConfig.api_keys must be test-mode keys (sk_test_...), got {key[:8]}..."
                )
        if not self.webhook_secret.startswith("whsec_"):
            raise InvalidFakeArgument("StripeConfig.webhook_secret must start with whsec_")
        if self.journal_size < 1:
            raise InvalidFakeArgument("StripeConfig.journal_size must be >= 1")
