"""Acme's billing tables on SQLite: users, a signed credit journal, seen webhook events, charges, purchases.

A small, ordinary SaaS store: credits are integer US cents (`credits_cents`), every change of credits is one
journal row with a signed `delta_cents`, and a processor event id is stored once. One lock serialises writers,
as a single-process app with SQLite would.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, email TEXT NOT NULL, plan TEXT NOT NULL DEFAULT 'free',
    credits_cents INTEGER NOT NULL DEFAULT 0, paid_cents INTEGER NOT NULL DEFAULT 0,
    sandbox INTEGER NOT NULL DEFAULT 0, stripe_customer TEXT, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS credit_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, delta_cents INTEGER NOT NULL,
    reason TEXT NOT NULL, ref TEXT, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_events (provider TEXT NOT NULL, event_id TEXT NOT NULL,
    PRIMARY KEY (provider, event_id));
CREATE TABLE IF NOT EXISTS charges (request_id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
    cost_cents INTEGER NOT NULL, markup_bps INTEGER NOT NULL, charged_cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS purchases (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, provider TEXT NOT NULL,
    amount_cents INTEGER NOT NULL, idempotency_key TEXT UNIQUE, provider_ref TEXT, answer TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (provider_ref TEXT PRIMARY KEY, user_id TEXT NOT NULL,
    plan TEXT NOT NULL, status TEXT NOT NULL);
"""


class Store:
    """Acme's database: one SQLite file, one writer at a time."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the store's lock."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- users ------------------------------------------------------------------------------------------

    def create_user(self, email: str, *, sandbox: bool) -> dict[str, Any]:
        """A new user on the free plan with no credits."""
        user_id = "usr_" + uuid.uuid4().hex[:16]
        with self.tx() as db:
            db.execute(
                "INSERT INTO users (id, email, sandbox, created) VALUES (?, ?, ?, ?)",
                (user_id, email, int(sandbox), time.time()),
            )
        user = self.user(user_id)
        assert user is not None
        return user

    def user(self, user_id: str) -> dict[str, Any] | None:
        """A user as the API shows it, or None."""
        row = self._db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            return None
        return {
            "id": row["id"],
            "email": row["email"],
            "plan": row["plan"],
            "credits_cents": row["credits_cents"],
            "paid_cents": row["paid_cents"],
            "sandbox": bool(row["sandbox"]),
        }

    def delete_user(self, user_id: str) -> None:
        """Remove a user and everything of theirs."""
        with self.tx() as db:
            for table in ("credit_journal", "charges", "purchases", "subscriptions"):
                db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM users WHERE id = ?", (user_id,))

    def set_customer(self, user_id: str, customer: str) -> None:
        """Remember the user's Stripe customer."""
        with self.tx() as db:
            db.execute("UPDATE users SET stripe_customer = ? WHERE id = ?", (customer, user_id))

    def stripe_customer(self, user_id: str) -> str | None:
        """The user's Stripe customer id, if one was created."""
        row = self._db.execute(
            "SELECT stripe_customer FROM users WHERE id = ?", (user_id,)
        ).fetchone()
        return None if row is None else row[0]

    def user_by_customer(self, customer: str) -> str | None:
        """The user owning a Stripe customer."""
        row = self._db.execute(
            "SELECT id FROM users WHERE stripe_customer = ?", (customer,)
        ).fetchone()
        return None if row is None else str(row[0])

    def journal(self, user_id: str) -> list[dict[str, Any]]:
        """Credit journal of a user, newest first."""
        rows = self._db.execute(
            "SELECT * FROM credit_journal WHERE user_id = ? ORDER BY id DESC", (user_id,)
        ).fetchall()
        return [
            {"id": r["id"], "delta_cents": r["delta_cents"], "reason": r["reason"], "ref": r["ref"]}
            for r in rows
        ]

    # -- credits ----------------------------------------------------------------------------------------

    @staticmethod
    def move_credits(
        db: sqlite3.Connection,
        user_id: str,
        delta_cents: int,
        *,
        reason: str,
        ref: str | None,
        paid: bool = False,
    ) -> None:
        """Inside a transaction: add `delta_cents` (signed) to a user's credits, with its journal row."""
        db.execute(
            "UPDATE users SET credits_cents = credits_cents + ?, paid_cents = paid_cents + ? "
            "WHERE id = ?",
            (delta_cents, delta_cents if paid else 0, user_id),
        )
        db.execute(
            "INSERT INTO credit_journal (user_id, delta_cents, reason, ref, at) VALUES (?, ?, ?, ?, ?)",
            (user_id, delta_cents, reason, ref, time.time()),
        )

    @staticmethod
    def first_sight(db: sqlite3.Connection, provider: str, event_id: str) -> bool:
        """Inside a transaction: record a processor event id; False when it was seen before."""
        cur = db.execute(
            "INSERT OR IGNORE INTO seen_events (provider, event_id) VALUES (?, ?)",
            (provider, event_id),
        )
        return cur.rowcount == 1
