"""Processor webhooks: check order, verification, dedupe by processor event id, apply."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from sqlalchemy.exc import IntegrityError

from ..errors import ApiError
from ..models import WebhookEvent
from ..rails.base import (
    PayloadInvalid,
    PaymentReceived,
    ProcessorEvent,
    SignatureInvalid,
    SignatureMissing,
    SubscriptionCanceled,
    SubscriptionLinked,
)
from ..state import ServiceState, get_state
from .schemas import ErrorBody, WebhookResult

router = APIRouter(prefix="/v1/payments", tags=["webhooks"])
log = logging.getLogger("payharness.reference.webhooks")


@router.post(
    "/webhook/{rail}",
    response_model=WebhookResult,
    response_model_exclude_none=True,  # `reason` is absent when the event was applied
    responses={
        400: {
            "model": ErrorBody,
            "description": "missing_signature_header, webhook_signature_invalid, invalid_payload",
        },
        404: {"model": ErrorBody, "description": "unknown_rail"},
        500: {"model": ErrorBody, "description": "internal_error (the processor retries safely)"},
        503: {"model": ErrorBody, "description": "payments_not_live, rail_not_configured"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def receive_webhook(
    rail: str, request: Request, state: ServiceState = Depends(get_state)
) -> WebhookResult:
    """Order: 404 unknown_rail → 503 payments_not_live → 400 missing_signature_header →
    400 webhook_signature_invalid → 400 invalid_payload. Verification happens before any write."""
    adapter = state.adapter(rail)  # unknown rail, then dormant, then unconfigured
    body = await request.body()
    try:
        adapter.verify_webhook(body, request.headers)
    except SignatureMissing as exc:
        state.metrics.signature_failures.labels(rail=rail, reason="missing").inc()
        state.metrics.webhooks.labels(rail=rail, outcome="rejected").inc()
        raise ApiError(400, "missing_signature_header", str(exc)) from exc
    except SignatureInvalid as exc:
        state.metrics.signature_failures.labels(rail=rail, reason="invalid").inc()
        state.metrics.webhooks.labels(rail=rail, outcome="rejected").inc()
        raise ApiError(400, "webhook_signature_invalid", str(exc)) from exc
    try:
        event = adapter.parse_webhook(body, request.headers)
    except PayloadInvalid as exc:
        state.metrics.webhooks.labels(rail=rail, outcome="invalid").inc()
        raise ApiError(400, "invalid_payload", str(exc)) from exc
    try:
        async with state.db.write() as session:
            record = WebhookEvent(
                rail=rail, event_id=event.event_id, event_type=event.event_type, outcome="pending"
            )
            session.add(record)
            await session.flush()  # the unique (rail, event_id) key is the dedupe
            record.outcome = await state.components.apply_effects(
                session, rail, event.event_id, event.effects, row_lock=state.db.supports_row_locks
            )
            outcome = record.outcome
    except IntegrityError:
        state.metrics.webhooks.labels(rail=rail, outcome="duplicate").inc()
        return WebhookResult(
            status="duplicate",
            rail=rail,
            event_id=event.event_id,
            event_type=event.event_type,
            reason=f"event_already_received: {rail} event {event.event_id} was received before",
        )
    status = "applied" if outcome == "applied" else outcome
    if status not in ("applied", "ignored", "not_credited"):
        status = "duplicate" if outcome == "duplicate_payment" else "ignored"
    state.metrics.webhooks.labels(rail=rail, outcome=status).inc()
    log.info("webhook %s %s %s -> %s", rail, event.event_type, event.event_id, status)
    return WebhookResult(
        status=status,  # type: ignore[arg-type]
        rail=rail,
        event_id=event.event_id,
        event_type=event.event_type,
        reason=_reason(event, status),
    )


def _reason(event: ProcessorEvent, status: str) -> str | None:
    """Why a verified event changed nothing (`<code>: <detail>`), read from what it carried."""
    if status == "applied":
        return None
    if not event.effects:
        return f"event_not_acted_on: {event.event_type} moves no money and changes no plan"
    effect = event.effects[0]
    if isinstance(effect, PaymentReceived):
        ref = f"payment {effect.processor_ref}"
        if status == "duplicate":
            return f"payment_already_recorded: {ref} was already reported by another event"
        if effect.amount_micros is None:
            return (
                f"currency_not_credited: {ref} is {effect.amount_text} {effect.currency}; only USD "
                "is credited (kept for reconciliation)"
            )
        if effect.amount_micros <= 0:
            return f"amount_not_positive: {ref} is {effect.amount_text} {effect.currency}"
        return (
            f"payment_not_attributable: {ref} names no top-up, account or customer of this "
            "service (kept for reconciliation)"
        )
    if isinstance(effect, SubscriptionLinked):
        return (
            f"subscription_link_only: subscription {effect.subscription_ref} was linked; the "
            "plan changes when its invoice is paid"
        )
    if isinstance(effect, SubscriptionCanceled):
        return (
            f"subscription_not_found: no subscription {effect.subscription_ref}; its "
            "cancellation is remembered for a late paid event"
        )
    return (
        f"subscription_not_active: subscription {effect.subscription_ref} is unknown, names no "
        "account and plan, or was canceled"
    )
