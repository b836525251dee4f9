"""Processor receipts: each payment recorded once and credited once, whichever report lands first.

A webhook that cannot attribute the payment yet, an x402 `/pay`, a reconcile: the receipt row, unique on
(rail, processor ref), is the one place a payment is credited. A report that finds it recorded but
uncredited, and knows the account, credits it under the receipt's row lock, so two reports racing on
PostgreSQL credit it exactly once.

This is the webhook hot path, so it is SQLAlchemy Core on the caller's connection and transaction, one
statement per step (no ORM objects, no flush). On PostgreSQL rows are locked in one order on every path:
top-up, then receipt, then account; SQLite has one writer at a time.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import insert_ignore
from .ledger import credit_account
from .models import Base, utcnow
from .rails.base import PaymentReceived

__all__ = ["credit_payment"]

_ACCOUNTS = Base.metadata.tables["accounts"]
_RECEIPTS = Base.metadata.tables["receipts"]
_TOPUPS = Base.metadata.tables["topups"]


async def credit_payment(
    conn: AsyncConnection,
    rail: str,
    p: PaymentReceived,
    event_id: str | None,
    *,
    row_lock: bool,
) -> str:
    """Record the payment once; credit it once when it is USD and attributable. The outcome: `applied`,
    `not_credited` (kept for reconciliation) or `duplicate_payment` (another report had it)."""
    account_id, topup_id = await _attribute(conn, rail, p, row_lock=row_lock)
    creditable = account_id is not None and p.amount_micros is not None and p.amount_micros > 0
    # one statement records the payment: a conflict on (rail, processor_ref) means another report has it
    receipt_id = await conn.scalar(
        insert_ignore(conn, _RECEIPTS)
        .values(
            rail=rail,
            processor_ref=p.processor_ref,
            account_id=account_id,
            topup_id=topup_id,
            amount_minor=p.amount_text,
            currency=p.currency.upper(),
            amount_micros=p.amount_micros,
            credited=creditable,
            event_id=event_id,
            created_at=utcnow(),
        )
        .returning(_RECEIPTS.c.id)
    )
    if receipt_id is None:
        return await _credit_recorded(conn, rail, p, account_id, topup_id, row_lock=row_lock)
    if not creditable:
        return "not_credited"  # another currency, or nobody to credit
    assert account_id is not None and p.amount_micros is not None
    if await _credit(conn, rail, p.processor_ref, account_id, p.amount_micros) is None:
        # the account went away: the receipt stays, uncredited
        await conn.execute(
            update(_RECEIPTS).where(_RECEIPTS.c.id == receipt_id).values(credited=False)
        )
        return "not_credited"
    if topup_id is not None:
        await _mark_paid(conn, topup_id)
    return "applied"


async def _attribute(
    conn: AsyncConnection, rail: str, p: PaymentReceived, *, row_lock: bool
) -> tuple[str | None, str | None]:
    """(account id, top-up id) the payment belongs to; the top-up's row is locked when there is one."""
    if p.topup_ref:
        topup = await _topup(conn, rail, p.topup_ref, row_lock=row_lock)
        if topup is not None:
            return topup
    if p.account_id:
        return p.account_id, None
    if p.customer_ref and rail == "stripe":
        account_id = await conn.scalar(
            select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.stripe_customer_id == p.customer_ref)
        )
        return account_id, None
    return None, None


async def _topup(
    conn: AsyncConnection, rail: str, ref: str, *, row_lock: bool
) -> tuple[str, str] | None:
    """(account id, top-up id) of the top-up a payment names, its row locked, in one statement."""
    found = select(_TOPUPS.c.account_id, _TOPUPS.c.id).where(
        _TOPUPS.c.id == ref, _TOPUPS.c.rail == rail
    )
    row = (await conn.execute(found.with_for_update() if row_lock else found)).first()
    if row is not None:
        return row.account_id, row.id
    if rail != "cdp":
        return None
    # a CDP webhook may name the authorisation nonce the top-up recorded at /pay
    unpaid = await conn.execute(
        select(_TOPUPS.c.account_id, _TOPUPS.c.id, _TOPUPS.c.details).where(
            _TOPUPS.c.rail == "cdp", _TOPUPS.c.status != "paid"
        )
    )
    for account_id, topup_id, details in unpaid.all():
        if (details or {}).get("nonce") == ref:
            if row_lock:
                await conn.execute(
                    select(_TOPUPS.c.id).where(_TOPUPS.c.id == topup_id).with_for_update()
                )
            return account_id, topup_id
    return None


async def _credit_recorded(
    conn: AsyncConnection,
    rail: str,
    p: PaymentReceived,
    account_id: str | None,
    topup_id: str | None,
    *,
    row_lock: bool,
) -> str:
    """Another report recorded the payment: credit it here if that report could not (it did not know the
    account) and this one can, under the receipt's row lock."""
    found = select(
        _RECEIPTS.c.id,
        _RECEIPTS.c.credited,
        _RECEIPTS.c.account_id,
        _RECEIPTS.c.topup_id,
        _RECEIPTS.c.amount_micros,
    ).where(_RECEIPTS.c.rail == rail, _RECEIPTS.c.processor_ref == p.processor_ref)
    receipt = (await conn.execute(found.with_for_update() if row_lock else found)).first()
    if receipt is None or receipt.credited or receipt.account_id is not None:
        return "duplicate_payment"  # credited, or attributed but not creditable (another currency)
    if account_id is None:
        return "not_credited"
    amount = receipt.amount_micros
    credited = (
        amount is not None
        and amount > 0
        and await _credit(conn, rail, p.processor_ref, account_id, amount) is not None
    )
    await conn.execute(
        update(_RECEIPTS)
        .where(_RECEIPTS.c.id == receipt.id)
        .values(account_id=account_id, topup_id=receipt.topup_id or topup_id, credited=credited)
    )
    if not credited:
        return "not_credited"
    paid = topup_id or receipt.topup_id
    if paid is not None:
        await _mark_paid(conn, paid)
    return "applied"


async def _credit(
    conn: AsyncConnection, rail: str, processor_ref: str, account_id: str, amount_micros: int
) -> int | None:
    return await credit_account(
        conn,
        account_id,
        amount_micros,
        source=rail,
        reference=processor_ref,
        idempotency_key=f"credit:{rail}:{processor_ref}",
        memo=f"{rail} payment {processor_ref}",
    )


async def _mark_paid(conn: AsyncConnection, topup_id: str) -> None:
    await conn.execute(update(_TOPUPS).where(_TOPUPS.c.id == topup_id).values(status="paid"))
