"""CDP rail: x402 v1 payments through the `x402` package's facilitator client; Hook0-signed webhooks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from x402.http.facilitator_client import FacilitatorConfig, HTTPFacilitatorClient
from x402.schemas.v1 import PaymentPayloadV1, PaymentRequirementsV1

from ..inputs import json_too_deep
from ..settings import USDC_BASE_SEPOLIA, CdpRail
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
    TopupStarted,
    call_with_retries,
)

__all__ = ["CdpAdapter", "PaymentDeclined", "SettledPayment", "decode_x_payment"]

HOOK0_TOLERANCE_SECONDS = 300  # CDP-WH: "Reject events older than 5 minutes"


class PaymentDeclined(Exception):
    """The facilitator refused the payment (verify invalid or settle unsuccessful)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class SettledPayment:
    """A payment the facilitator settled on chain."""

    transaction: str
    payer: str | None
    network: str
    amount_micros: int
    nonce: str | None


def decode_x_payment(header: str) -> PaymentPayloadV1:
    """Decode `X-PAYMENT` (base64 JSON PaymentPayload, X402-HTTP1); ValueError when malformed."""
    try:
        raw = base64.b64decode(header.strip(), validate=True)
        if json_too_deep(raw):
            raise ValueError("nested too deeply")
        data = json.loads(raw)
        return PaymentPayloadV1.model_validate(data)
    except (binascii.Error, ValueError, RecursionError) as exc:
        # RecursionError: JSON nested deeper than the parser goes is malformed input, not a crash
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ValueError(
            f"X-PAYMENT is not a base64 JSON x402 v1 payment payload: {reason}"
        ) from exc


def authorized_micros(payload: PaymentPayloadV1) -> int:
    """The value the payer authorised, in atomic USDC (= micro-USD)."""
    auth = payload.payload.get("authorization") or {}
    try:
        return int(str(auth.get("value")))
    except ValueError as exc:
        raise ValueError("authorization.value is not an integer") from exc


class CdpAdapter:
    """x402 facilitator calls and CDP webhook verification."""

    name = "cdp"

    def __init__(
        self,
        config: CdpRail,
        *,
        timeout_seconds: float,
        retry: RetryPolicy,
        now: Callable[[], float] = time.time,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._config = config
        self._retry = retry
        self._now = now
        self._http = http_client or httpx.AsyncClient(timeout=timeout_seconds)
        self._facilitator = HTTPFacilitatorClient(
            FacilitatorConfig(
                url=config.facilitator_url, timeout=timeout_seconds, http_client=self._http
            )
        )

    def requirements(
        self, *, amount_micros: int, resource: str, description: str
    ) -> dict[str, Any]:
        """x402 v1 `PaymentRequirements` for an amount in atomic USDC."""
        return {
            "scheme": "exact",
            "network": self._config.network,
            "maxAmountRequired": str(amount_micros),
            "asset": self._config.asset,
            "payTo": self._config.pay_to,
            "resource": resource,
            "description": description,
            "mimeType": "application/json",
            "maxTimeoutSeconds": self._config.max_timeout_seconds,
            "extra": {"name": "USDC", "version": "2"},
        }

    async def verify(self, payload: PaymentPayloadV1, requirements: Mapping[str, Any]) -> int:
        """Ask the facilitator whether the payment is good for `requirements`; the verified value in
        atomic USDC, or `PaymentDeclined` (forged signature, short value, unfunded payer, spent nonce)."""
        try:
            reqs = PaymentRequirementsV1.model_validate(dict(requirements))
        except ValueError as exc:
            raise PaymentDeclined("invalid_payment_requirements") from exc
        verified = await self._facilitator_call(lambda: self._facilitator.verify(payload, reqs))
        if not verified.is_valid:
            raise PaymentDeclined(verified.invalid_reason or "invalid_payload")
        value = authorized_micros(payload)
        if value < int(reqs.max_amount_required):
            raise PaymentDeclined("invalid_exact_evm_payload_authorization_value")
        return value

    async def verify_and_settle(
        self, payload: PaymentPayloadV1, requirements: Mapping[str, Any]
    ) -> SettledPayment:
        """Verify then settle at the facilitator; `PaymentDeclined` when it says no."""
        await self.verify(payload, requirements)
        return await self.settle(payload, requirements)

    async def settle(
        self, payload: PaymentPayloadV1, requirements: Mapping[str, Any]
    ) -> SettledPayment:
        """Settle an authorisation (retried safely: the facilitator settles a nonce once)."""
        reqs = PaymentRequirementsV1.model_validate(dict(requirements))
        settled = await self._facilitator_call(lambda: self._facilitator.settle(payload, reqs))
        if not settled.success or not settled.transaction:
            raise PaymentDeclined(settled.error_reason or "unexpected_settle_error")
        auth = payload.payload.get("authorization") or {}
        return SettledPayment(
            transaction=settled.transaction,
            payer=settled.payer,
            network=str(settled.network or payload.network),
            amount_micros=authorized_micros(payload),
            nonce=str(auth.get("nonce")) if auth.get("nonce") else None,
        )

    async def _facilitator_call(self, op: Callable[[], Any]) -> Any:
        async def once() -> Any:
            try:
                return await op()
            except httpx.TimeoutException as exc:
                raise RailError("cdp", "processor_timeout", str(exc), retryable=True) from exc
            except httpx.TransportError as exc:
                raise RailError("cdp", "processor_unreachable", str(exc), retryable=True) from exc
            except ValueError as exc:
                # the x402 client raises ValueError("Facilitator settle failed (503): ...") on non-200
                text = str(exc)
                retryable = "failed (5" in text or "(429)" in text
                raise RailError(
                    "cdp",
                    "processor_unavailable" if retryable else "processor_rejected",
                    text[:300],
                    retryable=retryable,
                ) from exc

        return await call_with_retries("cdp", self._retry, once)

    async def start_topup(
        self, *, topup_id: str, account_id: str, amount_micros: int, customer_ref: str | None
    ) -> TopupStarted:
        """No processor call: the client pays the returned requirements at `/pay`."""
        return TopupStarted(processor_ref=None, details={})

    async def start_checkout(
        self,
        *,
        subscription_id: str,
        account_id: str,
        plan: str,
        price_micros: int,
        customer_ref: str | None,
    ) -> CheckoutStarted:
        """x402 has no subscriptions."""
        raise RailError(
            "cdp", "rail_not_supported", "cdp has no subscription checkout", retryable=False
        )

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """`X-Hook0-Signature: t=,h=,v1=` over `t.h.values.body`, 5 minute window (CDP-WH, HOOK0)."""
        header = headers.get("x-hook0-signature")
        if not header:
            raise SignatureMissing("X-Hook0-Signature header is missing")
        fields: dict[str, list[str]] = {}
        for part in header.split(","):
            key, sep, value = part.strip().partition("=")
            if sep:
                fields.setdefault(key, []).append(value)
        try:
            timestamp = int(fields["t"][0])
            names = fields.get("h", [""])[0]
            signatures = fields["v1"]
        except (KeyError, ValueError, IndexError) as exc:
            raise SignatureInvalid("malformed X-Hook0-Signature") from exc
        values = ".".join(headers.get(n, "") for n in names.split(" ") if n)
        signed = f"{timestamp}.{names}.{values}.".encode() + body
        expected = hmac.new(
            self._config.webhook_secret.encode(), signed, hashlib.sha256
        ).hexdigest()
        if not any(hmac.compare_digest(expected, s.strip().lower()) for s in signatures):
            raise SignatureInvalid("no X-Hook0-Signature v1 matches")
        if abs(self._now() - timestamp) > HOOK0_TOLERANCE_SECONDS:
            raise SignatureInvalid("X-Hook0-Signature timestamp outside the 5 minute window")

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        """A settled transfer (`data.transaction`) becomes a payment keyed by its transaction hash."""
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise TypeError("event is not an object")
        except (ValueError, TypeError) as exc:
            raise PayloadInvalid(f"not a CDP event: {exc}") from exc
        event_id = headers.get("x-event-id") or payload.get("eventId") or payload.get("id")
        event_type = headers.get("x-event-type") or payload.get("eventType") or payload.get("type")
        if not event_id or not event_type:
            raise PayloadInvalid("CDP event has no id or type")
        nested = payload.get("data")
        data: dict[str, Any] = nested if isinstance(nested, dict) else payload
        created = _created(payload)
        tx = data.get("transaction") or data.get("transactionHash") or data.get("txHash")
        value = data.get("value", data.get("amount"))
        failed = any(w in str(event_type).lower() for w in ("fail", "revert", "cancel"))
        if not tx or value is None or failed:
            return ProcessorEvent(
                event_id=str(event_id), event_type=str(event_type), created=created
            )
        # atomic units as a string of digits (or a JSON integer): no sign, spaces, underscores or bools,
        # which int() would read
        text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
        if not text.isascii() or not text.isdigit():
            raise PayloadInvalid(f"transfer value {value!r} is not a whole number of atomic units")
        micros = int(text)
        asset = str(data.get("asset") or "")
        is_usdc = asset.lower() in (USDC_BASE_SEPOLIA.lower(), self._config.asset.lower())
        return ProcessorEvent(
            event_id=str(event_id),
            event_type=str(event_type),
            created=created,
            effects=(
                PaymentReceived(
                    processor_ref=str(tx),
                    amount_text=str(micros) if not is_usdc else _usdc_text(micros),
                    # another token is recorded, never credited; its contract address does not fit a
                    # currency code, so it is recorded as NON_USDC (the amount stays in atomic units)
                    currency="USD" if is_usdc else "NON_USDC",
                    amount_micros=micros if is_usdc else None,
                    customer_ref=str(data.get("from") or data.get("payer") or "") or None,
                    topup_ref=str(data["nonce"]) if data.get("nonce") else None,
                ),
            ),
        )

    async def list_payments(self, customer_refs: list[str]) -> list[ProcessorRecord] | None:
        """A facilitator has no listing API: reconciliation reports that instead of guessing."""
        return None

    async def aclose(self) -> None:
        """Close the facilitator's HTTP client."""
        await self._http.aclose()


def _usdc_text(micros: int) -> str:
    whole, frac = divmod(micros, 1_000_000)
    return f"{whole}.{frac:06d}"


def _created(payload: Mapping[str, Any]) -> int:
    from datetime import datetime

    raw = payload.get("createdAt") or payload.get("created_at") or payload.get("created")
    if isinstance(raw, int | float):
        return int(raw)
    if isinstance(raw, str):
        try:
            return int(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp())
        except ValueError:
            return 0
    return 0
