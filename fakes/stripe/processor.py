"""The Stripe processor plugged into :class:`~fakes._common.FakeApp`: auth, params, idempotency, headers.

* Auth (PROCESSORS.md 1.7): HTTP Basic with the secret key as user name (``-u sk_test_...:``) or
  ``Authorization: Bearer sk_test_...`` (what stripe-python sends). Unknown keys and live keys get 401.
* Idempotency (PROCESSORS.md 1.5, S-IDEM), POST only: the first response after execution begins is saved
  and replayed with ``Idempotency-Replayed: true`` (5xx included); other parameters or another endpoint
  under the same key is 400 ``idempotency_error``; a retry while the first is executing is 409; failures
  before execution (validation, unknown objects named by the request) are not saved. Keys are scoped by
  API key and kept ``idempotency_retention_seconds`` (≥ 24 h) on the injected clock.
* Every response carries ``Request-Id`` and ``Stripe-Version``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from fakes._common import (
    DeliverySettings,
    FakeError,
    FakeRequest,
    FakeResponse,
    IdempotencyStore,
    Route,
    Run,
    Verdict,
    WebhookDelivery,
    WebhookEndpoint,
    json_response,
)
from fakes.signing import StripeSigner
from fakes.stripe.api import PARAMS, PRE_EXECUTION_FAILURE, REQUEST_ID
from fakes.stripe.billing import billing_routes, renew_subscription
from fakes.stripe.cash import cash_routes, fund_cash_balance
from fakes.stripe.catalog import catalog_routes
from fakes.stripe.checkout import checkout_routes, complete_checkout_session
from fakes.stripe.clocks import clock_routes
from fakes.stripe.config import StripeConfig
from fakes.stripe.coupons import coupon_routes
from fakes.stripe.customers import customer_routes
from fakes.stripe.disputes import dispute_routes
from fakes.stripe.errors import StripeApiError, error_payload, error_type_for_status
from fakes.stripe.events import event_routes
from fakes.stripe.forms import Params, decode_form, parse_pairs
from fakes.stripe.invoices import invoice_routes
from fakes.stripe.payment_methods import payment_method_routes
from fakes.stripe.payments import payment_routes
from fakes.stripe.refunds import refund_routes
from fakes.stripe.setup_intents import setup_intent_routes
from fakes.stripe.state import Obj, StripeState

__all__ = ["StripeProcessor"]

_MAX_KEY_LENGTH = 255  # "up to 255 characters" (S-IDEM)
_AUTH_CACHE_SIZE = 64


class StripeProcessor:
    """One Stripe fake's behaviour and state; see the module docstring for the rules it follows."""

    name: str = "stripe"
    idempotency_headers: tuple[str, ...] = ("idempotency-key",)

    def __init__(self, config: StripeConfig) -> None:
        self.config = config
        self._signers: dict[str, StripeSigner] = {}
        self._webhooks = WebhookDelivery(
            DeliverySettings(
                retry_schedule_seconds=config.retry_schedule_seconds,
                time_scale=config.time_scale,
                timeout_seconds=config.delivery_timeout_seconds,
                transport=config.delivery_transport,
                now=config.now,
                sleep=config.sleep,
            ),
            sign=self._sign,
            new_secret=lambda: config.webhook_secret,
            endpoint_id_prefix="we_fake_",
        )
        self.state = StripeState(config, self._webhooks)
        self.idempotency = IdempotencyStore(
            now=config.now, retention_seconds=config.idempotency_retention_seconds
        )
        self._keys = frozenset(config.api_keys)
        self._auth_cache: dict[str, str | None] = {}
        self._register_configured_endpoints()

    @property
    def webhooks(self) -> WebhookDelivery:
        """Webhook delivery, Stripe-signed at send time."""
        return self._webhooks

    def _sign(self, endpoint: WebhookEndpoint, body: bytes) -> Mapping[str, str]:
        signer = self._signers.get(endpoint.secret)
        if signer is None:
            signer = self._signers[endpoint.secret] = StripeSigner(
                endpoint.secret, now=self.config.now
            )
        return signer.sign(body, include_v0=self.config.include_v0_signature)

    def _register_configured_endpoints(self) -> None:
        for url in self.config.webhook_urls:
            self._webhooks.add_endpoint(url, secret=self.config.webhook_secret)

    # -- Processor protocol ----------------------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        """Every Stripe API route the fake implements."""
        state = self.state
        return [
            *customer_routes(state),
            *cash_routes(state),
            *catalog_routes(state),
            *checkout_routes(state),
            *billing_routes(state),
            *event_routes(state),
            *payment_routes(state),
            *refund_routes(state),
            *invoice_routes(state),
            *clock_routes(state),
            *payment_method_routes(state),
            *setup_intent_routes(state),
            *dispute_routes(state),
            *coupon_routes(state),
        ]

    def control_routes(self) -> Sequence[Route]:
        """Stripe-only test helpers under ``/_fake/``."""

        async def complete(request: FakeRequest) -> FakeResponse:
            return json_response(
                200, self.complete_checkout_session(request.path_params["session"])
            )

        async def renew(request: FakeRequest) -> FakeResponse:
            return json_response(200, self.renew_subscription(request.path_params["subscription"]))

        return [
            Route(
                method="POST",
                template="/_fake/checkout/sessions/{session}/complete",
                handler=complete,
                name="fake.checkout.sessions.complete",
            ),
            Route(
                method="POST",
                template="/_fake/subscriptions/{subscription}/renew",
                handler=renew,
                name="fake.subscriptions.renew",
            ),
        ]

    def error_response(self, status: int, *, code: str, message: str) -> FakeResponse:
        """Stripe's error shape for faults, unknown routes and internal errors."""
        if status == 429:
            # Stripe's rate-limit error (stripe-python maps it to RateLimitError, S-PY-REQ).
            code, message = "rate_limit", "Too many requests hit the API too quickly."
        payload = error_payload(type=error_type_for_status(status), message=message, code=code)
        return json_response(status, payload)

    async def dispatch(self, request: FakeRequest, route: Route | None, run: Run) -> FakeResponse:
        """Auth, unknown routes, parameter decoding, idempotency, then ``run``."""
        request.context[REQUEST_ID] = self.state.ids.request_id()
        api_key = self._api_key(request.headers.get("authorization"))
        if api_key is None:
            return self._auth_error(request.headers.get("authorization"))
        if route is None:
            return StripeApiError(
                404,
                f"Unrecognized request URL ({request.method}: {request.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                code="resource_missing",
            ).response()
        raw = request.body.decode("utf-8", errors="replace") if request.method == "POST" else ""
        try:
            pairs = parse_pairs(raw or request.query_string)
            request.context[PARAMS] = Params(decode_form(pairs))
        except StripeApiError as exc:
            return exc.response()
        key = request.headers.get("idempotency-key") if request.method == "POST" else None
        if key is None:
            return await run()
        return await self._idempotent(request, run, api_key, key, tuple(sorted(pairs)))

    async def _idempotent(
        self, request: FakeRequest, run: Run, api_key: str, key: str, fingerprint: object
    ) -> FakeResponse:
        if len(key) > _MAX_KEY_LENGTH:
            return StripeApiError(
                400,
                f"Invalid idempotency key: must be at most {_MAX_KEY_LENGTH} characters.",
                param="Idempotency-Key",
            ).response()
        claim = self.idempotency.claim(
            scope=api_key, key=key, endpoint=request.path, fingerprint=fingerprint
        )
        if claim.verdict is Verdict.REPLAY:
            assert claim.response is not None
            claim.response.headers.append((b"idempotency-replayed", b"true"))
            return claim.response
        if claim.verdict is Verdict.IN_FLIGHT:
            return StripeApiError(
                409,
                "There is currently another in-progress request using this Idempotent Key (probably "
                "because of a timeout). Please try again later.",
                type="idempotency_error",
                code="idempotency_key_in_use",
            ).response()
        if claim.verdict is Verdict.PARAMS_MISMATCH:
            return StripeApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were "
                f"first used with. Try using a key other than '{key}' if you meant to execute a "
                "different request.",
                type="idempotency_error",
            ).response()
        if claim.verdict is Verdict.ENDPOINT_MISMATCH:
            return StripeApiError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were first "
                f"used for ('{claim.first_endpoint}' vs '{request.path}'). Try using a key other than "
                f"'{key}' if you meant to execute a different request.",
                type="idempotency_error",
            ).response()
        try:
            response = await run()
        except BaseException:
            # A dropped connection or cancellation mid-execution: nothing was answered, nothing saved.
            self.idempotency.abandon(scope=api_key, key=key)
            raise
        if request.context.get(PRE_EXECUTION_FAILURE):
            self.idempotency.abandon(scope=api_key, key=key)
        else:
            response.headers.append((b"original-request", request.context[REQUEST_ID].encode()))
            self.idempotency.complete(scope=api_key, key=key, response=response)
        return response

    def finalize(self, request: FakeRequest, response: FakeResponse) -> None:
        """``Request-Id``, ``Stripe-Version`` and, on POSTs with a key, ``Idempotency-Key``."""
        request_id = request.context.get(REQUEST_ID) or self.state.ids.request_id()
        version = request.headers.get("stripe-version") or self.config.api_version
        response.headers.append((b"request-id", request_id.encode()))
        response.headers.append((b"stripe-version", version.encode()))
        key = request.headers.get("idempotency-key")
        if key is not None and request.method == "POST":
            response.headers.append((b"idempotency-key", key.encode()))

    def describe(self) -> dict[str, Any]:
        """Base info, keys and secrets for ``GET /_fake/config`` (test credentials only)."""
        return {
            "processor": "stripe",
            "api_keys": list(self.config.api_keys),
            "webhook_secret": self.config.webhook_secret,
            "api_version": self.config.api_version,
            "account_id": self.config.account_id,
            "retry_schedule_seconds": list(self.config.retry_schedule_seconds),
            "time_scale": self.config.time_scale,
            "webhook_endpoints": [
                {
                    "id": e.id,
                    "url": e.url,
                    "secret": e.secret,
                    "enabled_events": list(e.enabled_events),
                }
                for e in self._webhooks.endpoints()
            ],
        }

    def reset(self) -> None:
        """Forget all objects, events, idempotency keys and deliveries; re-register configured URLs."""
        with self.state.lock:
            self.state.clear()
            self.idempotency.clear()
            self._webhooks.reset()
            self._register_configured_endpoints()

    # -- auth ------------------------------------------------------------------------------------------

    def _api_key(self, header: str | None) -> str | None:
        if header is None:
            return None
        if header in self._auth_cache:
            return self._auth_cache[header]
        key = _key_from_header(header)
        accepted = key if key in self._keys else None
        if len(self._auth_cache) >= _AUTH_CACHE_SIZE:
            self._auth_cache.clear()
        self._auth_cache[header] = accepted
        return accepted

    def _auth_error(self, header: str | None) -> FakeResponse:
        key = _key_from_header(header) if header else None
        if not key:
            message = (
                "You did not provide an API key. You need to provide your API key in the Authorization "
                "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
            )
        elif key.startswith(("sk_live_", "rk_live_")):
            message = (
                "This fake only accepts test-mode keys (sk_test_...); a live-mode key was sent."
            )
        else:
            message = f"Invalid API Key provided: {key[:8]}{'*' * 8}{key[-4:]}"
        return json_response(401, error_payload(type="invalid_request_error", message=message))

    # -- Python helpers (the same powers as the control routes) -----------------------------------------

    def complete_checkout_session(self, session_id: str) -> Obj:
        """Complete an open subscription checkout (creates subscription + paid invoice, emits events)."""
        with self.state.lock:
            return complete_checkout_session(self.state, session_id)

    def renew_subscription(self, subscription_id: str) -> Obj:
        """Bill the next period of an active subscription; returns the new paid invoice."""
        with self.state.lock:
            return renew_subscription(self.state, subscription_id)

    def fund_cash_balance(
        self, customer_id: str, amount: int, currency: str = "usd", reference: str | None = None
    ) -> Obj:
        """What ``POST /v1/test_helpers/customers/{id}/fund_cash_balance`` does, from Python."""
        with self.state.lock:
            try:
                return fund_cash_balance(
                    self.state,
                    customer_id,
                    amount=amount,
                    currency=currency.lower(),
                    reference=reference,
                )
            except StripeApiError as exc:
                raise FakeError(exc.message, code=exc.code or "invalid_request") from exc


def _key_from_header(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, _password = decoded.partition(":")
        return user or None
    return None
