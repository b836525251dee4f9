"""A payment webhook on PostgreSQL in one round trip: the event's dedupe, `credits.credit_payment` and the
event's outcome as one call of a PL/pgSQL function, on a plain asyncpg pool.

The webhook route's cost on PostgreSQL was its round trips, not its SQL: each statement through SQLAlchemy's
async session costs Python time (compile cache, greenlet hop, asyncpg's bind) and BEGIN and COMMIT are round
trips of their own. A function called as one statement is its own transaction, so a payment event is one
round trip, with the same guarantees: every write commits together or none does, the unique keys on
(rail, event id), (rail, processor ref) and the ledger's idempotency key dedupe, rows are locked in the one
order of every path (top-up, receipt, account).

`FUNCTION_SQL` is the same algorithm as `credits.credit_payment` (and the route's event row), statement for
statement; `tests/integration/reference/test_pg_credits.py` runs both on generated sequences of payment
reports and compares every table they write. SQLite, other effects and swapped-in components keep the
Python path.
"""

from __future__ import annotations

import asyncio
import importlib
from datetime import datetime
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .rails.base import PaymentReceived

__all__ = ["FUNCTION_SQL", "FunctionMissing", "PaymentFunction", "install"]

#: the function's name, with its version: a changed body is installed under a new name, so two releases
#: running on one database during a deploy each call their own
FUNCTION = "payharness_webhook_payment_v1"

FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}(
    p_rail text, p_event_id text, p_event_type text, p_now timestamptz, p_ref text,
    p_topup_ref text, p_account_id text, p_customer_ref text,
    p_amount_text text, p_currency text, p_amount_micros bigint
) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    v_event integer;
    v_account text;
    v_topup text;
    v_receipt integer;
    v_outcome text;
    v_amount bigint;
    v_balance bigint;
    r_id integer;
    r_credited boolean;
    r_account text;
    r_topup text;
    r_amount bigint;
BEGIN
    -- the unique (rail, event_id) key is the dedupe: NULL means delivered before
    INSERT INTO webhook_events (rail, event_id, event_type, outcome, received_at)
    VALUES (p_rail, p_event_id, p_event_type, 'applied', p_now)
    ON CONFLICT DO NOTHING RETURNING id INTO v_event;
    IF v_event IS NULL THEN
        RETURN NULL;
    END IF;

    -- attribute: the top-up it names (its row locked), else the account, else the Stripe customer
    IF coalesce(p_topup_ref, '') <> '' THEN
        SELECT account_id, id INTO v_account, v_topup FROM topups
        WHERE id = p_topup_ref AND rail = p_rail FOR UPDATE;
        IF v_topup IS NULL AND p_rail = 'cdp' THEN
            -- a CDP webhook may name the authorisation nonce the top-up recorded at /pay
            SELECT account_id, id INTO v_account, v_topup FROM topups
            WHERE rail = 'cdp' AND status <> 'paid' AND json_typeof(details -> 'nonce') = 'string'
                AND details ->> 'nonce' = p_topup_ref
            LIMIT 1 FOR UPDATE;
        END IF;
    END IF;
    IF v_topup IS NULL THEN
        v_account := NULL;
        IF coalesce(p_account_id, '') <> '' THEN
            v_account := p_account_id;
        ELSIF coalesce(p_customer_ref, '') <> '' AND p_rail = 'stripe' THEN
            SELECT id INTO v_account FROM accounts WHERE stripe_customer_id = p_customer_ref;
        END IF;
    END IF;

    -- record the payment once: a conflict on (rail, processor_ref) means another report has it
    INSERT INTO receipts (rail, processor_ref, account_id, topup_id, amount_minor, currency,
                          amount_micros, credited, event_id, created_at)
    VALUES (p_rail, p_ref, v_account, v_topup, p_amount_text, p_currency, p_amount_micros,
            v_account IS NOT NULL AND coalesce(p_amount_micros, 0) > 0, p_event_id, p_now)
    ON CONFLICT DO NOTHING RETURNING id INTO v_receipt;

    IF v_receipt IS NOT NULL THEN
        IF v_account IS NULL OR coalesce(p_amount_micros, 0) <= 0 THEN
            v_outcome := 'not_credited';  -- another currency, or nobody to credit
        ELSE
            v_amount := p_amount_micros;
        END IF;
    ELSE
        -- another report recorded it: credit it here if that one could not (it did not know the
        -- account) and this one can, under the receipt's row lock
        SELECT id, credited, account_id, topup_id, amount_micros
        INTO r_id, r_credited, r_account, r_topup, r_amount
        FROM receipts WHERE rail = p_rail AND processor_ref = p_ref FOR UPDATE;
        IF r_id IS NULL OR r_credited OR r_account IS NOT NULL THEN
            v_outcome := 'duplicate_payment';
        ELSIF v_account IS NULL THEN
            v_outcome := 'not_credited';
        ELSE
            v_receipt := r_id;
            UPDATE receipts SET account_id = v_account, topup_id = coalesce(r_topup, v_topup),
                                credited = coalesce(r_amount, 0) > 0
            WHERE id = r_id;
            v_topup := coalesce(v_topup, r_topup);
            v_amount := CASE WHEN coalesce(r_amount, 0) > 0 THEN r_amount END;
            IF v_amount IS NULL THEN
                v_outcome := 'not_credited';
            END IF;
        END IF;
    END IF;

    IF v_outcome IS NULL THEN
        -- credit: the balance moves (taking the account's row lock), the ledger records it
        UPDATE accounts SET balance_micros = balance_micros + v_amount,
                            lifetime_paid_micros = lifetime_paid_micros + v_amount
        WHERE id = v_account RETURNING balance_micros INTO v_balance;
        IF v_balance IS NULL THEN
            -- the account went away: the receipt stays, uncredited
            UPDATE receipts SET credited = false WHERE id = v_receipt;
            v_outcome := 'not_credited';
        ELSE
            INSERT INTO ledger_entries (account_id, kind, direction, amount_micros,
                                        balance_after_micros, source, reference, idempotency_key,
                                        memo, created_at)
            VALUES (v_account, 'credit', 1, v_amount, v_balance, p_rail, p_ref,
                    'credit:' || p_rail || ':' || p_ref, p_rail || ' payment ' || p_ref, p_now);
            IF v_topup IS NOT NULL THEN
                UPDATE topups SET status = 'paid' WHERE id = v_topup;
            END IF;
            v_outcome := 'applied';
        END IF;
    END IF;

    IF v_outcome <> 'applied' THEN
        UPDATE webhook_events SET outcome = v_outcome WHERE id = v_event;
    END IF;
    RETURN v_outcome;
END
$fn$
"""


async def install(conn: AsyncConnection) -> None:
    """Create the function (PostgreSQL; in the caller's schema-creation transaction)."""
    await conn.exec_driver_sql(FUNCTION_SQL)


#: connect arguments SQLAlchemy's asyncpg dialect gives that are its own, not asyncpg's
_SQLALCHEMY_ONLY = (
    "async_fallback",
    "prepared_statement_cache_size",
    "prepared_statement_name_func",
    "async_creator_fn",
)


class FunctionMissing(Exception):
    """The database has no payment function: the caller takes the Python path."""


class PaymentFunction:
    """Calls the function on an asyncpg pool of its own: one statement, autocommit, no reset round trip on
    release (a single statement leaves no session state behind)."""

    def __init__(self, engine: AsyncEngine, *, max_size: int = 10) -> None:
        self._engine = engine
        self._max_size = max_size
        self._pool: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()

    async def apply(
        self, rail: str, event_id: str, event_type: str, p: PaymentReceived, now: datetime
    ) -> str | None:
        """The webhook outcome (`applied`, `not_credited`, `duplicate_payment`), or None when the event
        was delivered before. Database errors are raised as SQLAlchemy's, as on the Python path;
        :class:`FunctionMissing` when the database has no such function (its schema was made without
        this service's `create_schema`)."""
        pool = await self._ready()
        try:
            outcome: str | None = await pool.fetchval(
                f"SELECT {FUNCTION}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                rail,
                event_id,
                event_type,
                now,
                p.processor_ref,
                p.topup_ref,
                p.account_id,
                p.customer_ref,
                p.amount_text,
                p.currency.upper(),
                p.amount_micros,
            )
        except _asyncpg().PostgresError as exc:
            if getattr(exc, "sqlstate", None) == "42883":  # undefined_function
                await self.close()  # the caller stops using it: its connections go now
                raise FunctionMissing(f"{FUNCTION} is not in the database: {exc}") from exc
            raise _as_sqlalchemy(exc) from exc
        return outcome

    async def close(self) -> None:
        """Close the pool (the loop it was made on must be running)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _ready(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or the loop it was made on is gone
            if self._pool is not None:
                self._pool.terminate()
            self._pool, self._loop, self._lock = None, loop, asyncio.Lock()
        if self._pool is None:
            # the first burst of webhooks must share one pool, not open one each
            async with self._lock:
                if self._pool is None:
                    args, kwargs = self._engine.dialect.create_connect_args(
                        make_url(self._engine.url)
                    )
                    for key in _SQLALCHEMY_ONLY:
                        kwargs.pop(key, None)
                    self._pool = await _asyncpg().create_pool(
                        *args, **kwargs, min_size=1, max_size=self._max_size, reset=_no_reset
                    )
        return self._pool


async def _no_reset(_connection: Any) -> None:
    return None


def _asyncpg() -> Any:
    # asyncpg ships no type information
    return importlib.import_module("asyncpg")


def _as_sqlalchemy(exc: Exception) -> DBAPIError:
    statement = f"SELECT {FUNCTION}(...)"
    if getattr(exc, "sqlstate", None) == "23505":  # unique_violation
        return IntegrityError(statement, None, exc)
    return DBAPIError(statement, None, exc)
