"""The one-round-trip payment function (`pg_credits`) against the Python path it replaces on PostgreSQL.

Hypothesis generates sequences of payment reports over accounts, Stripe customers, top-ups on every rail
(paid and unpaid, CDP nonces of every JSON type) and reports that name any of them, none, or something
that does not exist, in USD or another currency, with zero, tiny and large amounts, with event ids and
processor refs drawn from small pools so redeliveries and second reports of one payment are common. Each
sequence runs once through the webhook route's Python path and once through the function, on the same
empty database; every outcome and every row either path writes (events, receipts, ledger, balances,
top-up statuses) must be the same.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.reference.components import Components
from harness.reference.db import Database
from harness.reference.models import Base
from harness.reference.pg_credits import FUNCTION
from harness.reference.rails.base import PaymentReceived, ProcessorEvent
from harness.reference.routes.webhooks import _record_and_apply

pytestmark = pytest.mark.postgres

ACCOUNTS = (("a1", "cus_1"), ("a2", "cus_2"), ("a3", None))
#: (id, rail, account, status, details)
TOPUPS: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("t_s1", "stripe", "a1", "pending", {}),
    ("t_s2", "stripe", "a2", "paid", {}),
    ("t_x1", "xendit", "a3", "pending", {}),
    ("t_c1", "cdp", "a1", "pending", {"nonce": "n1"}),
    ("t_c2", "cdp", "a2", "paid", {"nonce": "n2"}),
    ("t_c3", "cdp", "a3", "pending", {"nonce": 5}),
    ("t_c4", "cdp", "a2", "pending", {"other": "n4"}),
)

_text = st.sampled_from
_reports = st.lists(
    st.fixed_dictionaries(
        {
            "rail": _text(("stripe", "xendit", "cdp")),
            "event_id": _text(("e1", "e2", "e3", "e4", "e5")),
            "ref": _text(("r1", "r2", "r3")),
            "topup_ref": _text(
                (None, "", "t_s1", "t_s2", "t_x1", "t_c1", "n1", "n2", "5", "n4", "t_c9")
            ),
            "account_id": _text((None, "", "a1", "a2", "a3", "a_gone")),
            "customer_ref": _text((None, "", "cus_1", "cus_2", "cus_nobody")),
            "currency": _text(("usd", "USD", "idr")),
            "amount_micros": _text((None, 0, 1, 10_000, 7_000_000, 10**15)),
        }
    ),
    min_size=1,
    max_size=10,
)


@dataclass
class _State:
    """What `_record_and_apply` reads of the service's state."""

    db: Database
    components: Components


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as r:
        yield r


async def _reset(raw: asyncpg.Connection) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    await raw.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    for account, customer in ACCOUNTS:
        await raw.execute(
            "INSERT INTO accounts (id, is_test_cohort, balance_micros, lifetime_paid_micros, "
            "plan_tier, stripe_customer_id, created_at) VALUES ($1, true, 0, 0, 'free', $2, now())",
            account,
            customer,
        )
    for topup, rail, account, status, details in TOPUPS:
        await raw.execute(
            "INSERT INTO topups (id, account_id, rail, amount_micros, status, details, created_at) "
            "VALUES ($1, $2, $3, 1000000, $4, $5::json, now())",
            topup,
            account,
            rail,
            status,
            json.dumps(details),
        )


async def _snapshot(raw: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "events": "SELECT rail, event_id, event_type, outcome FROM webhook_events ORDER BY id",
        "receipts": "SELECT rail, processor_ref, account_id, topup_id, amount_minor, currency, "
        "amount_micros, credited, event_id FROM receipts ORDER BY id",
        "ledger": "SELECT account_id, kind, direction, amount_micros, balance_after_micros, source, "
        "reference, idempotency_key, memo FROM ledger_entries ORDER BY id",
        "accounts": "SELECT id, balance_micros, lifetime_paid_micros FROM accounts ORDER BY id",
        "topups": "SELECT id, status FROM topups ORDER BY id",
    }
    return {name: [tuple(r) for r in await raw.fetch(sql)] for name, sql in queries.items()}


async def _run(
    state: _State, raw: asyncpg.Connection, reports: list[dict[str, Any]]
) -> tuple[list[str | None], dict[str, list[tuple[Any, ...]]]]:
    await _reset(raw)
    outcomes = []
    for r in reports:
        usd = r["currency"].upper() == "USD"
        payment = PaymentReceived(
            processor_ref=r["ref"],
            amount_text="1.00",
            currency=r["currency"],
            amount_micros=r["amount_micros"] if usd else None,
            customer_ref=r["customer_ref"],
            topup_ref=r["topup_ref"],
            account_id=r["account_id"],
        )
        event = ProcessorEvent(
            event_id=r["event_id"], event_type="payment", created=0, effects=(payment,)
        )
        outcomes.append(await _record_and_apply(state, r["rail"], event))  # type: ignore[arg-type]
    return outcomes, await _snapshot(raw)


def test_the_function_writes_what_the_python_path_writes(
    postgres_url: str, runner: asyncio.Runner
) -> None:
    function_db = Database(postgres_url)
    python_db = Database(postgres_url)
    python_db.payment_function = None
    raw: asyncpg.Connection = runner.run(
        asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    )
    runner.run(function_db.create_schema())
    calls = runner.run(raw.fetchval("SELECT count(*) FROM pg_proc WHERE proname = $1", FUNCTION))
    assert calls == 1, "create_schema installs the function"
    paths = (_State(python_db, Components()), _State(function_db, Components()))
    seen: list[set[str | None]] = []

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(reports=_reports)
    def check(reports: list[dict[str, Any]]) -> None:
        python = runner.run(_run(paths[0], raw, reports))
        function = runner.run(_run(paths[1], raw, reports))
        assert function[0] == python[0], "outcomes"
        assert function[1] == python[1], "rows written"
        seen.append(set(python[0]))

    try:
        check()
    finally:
        runner.run(raw.close())
        runner.run(function_db.dispose())
        runner.run(python_db.dispose())
    # the comparison means something only if the sequences reached every outcome, and credited often
    assert set().union(*seen) == {"applied", "not_credited", "duplicate_payment", None}
    assert sum("applied" in s for s in seen) >= len(seen) // 4, seen


def test_a_database_without_the_function_takes_the_python_path(
    postgres_url: str, runner: asyncio.Runner
) -> None:
    """A schema made by migrations rather than `create_schema`: payments still apply, on the session path."""
    db = Database(postgres_url)
    raw: asyncpg.Connection = runner.run(
        asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    )
    try:
        runner.run(db.create_schema())
        runner.run(raw.execute(f"DROP FUNCTION {FUNCTION}"))
        state = _State(db, Components())
        report = {
            "rail": "stripe",
            "event_id": "e1",
            "ref": "r1",
            "topup_ref": "t_s1",
            "account_id": None,
            "customer_ref": None,
            "currency": "usd",
            "amount_micros": 7_000_000,
        }
        outcomes, rows = runner.run(_run(state, raw, [report, report]))
        assert outcomes == ["applied", None]
        assert db.payment_function is None
        assert ("a1", 7_000_000, 7_000_000) in rows["accounts"]
    finally:
        runner.run(raw.close())
        runner.run(db.dispose())


def test_a_first_burst_of_payments_shares_one_pool(
    postgres_url: str, runner: asyncio.Runner
) -> None:
    """Sixteen webhooks arriving together on a fresh service open one pool between them, not one each:
    the connections to the database stay within the pool's bound, and every payment is credited."""
    db = Database(postgres_url)
    raw: asyncpg.Connection = runner.run(
        asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    )
    try:
        runner.run(db.create_schema())
        runner.run(
            db.engine.dispose()
        )  # only the function's pool and this test's connection remain
        state = _State(db, Components())

        async def burst() -> tuple[list[str | None], int]:
            await _reset(raw)
            events = [
                ProcessorEvent(
                    event_id=f"burst{n}",
                    event_type="payment",
                    created=0,
                    effects=(
                        PaymentReceived(
                            processor_ref=f"burst{n}",
                            amount_text="0.01",
                            currency="usd",
                            amount_micros=10_000,
                            account_id="a1",
                        ),
                    ),
                )
                for n in range(16)
            ]
            outcomes = await asyncio.gather(
                *(_record_and_apply(state, "stripe", e) for e in events)  # type: ignore[arg-type]
            )
            connections = await raw.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            return list(outcomes), int(connections)

        outcomes, connections = runner.run(burst())
        assert outcomes == ["applied"] * 16
        assert connections <= 10, f"{connections} connections: one pool per concurrent first call"
        balance = runner.run(raw.fetchval("SELECT balance_micros FROM accounts WHERE id = 'a1'"))
        assert balance == 160_000
    finally:
        runner.run(raw.close())
        runner.run(db.dispose())
