"""The members Stripe always sends on an object, with the values it sends when the fake has nothing to say.

Stripe's objects carry every field of their API version, ``null`` when unset, and a few non-nullable
defaults (``automatic_tax``, ``issuer``, ``payment_settings``, ...). The objects' builders start from these,
so every object the fake serves validates against the published schemas pinned in
``contracts/processors/stripe.objects.schema.json`` (checked by ``tests/integration/fakes/test_stripe_schemas.py``).
Each function returns a fresh dict: callers mutate their objects.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "address",
    "checkout_session_defaults",
    "invoice_defaults",
    "line_item_defaults",
    "plan_of",
    "product_defaults",
    "subscription_defaults",
    "subscription_item_defaults",
]

Obj = dict[str, Any]


def _nulls(*names: str) -> Obj:
    return dict.fromkeys(names, None)


def address(country: str | None = None, **lines: str) -> Obj:
    """A Stripe ``address`` (every member present)."""
    empty = _nulls("city", "line1", "line2", "postal_code", "state")
    return {**empty, **lines, "country": country}


def invoice_defaults() -> Obj:
    """An invoice's members beyond amounts, customer and lines (a subscription invoice's defaults)."""
    return {
        **_nulls(
            "account_tax_ids", "application", "automatically_finalizes_at", "custom_fields",
            "customer_address", "customer_phone", "customer_shipping", "customer_tax_exempt",
            "default_payment_method", "default_source", "description", "due_date", "effective_at",
            "footer", "from_invoice", "last_finalization_error", "latest_revision",
            "next_payment_attempt", "on_behalf_of", "receipt_number", "rendering", "shipping_cost",
            "shipping_details", "statement_descriptor", "test_clock", "total_discount_amounts",
            "total_pretax_credit_amounts", "total_taxes", "webhooks_delivered_at",
        ),
        "automatic_tax": {
            "disabled_reason": None, "enabled": False, "liability": None, "provider": None, "status": None,
        },
        "customer_tax_exempt": "none",
        "default_tax_rates": [],
        "discounts": [],
        "issuer": {"type": "self"},
        "payment_settings": {
            "default_mandate": None, "payment_method_options": None, "payment_method_types": None,
        },
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "total_discount_amounts": [],
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
    }  # fmt: skip


def line_item_defaults() -> Obj:
    """An invoice line item's members beyond amount, period and parent."""
    return {
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "livemode": False,
        "metadata": {},
        "pretax_credit_amounts": [],
        "subscription": None,
        "taxes": [],
    }


def subscription_defaults() -> Obj:
    """A subscription's members beyond its customer, items, dates and status."""
    return {
        **_nulls(
            "application", "application_fee_percent", "billing_cycle_anchor_config", "billing_thresholds",
            "cancel_at", "canceled_at", "days_until_due", "default_payment_method", "default_source",
            "description", "ended_at", "latest_invoice", "next_pending_invoice_item_invoice",
            "on_behalf_of", "pause_collection", "payment_settings", "pending_invoice_item_interval",
            "pending_setup_intent", "pending_update", "schedule", "test_clock", "transfer_data",
            "trial_end", "trial_settings", "trial_start",
        ),
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_mode": {"flexible": None, "type": "classic"},
        "cancel_at_period_end": False,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "discounts": [],
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "livemode": False,
    }  # fmt: skip


def plan_of(price: Obj) -> Obj:
    """The legacy ``plan`` Stripe still renders on a subscription item from its recurring price."""
    recurring = price["recurring"]
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": dict(price["metadata"]),
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": recurring.get("usage_type", "licensed"),
    }


def subscription_item_defaults() -> Obj:
    """A subscription item's members beyond its price, quantity and period."""
    return {"billing_thresholds": None, "discounts": [], "metadata": {}, "tax_rates": []}


def checkout_session_defaults() -> Obj:
    """A Checkout Session's members beyond amounts, customer, mode and URLs."""
    return {
        **_nulls(
            "adaptive_pricing", "after_expiration", "allow_promotion_codes", "billing_address_collection",
            "client_secret", "collected_information", "consent", "consent_collection",
            "currency_conversion", "customer_creation", "customer_details", "discounts",
            "invoice_creation", "origin_context", "payment_intent", "payment_link",
            "payment_method_collection", "payment_method_configuration_details",
            "payment_method_options", "permissions", "recovered_from", "saved_payment_method_options",
            "setup_intent", "shipping_address_collection", "shipping_cost", "submit_type",
            "total_details", "ui_mode", "wallet_options",
        ),
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "custom_fields": [],
        "custom_text": {
            "after_submit": None, "shipping_address": None, "submit": None,
            "terms_of_service_acceptance": None,
        },
        "payment_method_types": ["card"],
        "shipping_options": [],
        "ui_mode": "hosted",
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
    }  # fmt: skip


def product_defaults() -> Obj:
    """A product's members beyond name, description and metadata."""
    return {
        **_nulls("package_dimensions", "shippable", "tax_code"),
        "marketing_features": [],
    }
