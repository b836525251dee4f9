"""Fixtures for the reference service's behaviour tests (each runs on SQLite and on PostgreSQL).

Helpers (signing, event bodies, database set-up) live in `reference_support.py`; `ADMIN`, `new_account` and
`ledger_sum` are re-exported here for tests written against this module.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from reference_support import ADMIN, ServiceFactory, ledger_sum, new_account
from sqlalchemy.ext.asyncio import create_async_engine

from harness.reference import ReferenceSettings, close_app, create_app
from harness.reference.components import Components
from harness.reference.models import Base

__all__ = ["ADMIN", "ServiceFactory", "ledger_sum", "new_account"]


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _create_database(server_url: str, name: str) -> str:
    conn = await asyncpg.connect(_plain(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = f"{server_url.rpartition('/')[0]}/{name}"
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn_:
            await conn_.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()
    return url


async def _drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(_plain(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def reference_pg_database(postgres_server: str) -> Iterator[str]:
    """One database with the reference schema for this folder's session.

    A fresh `CREATE DATABASE` right after a `DROP DATABASE` costs ~0.25 s on PostgreSQL 15; emptying the
    tables costs ~10 ms, which keeps the whole folder inside its time budget on both databases.
    """
    name = f"ph_ref_{uuid.uuid4().hex[:12]}"
    url = asyncio.run(_create_database(postgres_server, name))
    yield url
    asyncio.run(_drop_database(postgres_server, name))


@pytest.fixture
async def postgres_url(reference_pg_database: str) -> str:
    """An empty reference database for one test (overrides tests/conftest.py's fresh-database fixture):
    every table is truncated before the test, so nothing one test wrote is visible to the next."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    conn = await asyncpg.connect(_plain(reference_pg_database))
    try:
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
    return reference_pg_database


_MEMORY_DISK = Path("/dev/shm")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database the reference supports, as tests/conftest.py's fixture of the same name.

    The SQLite file lives on the memory-backed /dev/shm where the machine has one: every commit on a
    disk-backed file pays for fsyncs, which made creating the schema alone cost ~0.3 s per test.
    """
    if request.param == "postgres":
        yield str(request.getfixturevalue("postgres_url"))
        return
    if not (_MEMORY_DISK.is_dir() and os.access(_MEMORY_DISK, os.W_OK)):
        yield f"sqlite+aiosqlite:///{tmp_path / 'reference.sqlite3'}"
        return
    folder = Path(tempfile.mkdtemp(prefix="payharness-reference-", dir=_MEMORY_DISK))
    try:
        yield f"sqlite+aiosqlite:///{folder / 'reference.sqlite3'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class _Services:
    """Reference services built on one database URL; all closed together."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.apps: list[Any] = []
        self.clients: list[httpx.AsyncClient] = []

    async def build(
        self,
        *,
        raise_app_exceptions: bool = True,
        components: Components | None = None,
        **overrides: Any,
    ) -> httpx.AsyncClient:
        base = ReferenceSettings(
            database_url=self.database_url, admin_secret=ADMIN, payments_live=True
        )
        app = create_app(dataclasses.replace(base, **overrides), components=components)
        self.apps.append(app)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions),
            base_url="http://reference.test",
        )
        client.app = app  # type: ignore[attr-defined]
        self.clients.append(client)
        return client

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()
        for app in self.apps:
            await close_app(app)


@pytest.fixture
async def make_service(database_url: str) -> AsyncIterator[ServiceFactory]:
    """Build reference services on the test's database; every one is closed afterwards.

    Keyword arguments override `ReferenceSettings` (live, with the admin secret, by default);
    `components=` swaps a part of the service (see `harness.reference.components`);
    `raise_app_exceptions=False` lets a test see the 500 an unhandled error answers instead of the error.
    """
    services = _Services(database_url)
    yield services.build
    await services.aclose()


@pytest.fixture
async def make_postgres_service(postgres_url: str) -> AsyncIterator[ServiceFactory]:
    """`make_service` on PostgreSQL only: for two service instances sharing one database."""
    services = _Services(postgres_url)
    yield services.build
    await services.aclose()


@pytest.fixture
async def service(make_service: ServiceFactory) -> httpx.AsyncClient:
    """A live reference service with no rails configured."""
    return await make_service()
