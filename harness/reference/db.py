"""The database handle: one async engine per app, SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import Insert

from .models import Base
from .pg_credits import PaymentFunction, install

__all__ = ["Database", "insert_ignore", "is_data_error", "is_retryable", "retrying", "sqlstate"]

T = TypeVar("T")

#: PostgreSQL's "try the transaction again" states: deadlock_detected, serialization_failure
_RETRYABLE_STATES = ("40P01", "40001")

#: any fixed 64-bit key: the PostgreSQL advisory lock that serialises schema creation
_SCHEMA_LOCK_KEY = 0x7061_7968_6172_6E73


class Database:
    """Owns the engine and hands out transactions.

    PostgreSQL serialises concurrent writers with row locks (`SELECT ... FOR UPDATE`) and unique
    constraints. SQLite has one writer at a time anyway, so writes go through an asyncio lock instead of
    failing with "database is locked" under concurrency; the unique constraints still do the deduping.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            if parsed.database in (None, "", ":memory:"):
                kwargs["poolclass"] = StaticPool
            kwargs["connect_args"] = {"timeout": 30}
        else:
            # idle connections past pool_size are closed on return: a pool smaller than the usual
            # concurrency reconnects (a new PostgreSQL backend, every statement prepared again) all the time
            kwargs["pool_size"] = 20
            kwargs["max_overflow"] = 10
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        #: a payment webhook in one round trip (PostgreSQL only; see pg_credits)
        self.payment_function = None if self.is_sqlite else PaymentFunction(self.engine)

    async def create_schema(self) -> None:
        """Create every table that does not exist yet, also when several instances start at once."""
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                # two replicas on a fresh database would both CREATE TABLE and one would fail; the
                # transaction-scoped lock makes the second one wait, then find every table there
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY}
                )
            await conn.run_sync(Base.metadata.create_all)
            if not self.is_sqlite:
                await install(conn)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        if self.payment_function is not None:
            await self.payment_function.close()
        await self.engine.dispose()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed on success, rolled back on any exception."""
        if self._write_lock is not None:
            async with self._write_lock, self._sessions() as session, session.begin():
                yield session
        else:
            async with self._sessions() as session, session.begin():
                yield session

    async def transaction(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 6
    ) -> T:
        """Run `work` in a write transaction, again from the start when PostgreSQL picks it as a deadlock
        or serialization victim (concurrent writers of one account lock rows in different orders)."""

        async def once() -> T:
            async with self.write() as session:
                return await work(session)

        return await retrying(once, attempts=attempts)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session."""
        async with self._sessions() as session:
            yield session

    @property
    def supports_row_locks(self) -> bool:
        """True where `SELECT ... FOR UPDATE` means something."""
        return not self.is_sqlite


async def retrying(work: Callable[[], Awaitable[T]], *, attempts: int = 6) -> T:
    """`work()`, again when PostgreSQL picks it as a deadlock or serialization victim."""
    for attempt in range(attempts):
        try:
            return await work()
        except DBAPIError as exc:
            if not is_retryable(exc) or attempt == attempts - 1:
                raise
            await asyncio.sleep(random.uniform(0.001, 0.01) * 2**attempt)
    raise AssertionError("unreachable")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # WAL lets readers run beside the one writer; NORMAL syncs at checkpoints, and a WAL database stays
    # consistent after a crash (a power loss can lose the last transactions, never corrupt the ledger)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def sqlstate(exc: DBAPIError) -> str | None:
    """The SQLSTATE of a database error (PostgreSQL), when the driver gave one."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(state) if state else None


def is_retryable(exc: DBAPIError) -> bool:
    """A deadlock or serialization failure: the transaction succeeds when run again."""
    return sqlstate(exc) in _RETRYABLE_STATES


def is_data_error(exc: DBAPIError) -> bool:
    """The value itself cannot be stored (SQLSTATE class 22: too long, out of range, bad encoding, NUL),
    or the driver could not encode it: the request's fault, never worth a retry."""
    state = sqlstate(exc)
    if state is not None:
        return state.startswith("22")
    text_ = str(exc.orig)
    return "invalid input for query argument" in text_ or "encoding" in text_.lower()


def insert_ignore(conn: AsyncConnection, table: Table) -> Insert:
    """`INSERT ... ON CONFLICT DO NOTHING` for the connection's database (PostgreSQL or SQLite): with
    `.returning(...)` it answers no row when a unique key already holds the value, in one round trip."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
