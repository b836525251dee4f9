"""Accounts: create, read, and reap only test-cohort accounts."""

from __future__ import annotations

import httpx
from reference_support import count_rows, ledger_sum, new_account

from harness.reference.models import LedgerEntry


async def test_a_new_account_starts_empty_on_the_free_tier(service: httpx.AsyncClient) -> None:
    r = await service.post("/v1/accounts", json={"email": "ada@example.com"})
    assert r.status_code == 201
    created = r.json()
    assert created["id"].startswith("acct_")
    fetched = (await service.get(f"/v1/accounts/{created['id']}")).json()
    assert fetched == created
    assert (
        fetched["balance_micros"],
        fetched["lifetime_paid_micros"],
        fetched["plan_tier"],
        fetched["is_test_cohort"],
        fetched["email"],
    ) == (0, 0, "free", False, "ada@example.com")


async def test_an_account_body_may_be_empty(service: httpx.AsyncClient) -> None:
    r = await service.post("/v1/accounts", json={})
    assert r.status_code == 201
    assert r.json()["is_test_cohort"] is False


async def test_two_accounts_get_different_ids(service: httpx.AsyncClient) -> None:
    assert await new_account(service) != await new_account(service)


async def test_an_unknown_account_is_404(service: httpx.AsyncClient) -> None:
    r = await service.get("/v1/accounts/acct_missing")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "account_not_found")


async def test_a_test_cohort_account_is_reaped_with_its_ledger(service: httpx.AsyncClient) -> None:
    account = await new_account(service, cohort=True, balance=1_000)
    r = await service.delete(f"/v1/accounts/{account}")
    assert r.status_code == 204
    assert r.content == b""
    assert (await service.get(f"/v1/accounts/{account}")).status_code == 404
    assert await count_rows(service, LedgerEntry) == 0


async def test_a_real_account_is_never_deleted(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=1_000)
    r = await service.delete(f"/v1/accounts/{account}")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_test_cohort")
    assert await ledger_sum(service, account) == (1_000, 1_000, 1)


async def test_deleting_an_unknown_account_is_404(service: httpx.AsyncClient) -> None:
    r = await service.delete("/v1/accounts/acct_missing")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "account_not_found")


async def test_reaping_twice_is_404_the_second_time(service: httpx.AsyncClient) -> None:
    account = await new_account(service, cohort=True)
    assert (await service.delete(f"/v1/accounts/{account}")).status_code == 204
    assert (await service.delete(f"/v1/accounts/{account}")).status_code == 404


async def test_reaping_one_account_leaves_the_others_alone(service: httpx.AsyncClient) -> None:
    keep = await new_account(service, cohort=True, balance=5)
    reap = await new_account(service, cohort=True, balance=7)
    assert (await service.delete(f"/v1/accounts/{reap}")).status_code == 204
    assert await ledger_sum(service, keep) == (5, 5, 1)
