"""Payments status, top-ups on every rail, and paying an x402 top-up."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse

from ..credits import credit_payment
from ..errors import ApiError, error_body
from ..models import Account, Receipt, Topup
from ..money import MICROS_PER_CENT, micros_to_decimal_text
from ..rails.base import RAILS, PaymentReceived, RailError
from ..rails.cdp import PaymentDeclined, decode_x_payment
from ..state import ServiceState, get_state, new_id, parse_body, rail_error
from .schemas import ErrorBody, PaymentsStatus, PayResult, RailStatus, TopupCreate, TopupOut
from .views import topup_out

router = APIRouter(prefix="/v1/payments", tags=["payments"])

MONEY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody},
    404: {"model": ErrorBody, "description": "unknown_rail, account_not_found"},
    422: {"model": ErrorBody, "description": "validation_error"},
    502: {"model": ErrorBody, "description": "processor_error"},
    503: {"model": ErrorBody, "description": "payments_not_live, rail_not_configured"},
    504: {"model": ErrorBody, "description": "processor_error (timeout)"},
}


def _topup_schema() -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": TopupCreate.model_json_schema()}},
        }
    }


@router.get("/status", response_model=PaymentsStatus)
async def payments_status(state: ServiceState = Depends(get_state)) -> PaymentsStatus:
    """Live or dormant, and which rails are configured."""
    s = state.settings
    configured = {
        "stripe": s.stripe is not None,
        "cdp": s.cdp is not None,
        "xendit": s.xendit is not None,
    }
    return PaymentsStatus(
        live=s.payments_live, rails={r: RailStatus(configured=configured[r]) for r in RAILS}
    )


def _x402_body(state: ServiceState, topup: Topup, message: str, code: str) -> dict[str, Any]:
    # our error shape plus the x402 v1 fields, so x402 clients find `accepts` where the spec puts it
    body = error_body(code, message)
    body["x402Version"] = 1
    body["accepts"] = topup.details.get("payment_requirements", {}).get("accepts", [])
    return body


async def _topup_by_key(
    session: AsyncSession, account_id: str, rail: str, key: str | None
) -> Topup | None:
    stmt = select(Topup).where(
        Topup.account_id == account_id, Topup.rail == rail, Topup.client_key == key
    )
    return (await session.execute(stmt)).scalar_one_or_none()


@router.post(
    "/topup/{rail}",
    status_code=201,
    response_model=TopupOut,
    responses={
        200: {"model": TopupOut, "description": "replayed by Idempotency-Key"},
        **MONEY_ERRORS,
    },
    openapi_extra=_topup_schema(),
)
async def start_topup(
    rail: str,
    request: Request,
    idempotency_key: str | None = Header(default=None, max_length=255),
    state: ServiceState = Depends(get_state),
) -> JSONResponse:
    """Start a top-up at the processor; the same client `Idempotency-Key` returns the same top-up."""
    adapter = state.adapter(rail)
    body = await parse_body(request, TopupCreate)
    if rail == "stripe" and body.amount_micros % MICROS_PER_CENT:
        raise ApiError(422, "validation_error", "amount_micros: Stripe top-ups are whole cents")
    try:
        async with state.db.write() as session:
            account = await session.get(Account, body.account_id)
            if account is None:
                raise ApiError(404, "account_not_found", f"no account {body.account_id!r}")
            customer_ref = (
                account.stripe_customer_id if rail == "stripe" else account.xendit_customer_id
            )
            existing = None
            if idempotency_key:
                existing = await _topup_by_key(session, body.account_id, rail, idempotency_key)
            if existing is not None and existing.amount_micros != body.amount_micros:
                raise ApiError(
                    409,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different top-up",
                )
            topup = existing or Topup(
                id=new_id("top"),
                account_id=body.account_id,
                rail=rail,
                amount_micros=body.amount_micros,
                status="created",
                client_key=idempotency_key,
                details={},
            )
            if existing is None:
                session.add(topup)
    except IntegrityError:
        # a concurrent request with the same Idempotency-Key inserted the top-up first
        async with state.db.read() as session:
            existing = await _topup_by_key(session, body.account_id, rail, idempotency_key)
        if existing is None or existing.status == "created":
            raise ApiError(
                409, "conflict", "concurrent top-up start with this Idempotency-Key; retry"
            ) from None
        if existing.amount_micros != body.amount_micros:
            raise ApiError(
                409,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different top-up",
            ) from None
        topup = existing
    replay = existing is not None and existing.status != "created"
    if replay:
        return JSONResponse(topup_out(topup).model_dump(mode="json"), status_code=200)
    try:
        started = await adapter.start_topup(
            topup_id=topup.id,
            account_id=topup.account_id,
            amount_micros=topup.amount_micros,
            customer_ref=customer_ref,
        )
    except RailError as exc:
        raise rail_error(exc) from exc
    details = dict(started.details)
    if rail == "cdp" and state.cdp is not None:
        resource = (
            f"{state.settings.public_base_url.rstrip('/')}/v1/payments/topup/cdp/{topup.id}/pay"
        )
        details["payment_requirements"] = {
            "x402Version": 1,
            "accepts": [
                state.cdp.requirements(
                    amount_micros=topup.amount_micros,
                    resource=resource,
                    description=f"payharness top-up {topup.id}",
                )
            ],
        }
        details["pay_url"] = f"/v1/payments/topup/cdp/{topup.id}/pay"
    try:
        async with state.db.write() as session:
            row = await session.get(Topup, topup.id)
            assert row is not None
            row.status = "pending"
            row.processor_ref = started.processor_ref
            row.details = details
            if started.customer_ref:
                acct = await session.get(Account, row.account_id)
                if acct is not None and rail == "stripe" and not acct.stripe_customer_id:
                    acct.stripe_customer_id = started.customer_ref
                if acct is not None and rail == "xendit" and not acct.xendit_customer_id:
                    acct.xendit_customer_id = started.customer_ref
            topup = row
    except IntegrityError as exc:
        raise ApiError(409, "conflict", "concurrent top-up start; retry with the same key") from exc
    return JSONResponse(
        topup_out(topup).model_dump(mode="json"), status_code=200 if existing else 201
    )


@router.post(
    "/topup/cdp/{topup_id}/pay",
    response_model=PayResult,
    responses={
        402: {
            "model": ErrorBody,
            "description": "payment_required, payment_declined (+ x402 accepts)",
        },
        **MONEY_ERRORS,
    },
)
async def pay_cdp_topup(
    topup_id: str,
    x_payment: str | None = Header(default=None, alias="X-PAYMENT"),
    state: ServiceState = Depends(get_state),
) -> JSONResponse:
    """Verify and settle an x402 payment at the facilitator, and credit it once per settled payment."""
    state.adapter("cdp")
    cdp = state.cdp
    assert cdp is not None
    async with state.db.read() as session:
        topup = await session.get(Topup, topup_id)
    if topup is None or topup.rail != "cdp":
        raise ApiError(404, "topup_not_found", f"no CDP top-up {topup_id!r}")
    if topup.status == "paid":
        return JSONResponse(
            PayResult(
                topup=topup_out(topup),
                transaction=topup.details.get("transaction"),
                credited_micros=0,
            ).model_dump(mode="json")
        )
    accepts = topup.details.get("payment_requirements", {}).get("accepts", [])
    if not x_payment:
        return JSONResponse(
            _x402_body(state, topup, "X-PAYMENT header is required", "payment_required"),
            status_code=402,
        )
    try:
        payload = decode_x_payment(x_payment)
    except ValueError as exc:
        raise ApiError(400, "invalid_payment", str(exc)) from exc
    if not accepts:
        raise ApiError(409, "topup_not_payable", "this top-up has no payment requirements")
    requirements = accepts[0]
    nonce = (payload.payload.get("authorization") or {}).get("nonce")
    if nonce:
        # recorded before the settle: the facilitator's settlement webhook, which names the nonce, can
        # land before this request finishes and must find the top-up (and its account) by it
        async with state.db.write() as session:
            row = await session.get(Topup, topup_id)
            assert row is not None
            row.details = {**row.details, "nonce": str(nonce)}
    try:
        settled = await cdp.verify_and_settle(payload, requirements)
    except PaymentDeclined as exc:
        body = _x402_body(state, topup, f"payment declined: {exc.reason}", "payment_declined")
        body["error"]["details"] = {"reason": exc.reason}
        return JSONResponse(body, status_code=402)
    except RailError as exc:
        raise rail_error(exc) from exc
    async with state.db.write() as session:
        row = await session.get(Topup, topup_id)
        assert row is not None
        row.details = {**row.details, "nonce": nonce, "transaction": settled.transaction}
        await credit_payment(
            await session.connection(),
            "cdp",
            PaymentReceived(
                processor_ref=settled.transaction,
                amount_text=micros_to_decimal_text(settled.amount_micros),
                currency="USD",
                amount_micros=settled.amount_micros,
                customer_ref=settled.payer,
                topup_ref=topup_id,
            ),
            None,
            row_lock=state.db.supports_row_locks,
        )
        row.status = "paid"
        topup = row
        recorded = (
            await session.execute(
                select(Receipt).where(
                    Receipt.rail == "cdp", Receipt.processor_ref == settled.transaction
                )
            )
        ).scalar_one()
        # credited by this request or by the settlement webhook that overtook it: either way, once
        credited = recorded.amount_micros or 0
        if not recorded.credited or recorded.account_id != row.account_id:
            credited = 0
    receipt = {
        "success": True,
        "transaction": settled.transaction,
        "network": settled.network,
        "payer": settled.payer,
    }
    return JSONResponse(
        PayResult(
            topup=topup_out(topup),
            transaction=settled.transaction,
            credited_micros=credited,
        ).model_dump(mode="json"),
        headers={"X-PAYMENT-RESPONSE": base64.b64encode(json.dumps(receipt).encode()).decode()},
    )
