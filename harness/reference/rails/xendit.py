"""Xendit rail: invoices for top-ups, recurring plans for subscriptions, `x-callback-token` callbacks."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from ..money import decimal_to_micros, micros_to_decimal_text
from ..settings import XenditRail
from .base import (
    CheckoutStarted,
    PayloadInvalid,
    PaymentReceived,
    ProcessorEvent,
    ProcessorRecord,
    RetryPolicy,
    SignatureInvalid,
    SignatureMissing,
    SubscriptionCanceled,
    SubscriptionPaid,
    TopupStarted,
)
from .httpjson import JsonClient

__all__ = ["XenditAdapter"]


def _amount(value: Any, currency: str) -> tuple[str, int | None]:
    try:
        text = str(Decimal(str(value)).normalize())
    except (InvalidOperation, ValueError) as exc:
        raise PayloadInvalid(f"amount {value!r} is not a number") from exc
    if currency.upper() != "USD":
        return text, None
    try:
        return text, decimal_to_micros(text)
    except ValueError as exc:
        raise PayloadInvalid(str(exc)) from exc


def _cycle_amount(value: Any, currency: str) -> str:
    """A paid cycle's amount as text: a JSON number or numeric string, finite and not negative. Null, a
    boolean, words or a negative amount is not a payment the service can read: the callback is refused
    (`invalid_payload`) and the plan does not change."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PayloadInvalid(f"amount {value!r} is not a number")
    text, _ = _amount(value, currency)
    amount = Decimal(text)
    if not amount.is_finite() or amount < 0:
        raise PayloadInvalid(f"amount {value!r} is not a paid amount")
    return text


def _unix(iso: Any) -> int:
    if not iso:
        return 0
    try:
        return int(datetime.fromisoformat(str(iso).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


class XenditAdapter:
    """Xendit over plain httpx (xendit-python is synchronous), Basic auth with the secret key."""

    name = "xendit"

    def __init__(self, config: XenditRail, *, timeout_seconds: float, retry: RetryPolicy) -> None:
        self._config = config
        self._http = JsonClient(
            "xendit",
            config.api_base,
            auth=httpx.BasicAuth(config.api_key, ""),
            timeout_seconds=timeout_seconds,
            retry=retry,
            idempotency_header="idempotency-key",
        )

    async def start_topup(
        self, *, topup_id: str, account_id: str, amount_micros: int, customer_ref: str | None
    ) -> TopupStarted:
        """An invoice whose `external_id` is our top-up id; credited on its PAID callback."""
        invoice = await self._http.request(
            "POST",
            "/v2/invoices",
            json={
                "external_id": topup_id,
                "amount": float(Decimal(micros_to_decimal_text(amount_micros))),
                "currency": "USD",
                "description": f"payharness top-up {topup_id}",
                "metadata": {"account_id": account_id},
            },
            idempotency_key=f"payharness-topup-{topup_id}",
        )
        return TopupStarted(
            processor_ref=str(invoice.get("id")),
            details={"invoice_id": invoice.get("id"), "invoice_url": invoice.get("invoice_url")},
        )

    async def _ensure_customer(self, account_id: str, customer_ref: str | None) -> str:
        if customer_ref:
            return customer_ref
        customer = await self._http.request(
            "POST",
            "/customers",
            json={
                "reference_id": account_id,
                "type": "INDIVIDUAL",
                "individual_detail": {"given_names": "payharness"},
            },
            idempotency_key=f"payharness-customer-{account_id}",
        )
        return str(customer["id"])

    async def start_checkout(
        self,
        *,
        subscription_id: str,
        account_id: str,
        plan: str,
        price_micros: int,
        customer_ref: str | None,
    ) -> CheckoutStarted:
        """A monthly recurring plan; the tier flips on `recurring.cycle.succeeded`."""
        customer = await self._ensure_customer(account_id, customer_ref)
        created = await self._http.request(
            "POST",
            "/recurring/plans",
            json={
                "reference_id": subscription_id,
                "customer_id": customer,
                "recurring_action": "PAYMENT",
                "currency": "USD",
                "amount": float(Decimal(micros_to_decimal_text(price_micros))),
                "schedule": {
                    "reference_id": f"{subscription_id}-schedule",
                    "interval": "MONTH",
                    "interval_count": 1,
                },
                "metadata": {
                    "account_id": account_id,
                    "plan": plan,
                    "subscription_id": subscription_id,
                },
                "description": f"payharness {plan}",
            },
            idempotency_key=f"payharness-checkout-{subscription_id}",
        )
        plan_id = str(created["id"])
        actions = created.get("actions") or []
        url = next((a.get("url") for a in actions if isinstance(a, dict) and a.get("url")), None)
        return CheckoutStarted(
            checkout_ref=plan_id, url=url, subscription_ref=plan_id, customer_ref=customer
        )

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Xendit callbacks carry a static token, compared in constant time (PROCESSORS.md 2.1)."""
        token = headers.get("x-callback-token")
        if not token:
            raise SignatureMissing("x-callback-token header is missing")
        if not hmac.compare_digest(token.encode(), self._config.callback_token.encode()):
            raise SignatureInvalid("x-callback-token does not match")

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """Flat invoice callbacks, and enveloped recurring callbacks."""
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise TypeError("callback is not an object")
        except (ValueError, TypeError) as exc:
            raise PayloadInvalid(f"not a Xendit callback: {exc}") from exc
        try:
            if "event" in payload and isinstance(payload.get("data"), dict):
                return self._enveloped(payload)
            return self._invoice(payload)
        except (KeyError, TypeError) as exc:
            raise PayloadInvalid(f"callback is missing fields: {exc}") from exc

    def _invoice(self, p: Mapping[str, Any]) -> ProcessorEvent:
        invoice_id = str(p["id"])
        status = str(p["status"]).upper()
        event_id = f"invoice:{invoice_id}:{status}"
        created = _unix(p.get("updated") or p.get("paid_at") or p.get("created"))
        if status not in ("PAID", "SETTLED"):
            return ProcessorEvent(
                event_id=event_id, event_type=f"invoice.{status.lower()}", created=created
            )
        currency = str(p.get("currency") or "IDR")
        text, micros = _amount(p.get("paid_amount", p.get("amount")), currency)
        return ProcessorEvent(
            event_id=event_id,
            event_type="invoice.paid",
            created=created,
            effects=(
                PaymentReceived(
                    processor_ref=invoice_id,
                    amount_text=text,
                    currency=currency,
                    amount_micros=micros,
                    topup_ref=str(p["external_id"]) if p.get("external_id") else None,
                ),
            ),
        )

    def _enveloped(self, p: Mapping[str, Any]) -> ProcessorEvent:
        event = str(p["event"])
        data: Mapping[str, Any] = p["data"]
        event_id = str(p["id"]) if p.get("id") else f"{event}:{data.get('id')}"
        created = _unix(p.get("created") or data.get("created"))
        meta = data.get("metadata") or {}
        if event == "recurring.cycle.succeeded":
            currency = str(data.get("currency") or "USD")
            text = _cycle_amount(data["amount"], currency)
            return ProcessorEvent(
                event_id=event_id,
                event_type=event,
                created=created,
                effects=(
                    SubscriptionPaid(
                        subscription_ref=str(data["plan_id"]),
                        invoice_ref=str(data["id"]),
                        amount_text=text,
                        currency=currency,
                        account_id=meta.get("account_id"),
                        plan=meta.get("plan"),
                        local_id=meta.get("subscription_id"),
                    ),
                ),
            )
        if event == "recurring.plan.inactivated":
            return ProcessorEvent(
                event_id=event_id,
                event_type=event,
                created=created,
                effects=(
                    SubscriptionCanceled(
                        subscription_ref=str(data["id"]),
                        local_id=data.get("reference_id") or meta.get("subscription_id"),
                    ),
                ),
            )
        return ProcessorEvent(event_id=event_id, event_type=event, created=created)

    async def list_payments(self, customer_refs: list[str]) -> list[ProcessorRecord] | None:
        """Paid invoices as Xendit lists them."""
        invoices = await self._http.request("GET", "/v2/invoices", params={"limit": 100})
        items = invoices if isinstance(invoices, list) else invoices.get("data", [])
        records = []
        for inv in items:
            if str(inv.get("status", "")).upper() not in ("PAID", "SETTLED"):
                continue
            currency = str(inv.get("currency") or "IDR")
            text, micros = _amount(inv.get("paid_amount", inv.get("amount")), currency)
            records.append(
                ProcessorRecord(
                    processor_ref=str(inv["id"]),
                    amount_text=text,
                    currency=currency,
                    amount_micros=micros,
                    topup_ref=inv.get("external_id"),
                )
            )
        return records

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()
