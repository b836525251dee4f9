"""Stripe trigger recipes: fixtures built through the Stripe fake's API, as ``stripe trigger`` does.

| event | fixture |
|---|---|
| ``customer.created`` / ``.updated`` / ``.deleted`` | ``POST /v1/customers``, then update or delete it |
| ``checkout.session.completed``, ``customer.subscription.created``, ``invoice.paid`` | product, monthly price, subscription Checkout Session, completed (``/_fake/checkout/sessions/{id}/complete``) |
| ``checkout.session.expired`` | a session, then ``POST /v1/checkout/sessions/{id}/expire`` |
| ``customer.subscription.updated`` / ``.deleted`` | a subscription as above, then updated (metadata) / cancelled |
| ``customer_cash_balance_transaction.created``, ``cash_balance.funds_available`` | a customer funded through ``/v1/test_helpers/customers/{id}/fund_cash_balance`` |

Events the Stripe fake does not emit yet (``invoice.payment_failed``, ``payment_intent.*``,
``charge.*``) have no recipe; ``payharness trigger --list`` shows what each rail can do.
"""

from __future__ import annotations

from typing import Any

from fakes._common.triggering import Recipe, TriggerContext
from fakes.trigger._http import call

__all__ = ["RECIPES"]


async def _post(ctx: TriggerContext, path: str, data: dict[str, Any] | None = None) -> Any:
    return await call(ctx.api, "POST", path, data=data or {}, headers=_auth(ctx))


def _auth(ctx: TriggerContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.config['api_keys'][0]}"}


async def _customer(ctx: TriggerContext) -> dict[str, Any]:
    customer: dict[str, Any] = await _post(
        ctx,
        "/v1/customers",
        {"email": "trigger@example.test", "description": "(created by trigger)"},
    )
    return customer


async def _session(ctx: TriggerContext) -> dict[str, Any]:
    product = await _post(ctx, "/v1/products", {"name": "Trigger plan"})
    price = await _post(
        ctx,
        "/v1/prices",
        {
            "product": product["id"],
            "unit_amount": "1500",
            "currency": "usd",
            "recurring[interval]": "month",
        },
    )
    customer = await _customer(ctx)
    session: dict[str, Any] = await _post(
        ctx,
        "/v1/checkout/sessions",
        {
            "mode": "subscription",
            "customer": customer["id"],
            "line_items[0][price]": price["id"],
            "line_items[0][quantity]": "1",
            "success_url": "https://example.test/success",
        },
    )
    return session


async def _subscription(ctx: TriggerContext) -> str:
    session = await _session(ctx)
    completed = await _post(ctx, f"/_fake/checkout/sessions/{session['id']}/complete")
    subscription = completed["subscription"]
    return str(subscription["id"] if isinstance(subscription, dict) else subscription)


async def customer_created(ctx: TriggerContext) -> None:
    await _customer(ctx)


async def customer_updated(ctx: TriggerContext) -> None:
    customer = await _customer(ctx)
    await _post(ctx, f"/v1/customers/{customer['id']}", {"metadata[triggered]": "true"})


async def customer_deleted(ctx: TriggerContext) -> None:
    customer = await _customer(ctx)
    await call(ctx.api, "DELETE", f"/v1/customers/{customer['id']}", headers=_auth(ctx))


async def checkout_completed(ctx: TriggerContext) -> None:
    await _subscription(ctx)


async def checkout_expired(ctx: TriggerContext) -> None:
    session = await _session(ctx)
    await _post(ctx, f"/v1/checkout/sessions/{session['id']}/expire")


async def subscription_updated(ctx: TriggerContext) -> None:
    subscription_id = await _subscription(ctx)
    await _post(ctx, f"/v1/subscriptions/{subscription_id}", {"metadata[triggered]": "true"})


async def subscription_deleted(ctx: TriggerContext) -> None:
    subscription_id = await _subscription(ctx)
    await call(ctx.api, "DELETE", f"/v1/subscriptions/{subscription_id}", headers=_auth(ctx))


async def cash_funded(ctx: TriggerContext) -> None:
    customer = await _customer(ctx)
    await _post(
        ctx,
        f"/v1/test_helpers/customers/{customer['id']}/fund_cash_balance",
        {"amount": "5000", "currency": "usd"},
    )


RECIPES: dict[str, Recipe] = {
    "customer.created": customer_created,
    "customer.updated": customer_updated,
    "customer.deleted": customer_deleted,
    "checkout.session.completed": checkout_completed,
    "customer.subscription.created": checkout_completed,
    "invoice.paid": checkout_completed,
    "checkout.session.expired": checkout_expired,
    "customer.subscription.updated": subscription_updated,
    "customer.subscription.deleted": subscription_deleted,
    "customer_cash_balance_transaction.created": cash_funded,
    "cash_balance.funds_available": cash_funded,
}
