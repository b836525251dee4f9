"""Acme billing: a small SaaS billing API integrated with Stripe and Xendit the usual way.

Its shape is its own, not the payharness reference's: users instead of accounts, credits in US cents,
``{"ok": false, "error": "..."}`` errors, webhooks under ``/webhooks/<provider>``, a Pact-style provider-state
hook under ``/_test/state``. Stripe goes through stripe-python's ``StripeClient`` (customers, bank-transfer
funding of the customer's cash balance for credits, Checkout in subscription mode for plans); Xendit through
xendit-python's ``InvoiceApi`` (an invoice per credit purchase, credited on its PAID callback).

``ACME_DEFECTS`` plants realistic bugs (see README.md) so a harness can be shown to catch them.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import stripe
import urllib3
import xendit
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from xendit.apis import InvoiceApi
from xendit.exceptions import XenditSdkException
from xendit.invoice.model.create_invoice_request import CreateInvoiceRequest

from .store import Store

__all__ = ["PLANS", "AcmeSettings", "create_app", "settings_from_env"]

#: monthly plan prices in cents
PLANS = {"pro": 2_000, "team": 10_000}
MAX_MARKUP_BPS = 5_000
MAX_COST_CENTS = 1_000_000_00
#: attempts at creating one Xendit invoice (the first and its retries)
XENDIT_ATTEMPTS = 4
_ON = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True, kw_only=True)
class AcmeSettings:
    """Everything Acme reads from its environment."""

    database: Path
    billing_enabled: bool = False
    stripe_api_base: str | None = None
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    xendit_api_base: str | None = None
    xendit_api_key: str | None = None
    xendit_callback_token: str | None = None
    test_token: str | None = None
    #: how long a processor call may take before Acme gives up on the attempt (and retries)
    processor_timeout: float = 10.0
    defects: frozenset[str] = field(default_factory=frozenset)


def settings_from_env(env: dict[str, str]) -> AcmeSettings:
    """Acme's settings from environment variables (the same ones `payharness fakes` prints)."""
    return AcmeSettings(
        database=Path(env.get("ACME_DATABASE", "acme.sqlite3")),
        billing_enabled=env.get("ACME_BILLING_ENABLED", "").strip().lower() in _ON,
        stripe_api_base=env.get("STRIPE_API_BASE"),
        stripe_api_key=env.get("STRIPE_API_KEY"),
        stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET"),
        xendit_api_base=env.get("XENDIT_API_BASE"),
        xendit_api_key=env.get("XENDIT_API_KEY"),
        xendit_callback_token=env.get("XENDIT_CALLBACK_TOKEN"),
        test_token=env.get("ACME_TEST_TOKEN"),
        processor_timeout=float(env.get("ACME_PROCESSOR_TIMEOUT") or 10.0),
        defects=frozenset(d.strip() for d in env.get("ACME_DEFECTS", "").split(",") if d.strip()),
    )


class AcmeError(Exception):
    """An answer in Acme's error shape."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status, self.error = status, error


def _fail(status: int, error: str) -> AcmeError:
    return AcmeError(status, error)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError) as exc:
        raise _fail(400, "bad_json") from exc
    if not isinstance(body, dict):
        raise _fail(400, "bad_json")
    return body


def _int(body: dict[str, Any], name: str, *, low: int, high: int) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _fail(400, f"bad_{name}")
    return value


def _text(body: dict[str, Any], name: str, error: str | None = None) -> str:
    value = body.get(name)
    if not is_text(value):
        raise _fail(400, error or f"bad_{name}")
    return str(value)


def is_text(value: Any) -> bool:
    """Whether `value` is text Acme stores: 1 to 200 characters of valid UTF-8 without NUL."""
    if not isinstance(value, str) or not value or len(value) > 200 or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (JSON "\ud800")
        return False
    return True


def create_app(settings: AcmeSettings) -> FastAPI:
    """Acme's billing API."""
    from .routes import install_routes

    store = Store(settings.database)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(title="Acme billing", version="1.0.0", lifespan=lifespan)
    clients = Clients(settings)

    @app.exception_handler(AcmeError)
    async def acme_error(_: Request, exc: AcmeError) -> JSONResponse:
        return JSONResponse({"ok": False, "error": exc.error}, status_code=exc.status)

    @app.exception_handler(sqlite3.Error)
    async def db_error(_: Request, exc: sqlite3.Error) -> JSONResponse:
        return JSONResponse({"ok": False, "error": "storage_error"}, status_code=500)

    install_routes(app, settings, store, clients)
    return app


class Clients:
    """The processors' official SDK clients, built once."""

    def __init__(self, settings: AcmeSettings) -> None:
        self.defects = settings.defects
        self.timeout = settings.processor_timeout
        self.stripe: stripe.StripeClient | None = None
        self.xendit: xendit.Configuration | None = None
        if settings.stripe_api_key and settings.stripe_api_base:
            self.stripe = stripe.StripeClient(
                settings.stripe_api_key,
                base_addresses={"api": settings.stripe_api_base.rstrip("/")},
                http_client=stripe.HTTPXClient(timeout=settings.processor_timeout),
                max_network_retries=2,
            )
        if settings.xendit_api_key and settings.xendit_api_base:
            self.xendit = xendit.Configuration(
                host=settings.xendit_api_base.rstrip("/"), api_key=settings.xendit_api_key
            )

    async def xendit_invoice(
        self, external_id: str, amount_cents: int, idempotency_key: str
    ) -> tuple[str, str]:
        """A USD invoice for `amount_cents`; returns (invoice id, invoice url).

        xendit-python does not retry: a 5xx, a timeout or a dropped connection is retried here, a bounded
        number of times, every attempt under the same `idempotency-key` (so Xendit makes one invoice)."""
        assert self.xendit is not None
        config = self.xendit
        request = CreateInvoiceRequest(
            external_id=external_id, amount=amount_cents / 100, currency="USD"
        )
        attempt = 0

        def create() -> Any:
            key = idempotency_key
            if "xendit_retry_new_key" in self.defects:
                key = f"{key}-{attempt}"  # planted: every retry is a new request to Xendit
            client = xendit.ApiClient(config, "idempotency-key", key)
            try:
                return InvoiceApi(client).create_invoice(
                    create_invoice_request=request, _request_timeout=self.timeout
                )
            finally:
                client.close()

        for attempt in range(XENDIT_ATTEMPTS):
            try:
                invoice = await run_in_threadpool(create)
                return str(invoice.id), str(invoice.invoice_url)
            except XenditSdkException as exc:
                if not str(exc.status).isdigit() or int(exc.status) < 500:
                    raise _fail(502, "processor_refused") from exc
            except (urllib3.exceptions.HTTPError, OSError):
                pass
            await asyncio.sleep(0.05 * 2**attempt)
        raise _fail(502, "processor_unavailable")


def markup_cents(cost_cents: int, markup_bps: int, defects: frozenset[str]) -> tuple[int, int]:
    """(effective markup bps, charged cents): the markup is clamped to [0, MAX_MARKUP_BPS] and rounded up."""
    if "markup_floor" in defects:
        return markup_bps, cost_cents + math.floor(cost_cents * markup_bps / 10_000)
    bps = min(max(markup_bps, 0), MAX_MARKUP_BPS)
    return bps, cost_cents + -(-cost_cents * bps // 10_000)


def usd_cents(amount: Any, currency: Any) -> int | None:
    """A processor amount in major units as USD cents; None when not USD or not a whole number of cents."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value <= 0:
        return None
    cents = value * 100
    if cents > MAX_COST_CENTS or cents != cents.to_integral_value() or currency != "USD":
        return None
    return int(cents)


def token_matches(given: str | None, expected: str, defects: frozenset[str]) -> bool:
    """Xendit's callback token check: constant-time equality."""
    if given is None:
        return False
    if "xendit_token_prefix" in defects:
        return expected.startswith(given)
    return hmac.compare_digest(given.encode(), expected.encode())
