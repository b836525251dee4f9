"""Database tables of the reference service (SQLAlchemy 2, portable between SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Account",
    "Base",
    "Charge",
    "Invoice",
    "LedgerEntry",
    "Outcome",
    "Receipt",
    "Reservation",
    "Settlement",
    "Subscription",
    "SubscriptionCancellation",
    "Topup",
    "WebhookEvent",
    "utcnow",
]


def utcnow() -> datetime:
    """Aware UTC now (the one clock of the service's records)."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite stores no zone, so it is restored on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base of the reference schema."""

    type_annotation_map = {dict[str, Any]: JSON}


class Account(Base):
    """A wallet holder; `balance_micros` always equals the signed sum of its ledger."""

    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    is_test_cohort: Mapped[bool] = mapped_column(Boolean, default=False)
    balance_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_paid_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    plan_tier: Mapped[str] = mapped_column(String(32), default="free")
    stripe_customer_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    xendit_customer_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    __table_args__ = (CheckConstraint("lifetime_paid_micros >= 0", name="ck_lifetime_nonneg"),)


class LedgerEntry(Base):
    """Append-only money movement. Amount is always > 0; `kind` and `direction` give the sign."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # credit | debit | adjustment
    direction: Mapped[int] = mapped_column(Integer)  # +1 or -1
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    balance_after_micros: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(32))  # stripe|xendit|cdp|charge|settle|admin
    reference: Mapped[str | None] = mapped_column(String(256))
    idempotency_key: Mapped[str] = mapped_column(String(300), unique=True)
    memo: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    __table_args__ = (
        CheckConstraint("amount_micros > 0", name="ck_ledger_amount_positive"),
        CheckConstraint("direction IN (1, -1)", name="ck_ledger_direction"),
        CheckConstraint("kind IN ('credit', 'debit', 'adjustment')", name="ck_ledger_kind"),
    )


class WebhookEvent(Base):
    """Every processor event applied or seen once; the unique key is the dedupe."""

    __tablename__ = "webhook_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rail: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(256))
    event_type: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    __table_args__ = (UniqueConstraint("rail", "event_id", name="uq_webhook_rail_event"),)


class Receipt(Base):
    """Money a processor says it received, in its own currency; credited only when USD."""

    __tablename__ = "receipts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rail: Mapped[str] = mapped_column(String(16))
    processor_ref: Mapped[str] = mapped_column(String(256))
    account_id: Mapped[str | None] = mapped_column(String(64), index=True)
    topup_id: Mapped[str | None] = mapped_column(String(64))
    amount_minor: Mapped[str] = mapped_column(
        String(64)
    )  # exact decimal text in the currency's units
    currency: Mapped[str] = mapped_column(String(8))
    amount_micros: Mapped[int | None] = mapped_column(BigInteger)
    credited: Mapped[bool] = mapped_column(Boolean, default=False)
    event_id: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    __table_args__ = (UniqueConstraint("rail", "processor_ref", name="uq_receipt_rail_ref"),)


class Topup(Base):
    """A top-up started at a processor."""

    __tablename__ = "topups"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    rail: Mapped[str] = mapped_column(String(16))
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    processor_ref: Mapped[str | None] = mapped_column(String(256))
    client_key: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    __table_args__ = (
        UniqueConstraint("account_id", "rail", "client_key", name="uq_topup_client_key"),
        CheckConstraint("amount_micros > 0", name="ck_topup_amount_positive"),
    )


class Subscription(Base):
    """A plan subscription at a processor; the truth behind `plan_tier`."""

    __tablename__ = "subscriptions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    rail: Mapped[str] = mapped_column(String(16))
    plan: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|active|canceled
    checkout_ref: Mapped[str | None] = mapped_column(String(256))
    processor_subscription_id: Mapped[str | None] = mapped_column(String(256))
    last_event_at: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    __table_args__ = (
        UniqueConstraint("rail", "processor_subscription_id", name="uq_subscription_ref"),
    )


class SubscriptionCancellation(Base):
    """A processor subscription reported ended, kept so that a paid event arriving after its cancellation
    (events are delivered out of order) can never make the plan active again."""

    __tablename__ = "subscription_cancellations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rail: Mapped[str] = mapped_column(String(16))
    processor_subscription_id: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    __table_args__ = (
        UniqueConstraint("rail", "processor_subscription_id", name="uq_subscription_cancellation"),
    )


class Invoice(Base):
    """A subscription invoice the processor reported paid."""

    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    rail: Mapped[str] = mapped_column(String(16))
    processor_ref: Mapped[str] = mapped_column(String(256))
    subscription_id: Mapped[str | None] = mapped_column(String(64))
    amount_minor: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    __table_args__ = (UniqueConstraint("rail", "processor_ref", name="uq_invoice_ref"),)


class Outcome(Base):
    """A metered outcome whose provider cost a charge reads; one per inference."""

    __tablename__ = "outcomes"
    inference_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    __table_args__ = (CheckConstraint("cost_micros >= 0", name="ck_outcome_cost_nonneg"),)


class Charge(Base):
    """The customer charge of one inference (at most one, by the primary key)."""

    __tablename__ = "charges"
    inference_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    margin_bps_requested: Mapped[int | None] = mapped_column(Integer)
    margin_bps: Mapped[int] = mapped_column(Integer)
    charged_micros: Mapped[int] = mapped_column(BigInteger)
    ledger_entry_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Settlement(Base):
    """One settle-at-close of a paid request (the request id is the idempotency key)."""

    __tablename__ = "settlements"
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    protocol: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str | None] = mapped_column(String(64))
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))
    transaction: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Reservation(Base):
    """The cap an open wallet usage session holds on its account's balance until it settles.

    The sum of an account's live reservations never exceeds its balance, so concurrent sessions cannot
    serve more than the wallet holds. `expires_at` bounds a reservation a crashed process never released.
    """

    __tablename__ = "reservations"
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    __table_args__ = (CheckConstraint("amount_micros >= 0", name="ck_reservation_nonneg"),)
