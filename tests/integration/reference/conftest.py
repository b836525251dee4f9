"""Fixtures for the reference service's behaviour tests (each runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from harness.reference import ReferenceSettings, close_app, create_app

ADMIN = "admin-secret-for-tests"
ServiceFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_service(database_url: str) -> AsyncIterator[ServiceFactory]:
    """Build reference services on the test's database; every one is closed afterwards."""
    apps: list[Any] = []
    clients: list[httpx.AsyncClient] = []

    async def factory(**overrides: Any) -> httpx.AsyncClient:
        base = ReferenceSettings(database_url=database_url, admin_secret=ADMIN, payments_live=True)
        settings = dataclasses.replace(base, **overrides)
        app = create_app(settings)
        apps.append(app)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://reference.test"
        )
        client.app = app  # type: ignore[attr-defined]
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()
    for app in apps:
        await close_app(app)


@pytest.fixture
async def service(make_service: ServiceFactory) -> httpx.AsyncClient:
    """A live reference service with no rails configured."""
    return await make_service()


async def new_account(client: httpx.AsyncClient, *, cohort: bool = False, balance: int = 0) -> str:
    """Create an account and (through the admin route) give it a starting balance."""
    r = await client.post("/v1/accounts", json={"is_test_cohort": cohort})
    assert r.status_code == 201, r.text
    account_id = str(r.json()["id"])
    if balance:
        r = await client.post(
            "/admin/balance-adjust",
            json={"account_id": account_id, "balance_micros": balance, "reason": "test funds"},
            headers={"X-Admin-Secret": ADMIN},
        )
        assert r.status_code == 200, r.text
    return account_id


async def ledger_sum(client: httpx.AsyncClient, account_id: str) -> tuple[int, int, int]:
    """(balance, signed sum of the ledger, number of entries)."""
    r = await client.get(f"/v1/accounts/{account_id}/ledger", params={"limit": 1000})
    assert r.status_code == 200, r.text
    body = r.json()
    return (
        body["balance_micros"],
        sum(e["signed_amount_micros"] for e in body["entries"]),
        len(body["entries"]),
    )
