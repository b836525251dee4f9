"""`POST /v1/usage`: a paid, metered request under a PaymentSession that settles at close."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from starlette.responses import JSONResponse, Response

from ..errors import ApiError, error_body
from ..inputs import MAX_PAYMENT_MICROS
from ..ledger import get_account_for_update, post_entry, release_reservation, reserve
from ..models import Settlement
from ..rails.base import RailError
from ..rails.cdp import PaymentDeclined, authorized_micros, decode_x_payment
from ..sessions import PaymentSession
from ..state import ServiceState, get_state, new_id, parse_body, rail_error
from .schemas import ErrorBody, UsageCreate, UsageOut

router = APIRouter(prefix="/v1", tags=["usage"])
log = logging.getLogger("payharness.reference.settle")

#: how long past its longest possible run a wallet session's hold outlives a process that died holding it
RESERVATION_GRACE_SECONDS = 600.0


def _recorder(
    state: ServiceState, request_id: str, account_id: str | None, protocol: str
) -> Callable[[str, int, str | None], Awaitable[None]]:
    db = state.db

    async def record(outcome: str, spent: int, tx: str | None) -> None:
        async with db.write() as session:
            session.add(
                Settlement(
                    request_id=request_id,
                    protocol=protocol,
                    account_id=account_id,
                    amount_micros=spent,
                    outcome=outcome,
                    transaction=tx,
                )
            )

    return record


def _x402_refusal(requirements: dict[str, Any], message: str, reason: str) -> ApiError:
    """402 `payment_required` with the x402 v1 fields, so a client can pay and retry."""
    return ApiError(
        402,
        "payment_required",
        message,
        details={"reason": reason},
        extra={"x402Version": 1, "accepts": [requirements]},
    )


async def _open_x402_session(
    state: ServiceState, request_id: str, x_payment: str
) -> PaymentSession:
    """Verify the payment at the facilitator before the first unit; the cap is the verified value."""
    cdp = state.cdp
    if cdp is None:
        raise ApiError(503, "rail_not_configured", "x402 payments need the cdp rail")
    try:
        payload = decode_x_payment(x_payment)
        cap = authorized_micros(payload)
    except ValueError as exc:
        raise ApiError(400, "invalid_payment", str(exc)) from exc
    requirements = cdp.requirements(
        amount_micros=max(cap, 1),
        resource=f"{state.settings.public_base_url.rstrip('/')}/v1/usage",
        description="payharness metered usage",
    )
    if not 0 < cap <= MAX_PAYMENT_MICROS:
        raise _x402_refusal(requirements, "the authorised value is out of range", "invalid_value")
    auth = payload.payload.get("authorization") or {}
    key = f"{auth.get('from')}:{auth.get('nonce')}"
    if key in state.x402_in_use:
        raise _x402_refusal(requirements, "this payment is already in use", "payment_in_use")
    state.x402_in_use.add(key)
    try:
        cap = await cdp.verify(payload, requirements)
    except PaymentDeclined as exc:
        state.x402_in_use.discard(key)
        raise _x402_refusal(
            requirements, f"payment did not verify: {exc.reason}", exc.reason
        ) from exc
    except RailError as exc:
        state.x402_in_use.discard(key)
        raise rail_error(exc) from exc
    record = _recorder(state, request_id, None, "x402")

    async def settle_x402(spent: int) -> str | None:
        if spent < cap:
            # the x402 exact scheme settles the authorised value; the metered actual is dropped
            log.warning("settle_actual_dropped protocol=x402 spent=%d authorised=%d", spent, cap)
        settled = await cdp.settle(payload, requirements)
        return settled.transaction

    async def done(outcome: str, spent: int, tx: str | None) -> None:
        state.x402_in_use.discard(key)
        await record(outcome, spent, tx)

    async def unused() -> None:
        state.x402_in_use.discard(
            key
        )  # nothing was spent, nothing settled: the payment is still good

    return state.components.session_class(
        protocol="x402",
        cap_micros=cap,
        settle=settle_x402,
        metrics=state.metrics,
        timeout_seconds=state.settings.settle_timeout_seconds,
        on_done=done,
        release=unused,
    )


async def _open_wallet_session(
    state: ServiceState, request_id: str, body: UsageCreate
) -> PaymentSession:
    """Reserve the session's cap on the wallet first: open sessions never hold more than the balance."""
    db = state.db
    account_id = body.account_id
    if not account_id:
        raise ApiError(
            402, "payment_required", "send X-PAYMENT or an account_id with wallet credit"
        )
    wanted = sum(body.charges_micros)
    ttl = (
        state.settings.settle_timeout_seconds
        + len(body.charges_micros) * body.chunk_delay_ms / 1000
        + RESERVATION_GRACE_SECONDS
    )
    async with db.write() as session:
        account = await get_account_for_update(session, account_id, row_lock=db.supports_row_locks)
        if account is None:
            raise ApiError(404, "account_not_found", f"no account {account_id!r}")
        cap = await reserve(session, account, request_id, wanted, ttl_seconds=ttl)
        if wanted > 0 and cap <= 0:
            raise ApiError(
                402,
                "insufficient_credit",
                "no available credit: the balance is held by open sessions or is empty",
                details={"balance_micros": account.balance_micros, "requested_micros": wanted},
            )

    async def settle_wallet(spent: int) -> str | None:
        async with db.write() as session:
            account = await get_account_for_update(
                session, account_id or "", row_lock=db.supports_row_locks
            )
            if account is None:
                raise RuntimeError(f"account {account_id} vanished before settle")
            await release_reservation(session, request_id)
            if account.balance_micros < spent:
                raise RuntimeError(
                    f"insufficient_credit: balance {account.balance_micros} < spent {spent}"
                )
            entry = await post_entry(
                session,
                account,
                kind="debit",
                direction=-1,
                amount_micros=spent,
                source="settle",
                reference=request_id,
                idempotency_key=f"settle:{request_id}",
                memo="usage settled at close",
            )
            return f"ledger:{entry.id}"

    async def release() -> None:
        async with db.write() as session:
            await release_reservation(session, request_id)

    return state.components.session_class(
        protocol="wallet",
        cap_micros=cap,
        settle=settle_wallet,
        metrics=state.metrics,
        timeout_seconds=state.settings.settle_timeout_seconds,
        on_done=_recorder(state, request_id, account_id, "wallet"),
        release=release,
    )


@router.post(
    "/usage",
    response_model=UsageOut,
    responses={
        200: {"content": {"text/event-stream": {}}},
        400: {"model": ErrorBody, "description": "invalid_payment"},
        402: {"model": ErrorBody, "description": "payment_required, insufficient_credit"},
        404: {"model": ErrorBody, "description": "account_not_found"},
        422: {"model": ErrorBody, "description": "validation_error"},
        502: {"model": ErrorBody, "description": "processor_error (facilitator verify)"},
        503: {"model": ErrorBody, "description": "rail_not_configured"},
        504: {"model": ErrorBody, "description": "processor_error (timeout)"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": UsageCreate.model_json_schema()}},
        }
    },
)
async def usage(
    request: Request,
    x_payment: str | None = Header(default=None, alias="X-PAYMENT"),
    state: ServiceState = Depends(get_state),
) -> Response:
    """Serve a metered request; charge each unit from the session; settle once when the response ends.

    Dormant: served for free, no session, no debit, no settle.
    """
    body = await parse_body(request, UsageCreate)
    if any(c < 0 or c > 10**12 for c in body.charges_micros):
        raise ApiError(422, "validation_error", "charges_micros: each charge is 0..10^12")
    request_id = new_id("req")
    live = state.settings.payments_live
    session: PaymentSession | None = None
    if live:
        if x_payment is not None:
            session = await _open_x402_session(state, request_id, x_payment)
        else:
            session = await _open_wallet_session(state, request_id, body)
    headers = {"X-Request-Id": request_id}
    if body.stream:
        return _stream(state, body, session, request_id, headers)
    output: list[str] = []
    for i, amount in enumerate(body.charges_micros):
        if session is not None and not session.charge(amount):
            code = "payment_required" if session.protocol == "x402" else "insufficient_credit"
            err = error_body(
                code,
                f"charge {amount} passes the session cap",
                {
                    "cap_micros": session.cap_micros,
                    "spent_micros": session.spent_micros,
                    "requested_micros": amount,
                },
            )
            await session.close()  # settles what was spent before the refused charge
            return JSONResponse(err, status_code=402, headers=headers)
        output.append(f"unit {i}")
    out = UsageOut(
        request_id=request_id,
        live=live,
        protocol=session.protocol if session else None,
        cap_micros=session.cap_micros if session else None,
        spent_micros=session.spent_micros if session else 0,
        output=output,
    )
    if session is not None:
        await session.close()  # after the route's work, before the body leaves: one settle
    return JSONResponse(out.model_dump(mode="json"), headers=headers)


def _stream(
    state: ServiceState,
    body: UsageCreate,
    session: PaymentSession | None,
    request_id: str,
    headers: dict[str, str],
) -> Response:
    async def events() -> AsyncIterator[bytes]:
        for i, amount in enumerate(body.charges_micros):
            if session is not None and not session.charge(amount):
                err = {"code": "insufficient_credit", "requested_micros": amount}
                yield f"event: error\ndata: {json.dumps(err)}\n\n".encode()
                return
            spent = session.spent_micros if session else 0
            yield f"data: {json.dumps({'unit': i, 'spent_micros': spent})}\n\n".encode()
            if body.chunk_delay_ms:
                await asyncio.sleep(body.chunk_delay_ms / 1000)

    async def close() -> Any:
        if session is not None:
            return await session.close()
        return None

    def terminator() -> bytes:
        done = {"request_id": request_id, "spent_micros": session.spent_micros if session else 0}
        return f"event: done\ndata: {json.dumps(done)}\n\n".encode()

    return state.components.stream_response_class(
        events(), close=close, terminator=terminator, headers=headers
    )
