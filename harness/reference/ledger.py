"""The append-only ledger: every balance change is one entry, written in the caller's transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from .models import Account, Base, LedgerEntry, Reservation, utcnow

__all__ = [
    "available_micros",
    "credit_account",
    "get_account_for_update",
    "post_entry",
    "release_reservation",
    "reserve",
]

_ACCOUNTS = Base.metadata.tables["accounts"]
_LEDGER = Base.metadata.tables["ledger_entries"]


async def get_account_for_update(
    session: AsyncSession, account_id: str, *, row_lock: bool
) -> Account | None:
    """Load an account, locking its row where the database supports it, so concurrent writers serialise."""
    # populate_existing: the locked row as it is now, even when the session loaded it before
    stmt = select(Account).where(Account.id == account_id).execution_options(populate_existing=True)
    if row_lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def post_entry(
    session: AsyncSession,
    account: Account,
    *,
    kind: str,
    direction: int,
    amount_micros: int,
    source: str,
    idempotency_key: str,
    reference: str | None = None,
    memo: str | None = None,
    counts_as_paid: bool = False,
) -> LedgerEntry:
    """Append one entry and move the balance with it; `balance == sum(ledger)` holds at commit.

    Zero or negative amounts never reach the ledger (PRIOR_ART.md section 1, defect 5): callers skip them.
    """
    if amount_micros <= 0:
        raise ValueError("ledger amounts are strictly positive; skip zero amounts before posting")
    if direction not in (1, -1):
        raise ValueError("direction is +1 or -1")
    account.balance_micros += direction * amount_micros
    if counts_as_paid:
        account.lifetime_paid_micros += amount_micros
    entry = LedgerEntry(
        account_id=account.id,
        kind=kind,
        direction=direction,
        amount_micros=amount_micros,
        balance_after_micros=account.balance_micros,
        source=source,
        reference=reference,
        idempotency_key=idempotency_key,
        memo=memo,
    )
    session.add(entry)
    await session.flush()
    return entry


async def available_micros(session: AsyncSession, account: Account) -> int:
    """The balance less what open usage sessions hold (expired reservations hold nothing)."""
    held = (
        await session.execute(
            select(func.coalesce(func.sum(Reservation.amount_micros), 0)).where(
                Reservation.account_id == account.id, Reservation.expires_at > utcnow()
            )
        )
    ).scalar_one()
    return account.balance_micros - int(held)


async def reserve(
    session: AsyncSession, account: Account, request_id: str, wanted: int, *, ttl_seconds: float
) -> int:
    """Hold up to `wanted` of the account's available balance for one session; how much was held.

    The caller has locked the account row (or holds SQLite's one writer), so concurrent sessions of one
    account reserve one after another and the sum of their holds never passes the balance.
    """
    amount = max(0, min(wanted, await available_micros(session, account)))
    session.add(
        Reservation(
            request_id=request_id,
            account_id=account.id,
            amount_micros=amount,
            expires_at=utcnow() + timedelta(seconds=ttl_seconds),
        )
    )
    await session.flush()
    return amount


async def release_reservation(session: AsyncSession, request_id: str) -> None:
    """Drop a session's hold (at settle, or when it ends with nothing spent)."""
    await session.execute(delete(Reservation).where(Reservation.request_id == request_id))


async def credit_account(
    conn: AsyncConnection,
    account_id: str,
    amount_micros: int,
    *,
    source: str,
    reference: str,
    idempotency_key: str,
    memo: str,
) -> int | None:
    """A paid credit in two Core statements on the caller's transaction: `UPDATE ... RETURNING` moves the
    balance (and takes the row lock), the ledger row records it with the balance after. The new balance,
    or None when the account does not exist.

    The same entry `post_entry` writes for a credit, without loading the account (the webhook hot path);
    an account object already in an ORM session is not refreshed, so callers must not hold one.
    """
    if amount_micros <= 0:
        raise ValueError("ledger amounts are strictly positive; skip zero amounts before posting")
    balance = await conn.scalar(
        update(_ACCOUNTS)
        .where(_ACCOUNTS.c.id == account_id)
        .values(
            balance_micros=_ACCOUNTS.c.balance_micros + amount_micros,
            lifetime_paid_micros=_ACCOUNTS.c.lifetime_paid_micros + amount_micros,
        )
        .returning(_ACCOUNTS.c.balance_micros)
    )
    if balance is None:
        return None
    await conn.execute(
        insert(_LEDGER).values(
            account_id=account_id,
            kind="credit",
            direction=1,
            amount_micros=amount_micros,
            balance_after_micros=balance,
            source=source,
            reference=reference,
            idempotency_key=idempotency_key,
            memo=memo,
            created_at=utcnow(),
        )
    )
    return int(balance)
