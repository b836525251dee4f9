"""Accounts and their ledger."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import delete, select
from starlette.responses import Response

from ..errors import ApiError
from ..models import Account, LedgerEntry
from ..state import ServiceState, get_state, new_id
from .schemas import AccountCreate, AccountOut, ErrorBody, LedgerOut
from .views import account_out, entry_out

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "account_not_found"}
}


async def load_account(state: ServiceState, account_id: str) -> Account:
    """The account, or 404 `account_not_found`."""
    async with state.db.read() as session:
        account = await session.get(Account, account_id)
    if account is None:
        raise ApiError(404, "account_not_found", f"no account {account_id!r}")
    return account


@router.post("", status_code=201, response_model=AccountOut)
async def create_account(
    body: AccountCreate, state: ServiceState = Depends(get_state)
) -> AccountOut:
    """Create an account (test-cohort accounts are the only ones that can be deleted)."""
    async with state.db.write() as session:
        account = Account(
            id=new_id("acct"),
            email=body.email,
            is_test_cohort=body.is_test_cohort,
            balance_micros=0,
            lifetime_paid_micros=0,
            plan_tier="free",
        )
        session.add(account)
        await session.flush()
    return account_out(account)


@router.get("/{account_id}", response_model=AccountOut, responses=NOT_FOUND)
async def get_account(account_id: str, state: ServiceState = Depends(get_state)) -> AccountOut:
    """Balance, lifetime paid and plan tier."""
    return account_out(await load_account(state, account_id))


@router.delete(
    "/{account_id}",
    status_code=204,
    response_class=Response,
    responses={**NOT_FOUND, 409: {"model": ErrorBody, "description": "not_test_cohort"}},
)
async def delete_account(account_id: str, state: ServiceState = Depends(get_state)) -> Response:
    """Reap a test-cohort account; the guard lives in the DELETE itself, so a real one is never touched."""
    async with state.db.write() as session:
        result = await session.execute(
            delete(Account).where(Account.id == account_id, Account.is_test_cohort.is_(True))
        )
        deleted = getattr(result, "rowcount", 0)
        if not deleted:
            exists = await session.get(Account, account_id)
            if exists is None:
                raise ApiError(404, "account_not_found", f"no account {account_id!r}")
            raise ApiError(409, "not_test_cohort", "only test-cohort accounts can be deleted")
    return Response(status_code=204)


@router.get("/{account_id}/ledger", response_model=LedgerOut, responses=NOT_FOUND)
async def get_ledger(
    account_id: str,
    limit: int = Query(default=100, ge=1, le=1000),
    state: ServiceState = Depends(get_state),
) -> LedgerOut:
    """Append-only entries, newest first."""
    async with state.db.read() as session:
        account = await session.get(Account, account_id)
        if account is None:
            raise ApiError(404, "account_not_found", f"no account {account_id!r}")
        rows = (
            await session.execute(
                select(LedgerEntry)
                .where(LedgerEntry.account_id == account_id)
                .order_by(LedgerEntry.id.desc())
                .limit(limit)
            )
        ).scalars()
        entries = [entry_out(e) for e in rows]
    return LedgerOut(account_id=account_id, balance_micros=account.balance_micros, entries=entries)
