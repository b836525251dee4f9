"""Model → response-body conversions shared by the routes."""

from __future__ import annotations

from ..models import Account, LedgerEntry, Subscription, Topup
from .schemas import AccountOut, LedgerEntryOut, SubscriptionOut, TopupOut

__all__ = ["account_out", "entry_out", "subscription_out", "topup_out"]


def account_out(a: Account) -> AccountOut:
    """An account body."""
    return AccountOut(
        id=a.id,
        email=a.email,
        is_test_cohort=a.is_test_cohort,
        balance_micros=a.balance_micros,
        lifetime_paid_micros=a.lifetime_paid_micros,
        plan_tier=a.plan_tier,
        created_at=a.created_at,
    )


def entry_out(e: LedgerEntry) -> LedgerEntryOut:
    """A ledger entry body."""
    return LedgerEntryOut(
        id=e.id,
        account_id=e.account_id,
        kind=e.kind,
        direction=e.direction,
        amount_micros=e.amount_micros,
        signed_amount_micros=e.direction * e.amount_micros,
        balance_after_micros=e.balance_after_micros,
        source=e.source,
        reference=e.reference,
        memo=e.memo,
        created_at=e.created_at,
    )


def topup_out(t: Topup) -> TopupOut:
    """A top-up body."""
    return TopupOut(
        id=t.id,
        account_id=t.account_id,
        rail=t.rail,
        amount_micros=t.amount_micros,
        status=t.status,
        processor_ref=t.processor_ref,
        details=dict(t.details or {}),
        created_at=t.created_at,
    )


def subscription_out(s: Subscription, url: str | None = None) -> SubscriptionOut:
    """A subscription body."""
    return SubscriptionOut(
        id=s.id,
        account_id=s.account_id,
        rail=s.rail,
        plan=s.plan,
        status=s.status,
        checkout_ref=s.checkout_ref,
        processor_subscription_id=s.processor_subscription_id,
        checkout_url=url,
    )
