"""What the replayer knows about each rail: its signature scheme, its secret, and a delivery's identity.

| rail | scheme (`fakes.signing`) | secret variable | event id |
|---|---|---|---|
| ``stripe`` | ``stripe`` (``Stripe-Signature``) | ``STRIPE_WEBHOOK_SECRET`` | body ``id`` (PROCESSORS.md 1.4) |
| ``cdp`` | ``cdp`` (``X-Hook0-Signature``) | ``CDP_WEBHOOK_SECRET`` | ``x-event-id``, else body ``eventId``/``id`` (3.2) |
| ``xendit`` | ``xendit`` (``x-callback-token``) | ``XENDIT_CALLBACK_TOKEN`` | see `event_id_of` (2.1, 2.4) |

Event ids are named exactly as the reference service dedupes them (``harness/reference/rails``), so a
report's event id is the one the target's answer carries.
| ``razorpay`` | ``razorpay`` (``X-Razorpay-Signature``) | ``RAZORPAY_WEBHOOK_SECRET`` | ``x-razorpay-event-id`` (4) |

The secret variables are the ones the reference service and ``payharness fakes`` use, so the lines
``payharness fakes --env-only`` prints can serve as a secrets file as they are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = [
    "DEFAULT_WEBHOOK_PATH",
    "RAIL_SPECS",
    "RailSpec",
    "event_id_of",
    "event_type_of",
    "header_value",
    "payment_object_of",
    "rail_from_headers",
    "rail_from_path",
]

#: The reference contract's webhook route; ``{rail}`` is replaced by the delivery's rail.
DEFAULT_WEBHOOK_PATH = "/v1/payments/webhook/{rail}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RailSpec:
    """One rail: the `fakes.signing` scheme that signs it and where its test secret comes from."""

    rail: str
    scheme: str
    secret_env: str
    signature_header: str


RAIL_SPECS: Mapping[str, RailSpec] = MappingProxyType(
    {
        spec.rail: spec
        for spec in (
            RailSpec(
                rail="stripe",
                scheme="stripe",
                secret_env="STRIPE_WEBHOOK_SECRET",
                signature_header="stripe-signature",
            ),
            RailSpec(
                rail="cdp",
                scheme="cdp",
                secret_env="CDP_WEBHOOK_SECRET",
                signature_header="x-hook0-signature",
            ),
            RailSpec(
                rail="xendit",
                scheme="xendit",
                secret_env="XENDIT_CALLBACK_TOKEN",
                signature_header="x-callback-token",
            ),
            RailSpec(
                rail="razorpay",
                scheme="razorpay",
                secret_env="RAZORPAY_WEBHOOK_SECRET",
                signature_header="x-razorpay-signature",
            ),
        )
    }
)
"""Rail name → how to sign it. Immutable: two replays in one process share nothing mutable."""


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive) among ``(name, value)`` pairs."""
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def rail_from_headers(headers: Iterable[tuple[str, str]]) -> str | None:
    """The rail whose signature header is present, if exactly one is."""
    names = {key.lower() for key, _ in headers}
    found = [spec.rail for spec in RAIL_SPECS.values() if spec.signature_header in names]
    return found[0] if len(found) == 1 else None


def rail_from_path(path: str) -> str | None:
    """The rail named by the last segment of a webhook path (``.../webhook/stripe`` → ``stripe``)."""
    segments = [s for s in path.split("?", 1)[0].split("/") if s]
    if segments and segments[-1].lower() in RAIL_SPECS:
        return segments[-1].lower()
    return None


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


def event_id_of(rail: str, headers: Iterable[tuple[str, str]], body: bytes) -> str:
    """The processor's identity of one delivery, as a receiver would dedupe it.

    * Stripe: the event object's ``id`` (the body is an ``event``, PROCESSORS.md 1.4).
    * CDP: the ``x-event-id`` header Hook0 signs, else the body's ``eventId`` or ``id`` (3.2).
    * Razorpay: the ``x-razorpay-event-id`` header, "unique per event" (4, RZP-VT).
    * Xendit callbacks carry no event id (2.1: no ``webhook-id`` found), so an enveloped callback is
      named by its ``id``, else ``<event>:<data.id>``, and a flat invoice callback by
      ``invoice:<id>:<STATUS>`` (its PAID and SETTLED callbacks share the invoice id, 2.4), the
      names the reference's Xendit adapter gives them.

    When none of these is present the id is ``sha256:<first 32 hex of the body's digest>``, so copies
    of one body still group together in the report.
    """
    headers = list(headers)
    payload = _json_object(body)
    found: str | None = None
    if rail == "stripe" and payload is not None:
        found = _text(payload.get("id"))
    elif rail == "cdp":
        found = header_value(headers, "x-event-id") or (
            _text(payload.get("eventId")) or _text(payload.get("id")) if payload else None
        )
    elif rail == "razorpay":
        found = header_value(headers, "x-razorpay-event-id")
    elif rail == "xendit" and payload is not None:
        data = payload.get("data")
        if "event" in payload and isinstance(data, dict):
            found = _text(payload.get("id")) or (
                f"{payload['event']}:{data['id']}" if _text(data.get("id")) else None
            )
        elif _text(payload.get("id")) and _text(payload.get("status")):
            found = f"invoice:{payload['id']}:{str(payload['status']).upper()}"
    return found or "sha256:" + hashlib.sha256(body).hexdigest()[:32]


def _path(payload: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def event_type_of(rail: str, headers: Iterable[tuple[str, str]], body: bytes) -> str | None:
    """The delivery's event type as the processor names it; None when the body does not say.

    Stripe and Razorpay: the body's ``type``/``event``; CDP: ``x-event-type``, else ``eventType`` or
    ``type``; Xendit: the envelope's ``event``, else ``invoice.<status>`` of a flat invoice callback.
    """
    payload = _json_object(body)
    if rail == "cdp":
        found = header_value(list(headers), "x-event-type")
        if found:
            return found
    if payload is None:
        return None
    if rail == "stripe":
        return _text(payload.get("type"))
    if rail == "razorpay":
        return _text(payload.get("event"))
    if rail == "cdp":
        return _text(payload.get("eventType")) or _text(payload.get("type"))
    if rail == "xendit":
        if "event" in payload and isinstance(payload.get("data"), dict):
            return _text(payload.get("event"))
        status = _text(payload.get("status"))
        return f"invoice.{status.lower()}" if status else None
    return None


#: Stripe event types that report money received: the payment object is ``data.object``.
STRIPE_PAYMENT_TYPES = frozenset(
    {
        "customer_cash_balance_transaction.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
    }
)


def payment_object_of(rail: str, body: bytes) -> str | None:
    """The processor object a money-moving delivery reports (payment, invoice, transfer); else None.

    Stripe: ``data.object.id`` of a `STRIPE_PAYMENT_TYPES` event; Xendit: the flat invoice's ``id`` or
    the envelope's ``data.id``; CDP: the transfer's transaction hash; Razorpay: the payment entity's id.
    Two event ids of one type reporting one such object are a processor re-reporting one payment.
    """
    payload = _json_object(body)
    if payload is None:
        return None
    found: Any = None
    if rail == "stripe" and payload.get("type") in STRIPE_PAYMENT_TYPES:
        found = _path(payload, "data", "object", "id")
    elif rail == "xendit":
        envelope = "event" in payload and isinstance(payload.get("data"), dict)
        found = _path(payload, "data", "id") if envelope else payload.get("id")
    elif rail == "cdp":
        nested = payload.get("data")
        data: dict[str, Any] = nested if isinstance(nested, dict) else payload
        found = next(
            (data.get(k) for k in ("transaction", "transactionHash", "txHash") if data.get(k)),
            None,
        )
    elif rail == "razorpay":
        found = _path(payload, "payload", "payment", "entity", "id")
    return _text(found)
