"""What the stateful suite generates: event kinds per rail, delivery authenticity, malformed bodies, and
the kinds left out while the reference service gets them wrong."""

from __future__ import annotations

from hypothesis import strategies as st

from . import events as ev

__all__ = [
    "AUTH",
    "CDP_KINDS",
    "MALFORMED",
    "PENDING_REFERENCE_DEFECTS",
    "STRIPE_KINDS",
    "SUB_PLANS",
    "XENDIT_KINDS",
]

#: Delivery authenticity: mostly valid, so sequences build state; forgeries are refused and inert.
AUTH = st.sampled_from(["valid", "valid", "valid", "missing", "forged"])
STRIPE_KINDS = (
    "funded",
    "funded_jpy",
    "funded_zero",
    "funded_negative",
    "funded_huge",
    "invoice_paid",
    "subscription_deleted",
    "subscription_updated_canceled",
    *ev.INERT_STRIPE,
)
XENDIT_KINDS = (
    "PAID",
    "SETTLED",
    "PAID_IDR",
    "PAID_zero",
    "cycle_succeeded",
    "plan_inactivated",
    *ev.INERT_XENDIT,
)
#: Kinds the reference service got wrong when this suite found them, left out of generation until the fix
#: landed; empty now. Found so far (both fixed, pinned by tests/integration/suites/test_stateful_suite.py):
#: a validly signed Stripe funding of 10^12 cents was credited past the contract's bound (`funded_huge`),
#: and a non-USDC CDP settlement answered 500 on PostgreSQL (`completed_other_asset`).
PENDING_REFERENCE_DEFECTS: frozenset[str] = frozenset()
CDP_KINDS = ("completed", "completed_other_asset", "completed_zero", *ev.INERT_CDP)
#: The plan of each subscription the suite's own events name (a subscription's plan never changes).
SUB_PLANS = ("pro", "team", "pro")
MALFORMED = (b"not json", b"[]", b"{}", b'{"id": 7}')
