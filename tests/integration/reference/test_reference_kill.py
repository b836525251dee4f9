"""`kill -9` inside a webhook's transaction on PostgreSQL: the delivery commits all of its rows or none of
them, and the processor's retry leaves the payment credited exactly once.

The service runs as users run it (`python -m harness reference`, its own process). The test holds the
account's row lock from its own connection, so the delivery stops inside its transaction, after the event
and receipt rows are written, at the balance `UPDATE`; the process is killed there with SIGKILL.

Which of the two the database does depends on where the transaction's end lives. On the session path
(BEGIN, statements, COMMIT from the service) the dead client never sends COMMIT and everything rolls back.
A payment event is one statement (`pg_credits`): its transaction ends inside the database, so the orphaned
backend finishes it once the lock is released, and the retry is a duplicate. Both are exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from reference_support import ADMIN, NOWHERE, STRIPE_SECRET, deliver_stripe, stripe_funded

from harness.bench.processes import Child, free_port

pytestmark = pytest.mark.postgres


@contextmanager
def _service(database_url: str, log_dir: Path) -> Iterator[tuple[Child, str]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "PAYMENTS_"))}
    env.update(
        PAYMENTS_LIVE="1",
        ADMIN_SECRET=ADMIN,
        STRIPE_API_BASE=NOWHERE,
        STRIPE_API_KEY="sk_test_x",
        STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
    )
    argv = [sys.executable, "-m", "harness", "reference", "--port", str(port)]
    argv += ["--log-level", "warning", "--database-url", database_url]
    base_url = f"http://127.0.0.1:{port}"
    with Child(
        argv, name="reference", log_path=log_dir / f"reference-{port}.log", env=env
    ) as child:
        child.start_with_ready_url(f"{base_url}/healthz", timeout_seconds=90)
        yield child, base_url


async def _wait_for_a_lock_waiter(db: asyncpg.Connection, *, timeout_seconds: float = 30) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        # a transaction sees the activity view as it was at its first read: a fresh snapshot each time
        await db.execute("SELECT pg_stat_clear_snapshot()")
        waiting = await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.05)  # polling another process's progress, bounded by the deadline
    raise AssertionError("the delivery never reached the locked balance UPDATE")


async def _wait_for_no_other_backend(
    db: asyncpg.Connection, *, timeout_seconds: float = 30
) -> None:
    """Until no other backend runs a statement on the database (an orphaned one finishes its own)."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        busy = await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active'"
        )
        if not busy:
            return
        await asyncio.sleep(0.05)  # polling another process's progress, bounded by the deadline
    raise AssertionError("a backend of the killed service kept running")


async def test_a_service_killed_inside_the_webhook_transaction_commits_all_or_nothing_and_the_retry_credits_once(
    postgres_url: str, tmp_path: Path
) -> None:
    db = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    body = stripe_funded("evt_kill", txn_id="ccsbtxn_kill", amount_cents=700, customer="cus_kill")
    try:
        with _service(postgres_url, tmp_path) as (child, base_url):
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                created = await client.post("/v1/accounts", json={})
                account = created.json()["id"]
                await db.execute(
                    "UPDATE accounts SET stripe_customer_id = 'cus_kill' WHERE id = $1", account
                )
                async with db.transaction():
                    await db.execute("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", account)
                    delivery = asyncio.create_task(deliver_stripe(client, body))
                    await _wait_for_a_lock_waiter(db)
                    os.kill(child.pid, signal.SIGKILL)
                    with pytest.raises(httpx.TransportError):
                        await delivery
        await _wait_for_no_other_backend(db)
        counts = [
            await db.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("webhook_events", "receipts", "ledger_entries")
        ]
        balance = await db.fetchval("SELECT balance_micros FROM accounts WHERE id = $1", account)
        committed = counts == [1, 1, 1] and balance == 7_000_000
        assert committed or (counts == [0, 0, 0] and balance == 0), (counts, balance)

        with _service(postgres_url, tmp_path) as (_child, base_url):
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                # the processor retries the delivery that got no answer: applied now, or a duplicate
                # of what the killed delivery committed whole
                retried = (await deliver_stripe(client, body)).json()["status"]
                assert retried == ("duplicate" if committed else "applied")
                assert (await deliver_stripe(client, body)).json()["status"] == "duplicate"
                state = (await client.get(f"/v1/accounts/{account}")).json()
        assert (state["balance_micros"], state["lifetime_paid_micros"]) == (7_000_000, 7_000_000)
        assert await db.fetchval("SELECT count(*) FROM ledger_entries") == 1
    finally:
        await db.close()
