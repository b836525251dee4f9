"""Money defects: pricing (PRIOR_ART.md §1 defects 4 and 5, float rounding, no clamp) and how verified
processor events are applied (a paid plan that never flips the tier, a payment credited per report)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from harness.reference.effects import apply_effects
from harness.reference.money import CustomerCharge, clamp_margin, compute_customer_charge
from harness.reference.rails.base import Effect, PaymentReceived, SubscriptionPaid

__all__ = [
    "apply_credit_per_event",
    "apply_without_tier_flip",
    "price_ceil_as_floor_plus_one",
    "price_in_float",
    "price_recording_requested_margin",
    "price_with_margin_twice",
    "price_without_clamp",
]


def price_recording_requested_margin(
    cost_micros: int, margin_bps: int, *, min_bps: int, max_bps: int
) -> CustomerCharge:
    """The amount uses the clamped margin, the record keeps the caller's raw one (defect 4)."""
    charge = compute_customer_charge(cost_micros, margin_bps, min_bps=min_bps, max_bps=max_bps)
    return dataclasses.replace(charge, margin_bps=margin_bps)


def price_ceil_as_floor_plus_one(
    cost_micros: int, margin_bps: int, *, min_bps: int, max_bps: int
) -> CustomerCharge:
    """ "ceil" written as floor + 1: one micro too many on exact results, and a zero cost is charged one
    micro, so it reaches the ledger (defect 5)."""
    effective = clamp_margin(margin_bps, min_bps=min_bps, max_bps=max_bps)
    markup = cost_micros * effective // 10_000 + 1
    return CustomerCharge(
        cost_micros=cost_micros, margin_bps=effective, charged_micros=cost_micros + markup
    )


def price_in_float(
    cost_micros: int, margin_bps: int, *, min_bps: int, max_bps: int
) -> CustomerCharge:
    """The price through a float factor: `ceil(cost * 1.1)` is 111 for a cost of 100."""
    effective = clamp_margin(margin_bps, min_bps=min_bps, max_bps=max_bps)
    charged = math.ceil(cost_micros * (1 + effective / 10_000))
    return CustomerCharge(cost_micros=cost_micros, margin_bps=effective, charged_micros=charged)


def price_without_clamp(
    cost_micros: int, margin_bps: int, *, min_bps: int, max_bps: int
) -> CustomerCharge:
    """The configured clamp ignored: a negative margin charges below cost (or a negative amount)."""
    markup = -((-cost_micros * margin_bps) // 10_000)
    return CustomerCharge(
        cost_micros=cost_micros, margin_bps=margin_bps, charged_micros=cost_micros + markup
    )


def price_with_margin_twice(
    cost_micros: int, margin_bps: int, *, min_bps: int, max_bps: int
) -> CustomerCharge:
    """The margin multiplied in twice: the marked-up amount is marked up again (a price helper called on
    a price), so 1000 at 10% charges 1210; the record still shows the cost and the margin."""
    once = compute_customer_charge(cost_micros, margin_bps, min_bps=min_bps, max_bps=max_bps)
    twice = compute_customer_charge(
        once.charged_micros, margin_bps, min_bps=min_bps, max_bps=max_bps
    )
    return dataclasses.replace(once, charged_micros=twice.charged_micros)


async def apply_without_tier_flip(
    session: AsyncSession, rail: str, event_id: str, effects: tuple[Effect, ...], **kwargs: Any
) -> str:
    """Answers a paid subscription event as applied (the processor gets its 200) without ever recording
    the payment or raising the tier."""
    kept = tuple(e for e in effects if not isinstance(e, SubscriptionPaid))
    outcome = await apply_effects(session, rail, event_id, kept, **kwargs)
    return "applied" if len(kept) != len(effects) else outcome


async def apply_credit_per_event(
    session: AsyncSession, rail: str, event_id: str, effects: tuple[Effect, ...], **kwargs: Any
) -> str:
    """Dedupes payments by event instead of by payment: one payment reported by two events (a PAID then a
    SETTLED callback) is credited twice."""
    keyed = tuple(
        dataclasses.replace(e, processor_ref=f"{e.processor_ref}#{event_id}")
        if isinstance(e, PaymentReceived)
        else e
        for e in effects
    )
    return await apply_effects(session, rail, event_id, keyed, **kwargs)
