"""Processor webhooks: check order, verification, dedupe by processor event id, apply."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import insert_ignore, retrying
from ..effects import apply_effects
from ..errors import ApiError
from ..inputs import check_event
from ..models import Base, utcnow
from ..pg_credits import FunctionMissing
from ..rails.base import (
    PayloadInvalid,
    PaymentReceived,
    ProcessorEvent,
    SignatureInvalid,
    SignatureMissing,
    SubscriptionCanceled,
    SubscriptionLinked,
)
from ..state import ServiceState
from .schemas import ErrorBody, WebhookResult

router = APIRouter(prefix="/v1/payments", tags=["webhooks"])
log = logging.getLogger("payharness.reference.webhooks")

_USUAL_OUTCOME = "applied"
_EVENTS = Base.metadata.tables["webhook_events"]


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
async def receive_webhook(rail: str, request: Request) -> Response:
    """Order: 404 unknown_rail → 503 payments_not_live → 400 missing_signature_header →
    400 webhook_signature_invalid → 400 invalid_payload. Verification happens before any write."""
    # the hot path of a payments service: the state is read without a dependency, and the answer is
    # encoded once rather than validated again against `response_model` (which still documents it)
    state: ServiceState = request.app.state.service
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
        check_event(event)  # a signed event no column can hold is refused once, never a 5xx retried
    except Exception as exc:  # a verified body we cannot read is the sender's 400, whatever broke
        state.metrics.webhooks.labels(rail=rail, outcome="invalid").inc()
        if not isinstance(exc, PayloadInvalid):
            log.warning("unreadable verified %s event: %r", rail, exc)
        reason = "JSON is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ApiError(400, "invalid_payload", reason[:300]) from exc

    outcome = await _record_and_apply(state, rail, event)
    if outcome is None:
        state.metrics.webhooks.labels(rail=rail, outcome="duplicate").inc()
        return _answer(
            WebhookResult(
                status="duplicate",
                rail=rail,
                event_id=event.event_id,
                event_type=event.event_type,
                reason=f"event_already_received: {rail} event {event.event_id} was received before",
            )
        )
    status = "applied" if outcome == "applied" else outcome
    if status not in ("applied", "ignored", "not_credited"):
        status = "duplicate" if outcome == "duplicate_payment" else "ignored"
    state.metrics.webhooks.labels(rail=rail, outcome=status).inc()
    log.info("webhook %s %s %s -> %s", rail, event.event_type, event.event_id, status)
    return _answer(
        WebhookResult(
            status=status,  # type: ignore[arg-type]
            rail=rail,
            event_id=event.event_id,
            event_type=event.event_type,
            reason=_reason(event, status),
        )
    )


def _answer(result: WebhookResult) -> Response:
    # `reason` is absent when the event was applied (exclude_none, as the route's response_model says)
    return Response(result.model_dump_json(exclude_none=True), media_type="application/json")


async def _record_and_apply(state: ServiceState, rail: str, event: ProcessorEvent) -> str | None:
    """Record the event once and apply its effects in one transaction: the outcome, or None when the
    event was delivered before."""
    payments = state.db.payment_function
    effects = event.effects
    if (
        payments is not None
        and state.components.apply_effects is apply_effects
        and len(effects) == 1
        and isinstance(effects[0], PaymentReceived)
    ):
        payment = effects[0]
        try:
            # one round trip on PostgreSQL, the same algorithm as below (pg_credits)
            return await retrying(
                lambda: payments.apply(rail, event.event_id, event.event_type, payment, utcnow())
            )
        except IntegrityError:
            return None  # a concurrent delivery of the same event won a unique key
        except FunctionMissing as exc:
            # a schema made without create_schema: the Python path from now on, said once
            log.warning("%s; payment webhooks take the slower session path", exc)
            state.db.payment_function = None

    async def apply(session: AsyncSession) -> str | None:
        # the unique (rail, event_id) key is the dedupe, in one statement; the row is written with the
        # usual outcome and corrected in the same transaction when the effects say otherwise
        conn = await session.connection()
        record_id = await conn.scalar(
            insert_ignore(conn, _EVENTS)
            .values(
                rail=rail,
                event_id=event.event_id,
                event_type=event.event_type,
                outcome=_USUAL_OUTCOME,
                received_at=utcnow(),
            )
            .returning(_EVENTS.c.id)
        )
        if record_id is None:
            return None  # delivered before
        outcome: str = await state.components.apply_effects(
            session, rail, event.event_id, effects, row_lock=state.db.supports_row_locks
        )
        if outcome != _USUAL_OUTCOME:
            await conn.execute(
                update(_EVENTS).where(_EVENTS.c.id == record_id).values(outcome=outcome)
            )
        return outcome

    try:
        # run again from the start if PostgreSQL breaks a deadlock between two events of one account
        return await state.db.transaction(apply)
    except IntegrityError:
        return None  # a concurrent delivery of the same event won the unique key


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
