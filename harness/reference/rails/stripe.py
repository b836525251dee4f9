"""Stripe rail: stripe-python's `StripeClient` pointed at `api_base`; webhooks through `construct_event`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import stripe

from ..money import MICROS_PER_CENT
from ..settings import StripeRail
from .base import (
    CheckoutStarted,
    PayloadInvalid,
    PaymentReceived,
    ProcessorEvent,
    ProcessorRecord,
    RailError,
    RetryPolicy,
    SignatureInvalid,
    SignatureMissing,
    SubscriptionCanceled,
    SubscriptionLinked,
    SubscriptionPaid,
    TopupStarted,
    call_with_retries,
)

__all__ = ["StripeAdapter", "cents_to_micros_or_none"]

T = TypeVar("T")
_RETRYABLE_4XX = frozenset({409, 429})  # 409: the same idempotency key is still in flight (S-ERR)


def cents_to_micros_or_none(amount_cents: int, currency: str) -> int | None:
    """USD cents to micros; None for any other currency (recorded, never credited)."""
    return amount_cents * MICROS_PER_CENT if currency.lower() == "usd" else None


def _cents_text(amount_cents: int) -> str:
    sign = "-" if amount_cents < 0 else ""
    whole, frac = divmod(abs(amount_cents), 100)
    return f"{sign}{whole}.{frac:02d}"


class StripeAdapter:
    """Stripe as the reference service uses it: customers, cash-balance funding, subscription checkout."""

    name = "stripe"

    def __init__(self, config: StripeRail, *, timeout_seconds: float, retry: RetryPolicy) -> None:
        self._config = config
        self._retry = retry
        self._http = stripe.HTTPXClient(timeout=timeout_seconds)
        self._client = stripe.StripeClient(
            config.api_key,
            base_addresses={"api": config.api_base.rstrip("/")},
            http_client=self._http,
            max_network_retries=0,  # we retry ourselves, with our own idempotency keys
        )

    async def _call(self, op: Callable[[], Awaitable[T]]) -> T:
        async def once() -> T:
            try:
                return await op()
            except stripe.APIConnectionError as exc:
                raise RailError(
                    "stripe", "processor_unreachable", str(exc), retryable=True
                ) from exc
            except stripe.StripeError as exc:
                status = exc.http_status or 0
                retryable = status >= 500 or status in _RETRYABLE_4XX
                code = "processor_unavailable" if retryable else "processor_rejected"
                raise RailError(
                    "stripe", code, exc.user_message or str(exc), retryable=retryable, status=status
                ) from exc

        return await call_with_retries("stripe", self._retry, once)

    async def _ensure_customer(self, account_id: str, customer_ref: str | None) -> str:
        if customer_ref:
            return customer_ref
        customer = await self._call(
            lambda: self._client.v1.customers.create_async(
                params={"metadata": {"account_id": account_id}},
                options={"idempotency_key": f"payharness-customer-{account_id}"},
            )
        )
        return str(customer.id)

    async def start_topup(
        self, *, topup_id: str, account_id: str, amount_micros: int, customer_ref: str | None
    ) -> TopupStarted:
        """Customer plus bank-transfer funding instructions; credited on the funding event."""
        customer = await self._ensure_customer(account_id, customer_ref)
        instructions = await self._call(
            lambda: self._client.v1.customers.funding_instructions.create_async(
                customer,
                params={
                    "bank_transfer": {"type": "us_bank_transfer"},
                    "currency": "usd",
                    "funding_type": "bank_transfer",
                },
                options={"idempotency_key": f"payharness-topup-{topup_id}"},
            )
        )
        return TopupStarted(
            processor_ref=customer,
            customer_ref=customer,
            details={
                "customer": customer,
                "amount_cents": amount_micros // MICROS_PER_CENT,
                "currency": "usd",
                "reference": topup_id,
                "funding_instructions": _to_plain(instructions),
            },
        )

    async def start_checkout(
        self,
        *,
        subscription_id: str,
        account_id: str,
        plan: str,
        price_micros: int,
        customer_ref: str | None,
    ) -> CheckoutStarted:
        """A subscription-mode checkout session with an inline monthly price."""
        customer = await self._ensure_customer(account_id, customer_ref)
        metadata = {"account_id": account_id, "plan": plan, "subscription_id": subscription_id}
        session = await self._call(
            lambda: self._client.v1.checkout.sessions.create_async(
                params={
                    "mode": "subscription",
                    "customer": customer,
                    "client_reference_id": account_id,
                    "success_url": "https://example.invalid/payharness/success",
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": "usd",
                                "unit_amount": price_micros // MICROS_PER_CENT,
                                "recurring": {"interval": "month"},
                                "product_data": {"name": f"payharness {plan}"},
                            },
                        }
                    ],
                    "metadata": metadata,
                    "subscription_data": {"metadata": metadata},
                },
                options={"idempotency_key": f"payharness-checkout-{subscription_id}"},
            )
        )
        return CheckoutStarted(
            checkout_ref=str(session.id),
            url=getattr(session, "url", None),
            customer_ref=customer,
        )

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """stripe-python's own verifier: 300 s past-only tolerance, v1 only (v0 alone is refused).

        The signature only: the body is parsed once, by `parse_webhook` (stripe-python's `construct_event`
        would parse it again into a `StripeObject` the service never reads)."""
        header = headers.get("stripe-signature")
        if not header:
            raise SignatureMissing("Stripe-Signature header is missing")
        try:
            payload = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SignatureInvalid("body is not UTF-8") from exc
        try:
            # parse the header, v1 present, HMAC, then the past-only timestamp
            stripe.WebhookSignature.verify_header(
                payload, header, self._config.webhook_secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
        except stripe.SignatureVerificationError as exc:
            raise SignatureInvalid(str(exc)) from exc

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """Normalise the Stripe events the service acts on; others are `ignored`."""
        try:
            event = json.loads(body)
            event_id = str(event["id"])
            event_type = str(event["type"])
            created = int(event.get("created") or 0)
            obj = event["data"]["object"]
            if not isinstance(obj, dict):
                raise TypeError("data.object is not an object")
        except (ValueError, KeyError, TypeError) as exc:
            raise PayloadInvalid(f"not a Stripe event: {exc}") from exc
        try:
            effects = _effects(event_type, obj)
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadInvalid(f"{event_type} is missing fields: {exc}") from exc
        return ProcessorEvent(
            event_id=event_id, event_type=event_type, created=created, effects=effects
        )

    async def list_payments(self, customer_refs: list[str]) -> list[ProcessorRecord] | None:
        """Funded cash-balance transactions of our customers, as Stripe lists them."""
        records: list[ProcessorRecord] = []
        for customer in customer_refs:
            page = await self._call(
                lambda c=customer: self._client.v1.customers.cash_balance_transactions.list_async(  # type: ignore[misc]
                    c, params={"limit": 100}
                )
            )
            for txn in _to_plain(page).get("data", []):
                if txn.get("type") != "funded":
                    continue
                amount = int(txn.get("net_amount") or 0)
                currency = str(txn.get("currency") or "")
                records.append(
                    ProcessorRecord(
                        processor_ref=str(txn["id"]),
                        amount_text=_cents_text(amount),
                        currency=currency,
                        amount_micros=cents_to_micros_or_none(amount, currency),
                        customer_ref=customer,
                        topup_ref=_funding_reference(txn),
                    )
                )
        return records

    async def aclose(self) -> None:
        """Close the HTTPX client stripe-python holds."""
        client = getattr(self._http, "_client_async", None)
        if client is not None:
            await client.aclose()


def _to_plain(obj: Any) -> dict[str, Any]:
    if hasattr(obj, "to_dict"):
        return dict(obj.to_dict())
    return dict(obj)


def _funding_reference(txn: Mapping[str, Any]) -> str | None:
    funded = txn.get("funded") or {}
    bank = funded.get("bank_transfer") or {}
    ref = bank.get("reference")
    return str(ref) if ref else None


def _subscription_details(invoice: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    # Newer API versions move these under invoice.parent.subscription_details; older ones have
    # invoice.subscription and invoice.subscription_details.
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or invoice.get("subscription_details") or {}
    sub = details.get("subscription") or invoice.get("subscription")
    if isinstance(sub, dict):
        sub = sub.get("id")
    return (str(sub) if sub else None), (details.get("metadata") or {})


def _cents_paid(invoice: Mapping[str, Any]) -> int:
    """An invoice's `amount_paid`: Stripe always sends a non-negative integer of cents (0 for a trial or a
    fully discounted invoice). Absent, null, a boolean, a string, a float or negative, it is not a payment
    the service can read, so the event is refused (`invalid_payload`) and the plan does not change."""
    amount = invoice["amount_paid"]
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ValueError(f"amount_paid {amount!r} is not a non-negative integer of cents")
    return amount


def _effects(event_type: str, obj: Mapping[str, Any]) -> tuple[Any, ...]:
    if event_type == "customer_cash_balance_transaction.created":
        if obj.get("type") != "funded":
            return ()
        amount = obj["net_amount"]
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise ValueError(f"net_amount {amount!r} is not an integer")
        currency = str(obj["currency"])
        return (
            PaymentReceived(
                processor_ref=str(obj["id"]),
                amount_text=_cents_text(amount),
                currency=currency,
                amount_micros=cents_to_micros_or_none(amount, currency),
                customer_ref=str(obj["customer"]) if obj.get("customer") else None,
                topup_ref=_funding_reference(obj),
            ),
        )
    if event_type == "checkout.session.completed":
        if obj.get("mode") != "subscription" or not obj.get("subscription"):
            return ()
        meta = obj.get("metadata") or {}
        sub = obj["subscription"]
        return (
            SubscriptionLinked(
                subscription_ref=str(sub["id"] if isinstance(sub, dict) else sub),
                checkout_ref=str(obj["id"]),
                account_id=meta.get("account_id") or obj.get("client_reference_id"),
                plan=meta.get("plan"),
                local_id=meta.get("subscription_id"),
            ),
        )
    if event_type == "invoice.paid":
        sub_ref, meta = _subscription_details(obj)
        if not sub_ref:
            return ()
        amount = _cents_paid(obj)
        return (
            SubscriptionPaid(
                subscription_ref=sub_ref,
                invoice_ref=str(obj["id"]),
                amount_text=_cents_text(amount),
                currency=str(obj.get("currency") or "usd"),
                account_id=meta.get("account_id"),
                plan=meta.get("plan"),
                local_id=meta.get("subscription_id"),
            ),
        )
    if event_type == "customer.subscription.deleted" or (
        event_type == "customer.subscription.updated"
        and obj.get("status") in ("canceled", "incomplete_expired", "unpaid")
    ):
        meta = obj.get("metadata") or {}
        return (
            SubscriptionCanceled(
                subscription_ref=str(obj["id"]), local_id=meta.get("subscription_id")
            ),
        )
    return ()
