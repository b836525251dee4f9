"""Every event type the Stripe fake can emit: the catalog ``payharness trigger stripe`` must cover.

:meth:`~fakes.stripe.state.StripeState.emit` refuses any other type, so this list cannot fall behind the
code; ``tests/unit/fakes/test_trigger_coverage.py`` checks that each type has a trigger recipe.
"""

from __future__ import annotations

__all__ = ["EVENT_TYPES"]

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "cash_balance.funds_available",
        "charge.captured",
        "charge.dispute.closed",
        "charge.dispute.created",
        "charge.dispute.funds_reinstated",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
        "charge.failed",
        "charge.refunded",
        "charge.succeeded",
        "checkout.session.completed",
        "coupon.created",
        "coupon.deleted",
        "coupon.updated",
        "checkout.session.expired",
        "customer.created",
        "customer.deleted",
        "customer.discount.created",
        "customer.discount.deleted",
        "customer.subscription.created",
        "customer.subscription.deleted",
        "customer.subscription.updated",
        "customer.updated",
        "customer_cash_balance_transaction.created",
        "invoice.created",
        "invoice.deleted",
        "invoice.finalized",
        "invoice.marked_uncollectible",
        "invoice.paid",
        "invoice.payment_action_required",
        "invoice.payment_failed",
        "invoice.payment_succeeded",
        "invoice.voided",
        "invoiceitem.created",
        "payment_intent.amount_capturable_updated",
        "payment_intent.canceled",
        "payment_intent.created",
        "payment_intent.payment_failed",
        "payment_intent.requires_action",
        "payment_intent.succeeded",
        "payment_method.attached",
        "payment_method.detached",
        "promotion_code.created",
        "promotion_code.updated",
        "refund.created",
        "setup_intent.canceled",
        "setup_intent.created",
        "setup_intent.requires_action",
        "setup_intent.setup_failed",
        "setup_intent.succeeded",
        "test_helpers.test_clock.advancing",
        "test_helpers.test_clock.created",
        "test_helpers.test_clock.deleted",
        "test_helpers.test_clock.ready",
    }
)
