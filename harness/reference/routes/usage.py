"""`POST /v1/usage`: a paid, metered request under a PaymentSession that settles at close."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from starlette.responses import JSONResponse, Response

from ..errors import ApiError, error_body
from ..ledger import get_account_for_update, post_entry
from ..models import Account, Settlement
from ..rails.cdp import authorized_micros, decode_x_payment
from ..sessions import PaymentSession
from ..state import ServiceState, get_state, new_id, parse_body
from .schemas import ErrorBody, UsageCreate, UsageOut

router = APIRouter(prefix="/v1", tags=["usage"])


def _open_session(
    state: ServiceState, request_id: str, body: UsageCreate, x_payment: str | None, balance: int
) -> PaymentSession:
    """Open the session and capture its settle closure now (never looked up again at close)."""
    db, metrics, timeout = state.db, state.metrics, state.settings.settle_timeout_seconds
    account_id = body.account_id

    async def record(outcome: str, spent: int, tx: str | None, protocol: str) -> None:
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

    if x_payment is not None:
        cdp = state.cdp
        if cdp is None:
            raise ApiError(503, "rail_not_configured", "x402 payments need the cdp rail")
        try:
            payload = decode_x_payment(x_payment)
            cap = authorized_micros(payload)
        except ValueError as exc:
            raise ApiError(400, "invalid_payment", str(exc)) from exc
        requirements = cdp.requirements(
            amount_micros=cap,
            resource=f"{state.settings.public_base_url.rstrip('/')}/v1/usage",
            description="payharness metered usage",
        )

        async def settle_x402(spent: int) -> str | None:
            if spent < cap:
                # the x402 exact scheme settles the authorised value; the metered actual is dropped
                import logging

                logging.getLogger("payharness.reference.settle").warning(
                    "settle_actual_dropped protocol=x402 spent=%d authorised=%d", spent, cap
                )
            settled = await cdp.settle(payload, requirements)
            return settled.transaction

        return state.components.session_class(
            protocol="x402",
            cap_micros=cap,
            settle=settle_x402,
            metrics=metrics,
            timeout_seconds=timeout,
            on_done=lambda o, s, t: record(o, s, t, "x402"),
        )

    async def settle_wallet(spent: int) -> str | None:
        async with db.write() as session:
            account = await get_account_for_update(
                session, account_id or "", row_lock=db.supports_row_locks
            )
            if account is None:
                raise RuntimeError(f"account {account_id} vanished before settle")
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

    return state.components.session_class(
        protocol="wallet",
        cap_micros=max(balance, 0),
        settle=settle_wallet,
        metrics=metrics,
        timeout_seconds=timeout,
        on_done=lambda o, s, t: record(o, s, t, "wallet"),
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
        503: {"model": ErrorBody, "description": "rail_not_configured"},
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
        balance = 0
        if x_payment is None:
            if not body.account_id:
                raise ApiError(
                    402, "payment_required", "send X-PAYMENT or an account_id with wallet credit"
                )
            async with state.db.read() as db_session:
                account = await db_session.get(Account, body.account_id)
            if account is None:
                raise ApiError(404, "account_not_found", f"no account {body.account_id!r}")
            balance = account.balance_micros
        session = _open_session(state, request_id, body, x_payment, balance)
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
