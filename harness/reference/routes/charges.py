"""Metered outcomes and their customer charges (idempotent per inference)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.exc import IntegrityError
from starlette.responses import JSONResponse

from ..errors import ApiError
from ..ledger import available_micros, get_account_for_update, post_entry
from ..models import Account, Charge, Outcome
from ..state import ServiceState, get_state, parse_body
from .payments import MONEY_ERRORS
from .schemas import ChargeCreate, ChargeResult, ErrorBody, OutcomeCreate, OutcomeOut

router = APIRouter(prefix="/v1", tags=["charges"])


@router.post(
    "/outcomes",
    status_code=201,
    response_model=OutcomeOut,
    responses={
        404: {"model": ErrorBody, "description": "account_not_found"},
        409: {"model": ErrorBody, "description": "duplicate_outcome"},
    },
)
async def record_outcome(
    body: OutcomeCreate, state: ServiceState = Depends(get_state)
) -> OutcomeOut:
    """Record the provider cost of one inference; an inference has exactly one outcome (defect 6)."""
    try:
        async with state.db.write() as session:
            if await session.get(Account, body.account_id) is None:
                raise ApiError(404, "account_not_found", f"no account {body.account_id!r}")
            if await session.get(Outcome, body.inference_id) is not None:
                raise ApiError(409, "duplicate_outcome", f"outcome {body.inference_id!r} exists")
            outcome = Outcome(
                inference_id=body.inference_id,
                account_id=body.account_id,
                cost_micros=body.cost_micros,
            )
            session.add(outcome)
            await session.flush()
    except IntegrityError as exc:
        raise ApiError(409, "duplicate_outcome", f"outcome {body.inference_id!r} exists") from exc
    return OutcomeOut(
        inference_id=outcome.inference_id,
        account_id=outcome.account_id,
        cost_micros=outcome.cost_micros,
        created_at=outcome.created_at,
    )


def _result(c: Charge, balance: int, replayed: bool) -> ChargeResult:
    return ChargeResult(
        inference_id=c.inference_id,
        account_id=c.account_id,
        status="charged",
        cost_micros=c.cost_micros,
        margin_bps=c.margin_bps,
        margin_bps_requested=c.margin_bps_requested,
        charged_micros=c.charged_micros,
        ledger_entry_id=c.ledger_entry_id,
        balance_micros=balance,
        replayed=replayed,
    )


async def _replay(state: ServiceState, inference_id: str) -> ChargeResult | None:
    async with state.db.read() as session:
        charge = await session.get(Charge, inference_id)
        if charge is None:
            return None
        account = await session.get(Account, charge.account_id)
        return _result(charge, account.balance_micros if account else 0, True)


@router.post(
    "/charges",
    response_model=ChargeResult,
    responses={
        **MONEY_ERRORS,
        402: {"model": ErrorBody, "description": "insufficient_credit"},
        404: {"model": ErrorBody, "description": "outcome_not_found"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ChargeCreate.model_json_schema()}},
        }
    },
)
async def charge(request: Request, state: ServiceState = Depends(get_state)) -> JSONResponse:
    """Charge an outcome from the wallet: `cost + ceil(cost * effective_margin / 10_000)`, once."""
    state.require_live()
    body = await parse_body(request, ChargeCreate)
    s = state.settings
    replay = await _replay(state, body.inference_id)
    if replay is not None:
        return JSONResponse(replay.model_dump(mode="json"))
    async with state.db.read() as session:
        outcome = await session.get(Outcome, body.inference_id)
    if outcome is None:
        raise ApiError(404, "outcome_not_found", f"no outcome for inference {body.inference_id!r}")
    requested = body.margin_bps if body.margin_bps is not None else s.default_margin_bps
    priced = state.components.pricing(
        outcome.cost_micros, requested, min_bps=s.min_margin_bps, max_bps=s.max_margin_bps
    )
    if priced.charged_micros == 0:
        state.metrics.charges.labels(status="skipped_zero_cost").inc()
        async with state.db.read() as session:
            account = await session.get(Account, outcome.account_id)
        return JSONResponse(
            ChargeResult(
                inference_id=outcome.inference_id,
                account_id=outcome.account_id,
                status="skipped_zero_cost",
                cost_micros=0,
                margin_bps=priced.margin_bps,
                margin_bps_requested=body.margin_bps,
                charged_micros=0,
                ledger_entry_id=None,
                balance_micros=account.balance_micros if account else 0,
                replayed=False,
            ).model_dump(mode="json")
        )
    try:
        async with state.db.write() as session:
            account = await get_account_for_update(
                session, outcome.account_id, row_lock=state.db.supports_row_locks
            )
            if account is None:
                raise ApiError(404, "account_not_found", f"no account {outcome.account_id!r}")
            if await session.get(Charge, outcome.inference_id) is not None:
                raise IntegrityError("charge exists", None, Exception("duplicate"))
            # what open usage sessions hold is not spendable here (their settles must not overdraw)
            available = await available_micros(session, account)
            if available < priced.charged_micros:
                state.metrics.charges.labels(status="insufficient_credit").inc()
                raise ApiError(
                    402,
                    "insufficient_credit",
                    f"available balance {available} < charge {priced.charged_micros} micros",
                    details={
                        "balance_micros": account.balance_micros,
                        "charged_micros": priced.charged_micros,
                    },
                )
            entry = await post_entry(
                session,
                account,
                kind="debit",
                direction=-1,
                amount_micros=priced.charged_micros,
                source="charge",
                reference=outcome.inference_id,
                idempotency_key=f"charge:{outcome.inference_id}",
                memo=f"cost {priced.cost_micros} margin {priced.margin_bps} bps",
            )
            record = Charge(
                inference_id=outcome.inference_id,
                account_id=account.id,
                cost_micros=priced.cost_micros,
                margin_bps_requested=body.margin_bps,
                margin_bps=priced.margin_bps,
                charged_micros=priced.charged_micros,
                ledger_entry_id=entry.id,
            )
            session.add(record)
            await session.flush()
            balance = account.balance_micros
    except IntegrityError:
        replay = await _replay(state, body.inference_id)
        if replay is None:
            raise
        return JSONResponse(replay.model_dump(mode="json"))
    state.metrics.charges.labels(status="charged").inc()
    return JSONResponse(_result(record, balance, False).model_dump(mode="json"))
