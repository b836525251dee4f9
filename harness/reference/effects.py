"""Apply verified processor events to accounts, ledger and subscriptions, in the caller's transaction.

Every effect is idempotent on its own key, so a duplicate event, or the same payment reported by two different
events (a CDP `/pay` and its webhook, a PAID then SETTLED Xendit callback), moves money once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .credits import credit_payment
from .ledger import get_account_for_update
from .models import Invoice, Subscription, SubscriptionCancellation
from .rails.base import (
    Effect,
    PaymentReceived,
    SubscriptionCanceled,
    SubscriptionLinked,
    SubscriptionPaid,
)

__all__ = ["PLAN_RANK", "apply_effects", "recompute_tier"]

PLAN_RANK = {"free": 0, "pro": 1, "team": 2}


async def apply_effects(
    session: AsyncSession, rail: str, event_id: str, effects: tuple[Effect, ...], *, row_lock: bool
) -> str:
    """Apply every effect; return the webhook outcome (`applied`, `not_credited`, `duplicate_payment`
    or `ignored`)."""
    if not effects:
        return "ignored"
    outcomes = []
    for effect in effects:
        if isinstance(effect, PaymentReceived):
            conn = await session.connection()
            outcomes.append(await credit_payment(conn, rail, effect, event_id, row_lock=row_lock))
        elif isinstance(effect, SubscriptionLinked):
            outcomes.append(await _link(session, rail, effect))
        elif isinstance(effect, SubscriptionPaid):
            outcomes.append(await _paid(session, rail, effect, row_lock=row_lock))
        else:
            outcomes.append(await _canceled(session, rail, effect, row_lock=row_lock))
    for outcome in ("applied", "not_credited", "duplicate_payment"):
        if outcome in outcomes:
            # the route answers `duplicate` for a payment another event already reported
            return outcome
    return "ignored"


async def _find_subscription(
    session: AsyncSession,
    rail: str,
    ref: str,
    *,
    checkout_ref: str | None = None,
    local_id: str | None = None,
) -> Subscription | None:
    if local_id:
        sub = await session.get(Subscription, local_id)
        if sub is not None and sub.rail == rail:
            return sub
    sub = (
        await session.execute(
            select(Subscription).where(
                Subscription.rail == rail, Subscription.processor_subscription_id == ref
            )
        )
    ).scalar_one_or_none()
    if sub is None and checkout_ref:
        sub = (
            await session.execute(
                select(Subscription).where(
                    Subscription.rail == rail, Subscription.checkout_ref == checkout_ref
                )
            )
        ).scalar_one_or_none()
    return sub


async def _link(session: AsyncSession, rail: str, e: SubscriptionLinked) -> str:
    sub = await _find_subscription(
        session, rail, e.subscription_ref, checkout_ref=e.checkout_ref, local_id=e.local_id
    )
    if sub is None:
        return "ignored"
    if sub.processor_subscription_id is None:
        sub.processor_subscription_id = e.subscription_ref
    return "ignored"  # linking changes no money and no tier


async def _subscription_for(
    session: AsyncSession,
    rail: str,
    ref: str,
    account_id: str | None,
    plan: str | None,
    checkout_ref: str | None = None,
    local_id: str | None = None,
    *,
    row_lock: bool,
) -> Subscription | None:
    sub = await _find_subscription(session, rail, ref, checkout_ref=checkout_ref, local_id=local_id)
    if sub is None and account_id and plan in PLAN_RANK:
        # the account row is locked before any row referencing it is written: a foreign key check takes
        # a share lock, and upgrading it later (recompute_tier) deadlocks two events of one account
        if await get_account_for_update(session, account_id, row_lock=row_lock) is None:
            return None
        canceled = await _cancellation_seen(session, rail, ref)
        sub = Subscription(
            id=f"sub_ph_{ref}"[:64],
            account_id=account_id,
            rail=rail,
            plan=plan,
            processor_subscription_id=ref,
            status="canceled" if canceled else "pending",
        )
        session.add(sub)
        await session.flush()
    elif sub is not None and sub.processor_subscription_id is None:
        sub.processor_subscription_id = ref
    return sub


async def _paid(session: AsyncSession, rail: str, e: SubscriptionPaid, *, row_lock: bool) -> str:
    sub = await _subscription_for(
        session,
        rail,
        e.subscription_ref,
        e.account_id,
        e.plan,
        e.checkout_ref,
        e.local_id,
        row_lock=row_lock,
    )
    if sub is None:
        return "ignored"
    # locked before the invoice row that references it (see _subscription_for)
    await get_account_for_update(session, sub.account_id, row_lock=row_lock)
    invoice = Invoice(
        account_id=sub.account_id,
        rail=rail,
        processor_ref=e.invoice_ref,
        subscription_id=sub.id,
        amount_minor=e.amount_text,
        currency=e.currency.upper(),
        status="paid",
    )
    try:
        async with session.begin_nested():
            session.add(invoice)
    except IntegrityError:
        pass  # the same invoice reported twice
    if sub.status == "canceled":
        return "ignored"  # a canceled subscription never comes back (older event arriving late)
    sub.status = "active"
    await recompute_tier(session, sub.account_id, row_lock=row_lock)
    return "applied"


async def _canceled(
    session: AsyncSession, rail: str, e: SubscriptionCanceled, *, row_lock: bool
) -> str:
    sub = await _find_subscription(session, rail, e.subscription_ref, local_id=e.local_id)
    if sub is None:
        # the cancellation overtook the paid event that would create the subscription: remember it,
        # so that paid event, arriving late, records its invoice but never raises the tier
        await _remember_cancellation(session, rail, e.subscription_ref)
        return "ignored"
    if sub.processor_subscription_id is None:
        sub.processor_subscription_id = e.subscription_ref
    sub.status = "canceled"
    await recompute_tier(session, sub.account_id, row_lock=row_lock)
    return "applied"


async def _cancellation_seen(session: AsyncSession, rail: str, ref: str) -> bool:
    found = (
        await session.execute(
            select(SubscriptionCancellation.id).where(
                SubscriptionCancellation.rail == rail,
                SubscriptionCancellation.processor_subscription_id == ref,
            )
        )
    ).first()
    return found is not None


async def _remember_cancellation(session: AsyncSession, rail: str, ref: str) -> None:
    if await _cancellation_seen(session, rail, ref):
        return
    try:
        async with session.begin_nested():
            session.add(SubscriptionCancellation(rail=rail, processor_subscription_id=ref))
    except IntegrityError:
        pass  # a concurrent delivery remembered it first


async def recompute_tier(session: AsyncSession, account_id: str, *, row_lock: bool) -> None:
    """The tier is the best plan among active subscriptions: independent of event order."""
    account = await get_account_for_update(session, account_id, row_lock=row_lock)
    if account is None:
        return
    await session.flush()
    plans = (
        await session.execute(
            select(Subscription.plan).where(
                Subscription.account_id == account_id, Subscription.status == "active"
            )
        )
    ).scalars()
    account.plan_tier = max(plans, key=lambda p: PLAN_RANK.get(p, 0), default="free")
