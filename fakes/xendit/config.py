"""Configuration of the fake Xendit: keys, callback token, account identity, currencies, clock.

Defaults are deterministic test credentials, so ``create_app(XenditConfig())`` needs no set-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from fakes.xendit.amounts import CURRENCY_EXPONENTS

__all__ = ["CALLBACK_RETRY_DELAYS_SECONDS", "XenditConfig"]

#: After the original attempt, Xendit retries a callback at +15m, 45m, 2h, 3h, 6h and 12h
#: (PROCESSORS.md 2.1 "Retries", https://docs.xendit.co/apidocs/webhook-behavior).
CALLBACK_RETRY_DELAYS_SECONDS: tuple[float, ...] = (
    15 * 60,
    45 * 60,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
)

#: "We mark events as timeout/failed when there is no response for 30s" (PROCESSORS.md 2.1).
CALLBACK_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class XenditConfig:
    """Settings of one fake Xendit instance.

    * ``secret_key``: the only key accepted as the Basic-auth username. It must be a development key
      (``xnd_development_...``): a ``xnd_production_`` key is refused here and on every request.
    * ``callback_token``: the static ``x-callback-token`` sent with every callback (PROCESSORS.md 2.1).
    * ``business_id``: the account id; it is also each invoice's ``user_id`` and the envelope's
      ``business_id``.
    * ``currencies``: what the account holds; ``default_currency`` is used when a request names none
      (Xendit's invoices default to IDR).
    * ``initial_balances``: ``(currency, amount_minor)`` pairs for the CASH balance at start.
    * ``recurring_api_version``: the ``api_version`` of the recurring callback envelope (UNVERIFIED
      what Xendit sends; ``None`` unless set).
    """

    secret_key: str = "xnd_development_payharness_test"
    callback_token: str = "xnd_callback_token_payharness_test"
    business_id: str = "64f0c0ffee5eed0000000001"
    merchant_name: str = "payharness test merchant"
    currencies: tuple[str, ...] = ("IDR", "USD")
    default_currency: str = "IDR"
    initial_balances: tuple[tuple[str, int], ...] = ()
    invoice_duration_seconds: int = 24 * 3600
    checkout_base_url: str = "https://checkout-staging.xendit.co"
    recurring_api_version: str | None = None
    seed: str = "payharness-xendit"
    now: Callable[[], float] = time.time
    time_scale: float = 1.0
    webhook_urls: tuple[str, ...] = ()
    delivery_transport: httpx.AsyncBaseTransport | None = None
    journal_size: int = 10_000

    def __post_init__(self) -> None:
        if self.secret_key.startswith("xnd_production_"):
            raise ValueError("the Xendit fake refuses production keys; use an xnd_development_ key")
        if not self.secret_key.startswith("xnd_development_"):
            raise ValueError("secret_key must be a Xendit development key (xnd_development_...)")
        if not self.callback_token:
            raise ValueError("callback_token must not be empty")
        unknown = [c for c in self.currencies if c not in CURRENCY_EXPONENTS]
        if unknown:
            raise ValueError(
                f"unsupported currencies {unknown}; known: {sorted(CURRENCY_EXPONENTS)}"
            )
        if self.default_currency not in self.currencies:
            raise ValueError(f"default_currency {self.default_currency} is not in currencies")
        for currency, amount_minor in self.initial_balances:
            if currency not in self.currencies or amount_minor < 0:
                raise ValueError(f"bad initial balance {(currency, amount_minor)}")
        if self.invoice_duration_seconds <= 0 or self.time_scale <= 0:
            raise ValueError("invoice_duration_seconds and time_scale must be > 0")
