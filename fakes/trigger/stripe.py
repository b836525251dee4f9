"""Stripe trigger recipes: fixtures built through the Stripe fake's API, as ``stripe trigger`` does.

Every event type the fake can emit (:data:`fakes.stripe.event_types.EVENT_TYPES`) has a recipe here
(checked by ``tests/unit/fakes/test_trigger_coverage.py``):

| event | fixture |
|---|---|
| ``customer.created`` / ``.updated`` / ``.deleted`` | ``POST /v1/customers``, then update or delete it |
| ``checkout.session.completed``, ``customer.subscription.created``, ``invoice.paid`` | product, monthly price, subscription Checkout Session, completed (``/_fake/checkout/sessions/{id}/complete``) |
| ``checkout.session.expired`` | a session, then ``POST /v1/checkout/sessions/{id}/expire`` |
| ``customer.subscription.updated`` / ``.deleted`` | a subscription as above, then updated (metadata) / cancelled |
| ``customer_cash_balance_transaction.created``, ``cash_balance.funds_available`` | a customer funded through ``/v1/test_helpers/customers/{id}/fund_cash_balance`` |
| ``payment_intent.created`` / ``.succeeded``, ``charge.succeeded`` | a PaymentIntent confirmed with ``pm_card_visa`` |
| ``payment_intent.payment_failed``, ``charge.failed`` | a PaymentIntent confirmed with ``pm_card_chargeDeclined`` (the 402 is expected) |
| ``payment_intent.requires_action`` | a PaymentIntent confirmed with ``pm_card_authenticationRequired`` |
| ``payment_intent.canceled`` | a PaymentIntent, then canceled |
| ``payment_intent.amount_capturable_updated``, ``charge.captured`` | a ``capture_method=manual`` PaymentIntent, confirmed, then captured |
| ``refund.created``, ``charge.refunded`` | a paid PaymentIntent, refunded |
| ``invoice.created`` / ``.finalized`` / ``.payment_succeeded`` | a one-off invoice with an item, finalized, paid with ``pm_card_visa`` |
| ``invoice.payment_failed`` | a customer whose card is ``pm_card_chargeCustomerFail``, a one-off invoice finalized and paid (the 402 is expected), as the Stripe CLI's fixture does |
| ``invoice.payment_action_required`` | the same invoice paid with ``pm_card_authenticationRequired`` |
| ``invoice.voided`` / ``.marked_uncollectible`` / ``.deleted`` | a one-off invoice finalized then voided / marked uncollectible; a draft deleted |
| ``test_helpers.test_clock.created`` / ``.advancing`` / ``.ready`` / ``.deleted`` | a test clock, advanced a day, deleted |
| ``payment_method.attached`` / ``.detached`` | ``pm_card_visa`` attached to a customer, then detached |
| ``setup_intent.created`` / ``.succeeded`` | a SetupIntent for a customer, confirmed with ``pm_card_visa`` |
| ``setup_intent.setup_failed`` | a SetupIntent confirmed with ``pm_card_chargeDeclined`` (the 402 is expected) |
| ``setup_intent.requires_action`` | a SetupIntent confirmed with ``pm_card_authenticationRequired`` |
| ``setup_intent.canceled`` | a SetupIntent, then canceled |
| ``charge.dispute.created`` / ``.funds_withdrawn`` | a PaymentIntent paid with ``pm_card_createDispute`` |
| ``charge.dispute.updated`` / ``.closed`` / ``.funds_reinstated`` | that dispute answered with Stripe's ``winning_evidence`` |
| ``coupon.created`` / ``.updated`` / ``.deleted`` | a 25% coupon, renamed, deleted |
| ``promotion_code.created`` / ``.updated`` | a coupon and a promotion code for it, deactivated |
| ``customer.discount.created`` / ``.deleted`` | a subscription Checkout Session with a 20% ``once`` coupon, completed: the discount applies to the first invoice and ends |
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


async def _session(ctx: TriggerContext, extra: dict[str, str] | None = None) -> dict[str, Any]:
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
            **(extra or {}),
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


async def _attempt(ctx: TriggerContext, path: str, data: dict[str, Any]) -> None:
    """A POST expected to fail as the event requires (a decline answers 402 ``card_error``)."""
    response = await ctx.api.post(path, data=data, headers=_auth(ctx))
    if response.status_code not in (200, 402):
        await call(ctx.api, "POST", path, data=data, headers=_auth(ctx))  # raises with the answer


async def _intent(ctx: TriggerContext, card: str, **extra: str) -> dict[str, Any]:
    intent: dict[str, Any] = await _post(
        ctx, "/v1/payment_intents", {"amount": "2000", "currency": "usd", **extra}
    )
    await _attempt(ctx, f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": card})
    return intent


async def intent_succeeded(ctx: TriggerContext) -> None:
    await _intent(ctx, "pm_card_visa")


async def intent_failed(ctx: TriggerContext) -> None:
    await _intent(ctx, "pm_card_chargeDeclined")


async def intent_requires_action(ctx: TriggerContext) -> None:
    await _intent(ctx, "pm_card_authenticationRequired")


async def intent_canceled(ctx: TriggerContext) -> None:
    intent = await _post(ctx, "/v1/payment_intents", {"amount": "2000", "currency": "usd"})
    await _post(ctx, f"/v1/payment_intents/{intent['id']}/cancel")


async def intent_captured(ctx: TriggerContext) -> None:
    intent = await _intent(ctx, "pm_card_visa", capture_method="manual")
    await _post(ctx, f"/v1/payment_intents/{intent['id']}/capture")


async def refunded(ctx: TriggerContext) -> None:
    intent = await _intent(ctx, "pm_card_visa")
    await _post(ctx, "/v1/refunds", {"payment_intent": intent["id"]})


async def _open_invoice(ctx: TriggerContext, card: str = "pm_card_visa") -> dict[str, Any]:
    customer = await _post(
        ctx,
        "/v1/customers",
        {"email": "trigger@example.test", "payment_method": card,
         "invoice_settings[default_payment_method]": card},
    )  # fmt: skip
    invoice: dict[str, Any] = await _post(ctx, "/v1/invoices", {"customer": customer["id"]})
    await _post(
        ctx,
        "/v1/invoiceitems",
        {"customer": customer["id"], "amount": "2000", "currency": "usd",
         "invoice": invoice["id"]},
    )  # fmt: skip
    await _post(ctx, f"/v1/invoices/{invoice['id']}/finalize")
    return invoice


async def invoice_paid(ctx: TriggerContext) -> None:
    invoice = await _open_invoice(ctx)
    await _post(ctx, f"/v1/invoices/{invoice['id']}/pay")


async def invoice_failed(ctx: TriggerContext) -> None:
    invoice = await _open_invoice(ctx, "pm_card_chargeCustomerFail")
    await _attempt(ctx, f"/v1/invoices/{invoice['id']}/pay", {})


async def invoice_action_required(ctx: TriggerContext) -> None:
    invoice = await _open_invoice(ctx, "pm_card_authenticationRequired")
    await _attempt(ctx, f"/v1/invoices/{invoice['id']}/pay", {})


async def invoice_voided(ctx: TriggerContext) -> None:
    invoice = await _open_invoice(ctx)
    await _post(ctx, f"/v1/invoices/{invoice['id']}/void")


async def invoice_uncollectible(ctx: TriggerContext) -> None:
    invoice = await _open_invoice(ctx)
    await _post(ctx, f"/v1/invoices/{invoice['id']}/mark_uncollectible")


async def invoice_deleted(ctx: TriggerContext) -> None:
    customer = await _customer(ctx)
    invoice = await _post(ctx, "/v1/invoices", {"customer": customer["id"]})
    await call(ctx.api, "DELETE", f"/v1/invoices/{invoice['id']}", headers=_auth(ctx))


async def clock_cycle(ctx: TriggerContext) -> None:
    clock = await _post(ctx, "/v1/test_helpers/test_clocks", {"frozen_time": "1700000000"})
    path = f"/v1/test_helpers/test_clocks/{clock['id']}"
    await _post(ctx, path + "/advance", {"frozen_time": "1700086400"})
    await call(ctx.api, "DELETE", path, headers=_auth(ctx))


async def method_cycle(ctx: TriggerContext) -> None:
    customer = await _customer(ctx)
    method = await _post(
        ctx, "/v1/payment_methods/pm_card_visa/attach", {"customer": customer["id"]}
    )
    await _post(ctx, f"/v1/payment_methods/{method['id']}/detach")


async def _setup(ctx: TriggerContext, card: str) -> dict[str, Any]:
    customer = await _customer(ctx)
    intent: dict[str, Any] = await _post(ctx, "/v1/setup_intents", {"customer": customer["id"]})
    await _attempt(ctx, f"/v1/setup_intents/{intent['id']}/confirm", {"payment_method": card})
    return intent


async def setup_succeeded(ctx: TriggerContext) -> None:
    await _setup(ctx, "pm_card_visa")


async def setup_failed(ctx: TriggerContext) -> None:
    await _setup(ctx, "pm_card_chargeDeclined")


async def setup_requires_action(ctx: TriggerContext) -> None:
    await _setup(ctx, "pm_card_authenticationRequired")


async def setup_canceled(ctx: TriggerContext) -> None:
    intent = await _post(ctx, "/v1/setup_intents", {})
    await _post(ctx, f"/v1/setup_intents/{intent['id']}/cancel")


async def disputed(ctx: TriggerContext) -> None:
    await _intent(ctx, "pm_card_createDispute")


async def dispute_won(ctx: TriggerContext) -> None:
    intent = await _intent(ctx, "pm_card_createDispute")
    disputes = await call(
        ctx.api, "GET", f"/v1/disputes?payment_intent={intent['id']}", headers=_auth(ctx)
    )
    await _post(
        ctx,
        f"/v1/disputes/{disputes['data'][0]['id']}",
        {"evidence[uncategorized_text]": "winning_evidence"},
    )


async def coupon_cycle(ctx: TriggerContext) -> None:
    coupon = await _post(ctx, "/v1/coupons", {"percent_off": "25", "duration": "once"})
    await _post(ctx, f"/v1/coupons/{coupon['id']}", {"name": "Triggered"})
    await call(ctx.api, "DELETE", f"/v1/coupons/{coupon['id']}", headers=_auth(ctx))


async def discount_once(ctx: TriggerContext) -> None:
    coupon = await _post(ctx, "/v1/coupons", {"percent_off": "20", "duration": "once"})
    session = await _session(ctx, {"discounts[0][coupon]": coupon["id"]})
    await _post(ctx, f"/_fake/checkout/sessions/{session['id']}/complete")


async def promotion_code_cycle(ctx: TriggerContext) -> None:
    coupon = await _post(ctx, "/v1/coupons", {"amount_off": "500", "currency": "usd"})
    code = await _post(
        ctx, "/v1/promotion_codes", {"promotion[type]": "coupon", "promotion[coupon]": coupon["id"]}
    )
    await _post(ctx, f"/v1/promotion_codes/{code['id']}", {"active": "false"})


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
    "payment_intent.created": intent_succeeded,
    "payment_intent.succeeded": intent_succeeded,
    "charge.succeeded": intent_succeeded,
    "payment_intent.payment_failed": intent_failed,
    "charge.failed": intent_failed,
    "payment_intent.requires_action": intent_requires_action,
    "payment_intent.canceled": intent_canceled,
    "payment_intent.amount_capturable_updated": intent_captured,
    "charge.captured": intent_captured,
    "refund.created": refunded,
    "charge.refunded": refunded,
    "invoice.created": invoice_paid,
    "invoiceitem.created": invoice_paid,
    "invoice.finalized": invoice_paid,
    "invoice.payment_succeeded": invoice_paid,
    "invoice.payment_failed": invoice_failed,
    "invoice.payment_action_required": invoice_action_required,
    "invoice.voided": invoice_voided,
    "invoice.marked_uncollectible": invoice_uncollectible,
    "invoice.deleted": invoice_deleted,
    "test_helpers.test_clock.created": clock_cycle,
    "test_helpers.test_clock.advancing": clock_cycle,
    "test_helpers.test_clock.ready": clock_cycle,
    "test_helpers.test_clock.deleted": clock_cycle,
    "payment_method.attached": method_cycle,
    "payment_method.detached": method_cycle,
    "setup_intent.created": setup_succeeded,
    "setup_intent.succeeded": setup_succeeded,
    "setup_intent.setup_failed": setup_failed,
    "setup_intent.requires_action": setup_requires_action,
    "setup_intent.canceled": setup_canceled,
    "charge.dispute.created": disputed,
    "charge.dispute.funds_withdrawn": disputed,
    "charge.dispute.updated": dispute_won,
    "charge.dispute.closed": dispute_won,
    "charge.dispute.funds_reinstated": dispute_won,
    "coupon.created": coupon_cycle,
    "coupon.updated": coupon_cycle,
    "coupon.deleted": coupon_cycle,
    "customer.discount.created": discount_once,
    "customer.discount.deleted": discount_once,
    "promotion_code.created": promotion_code_cycle,
    "promotion_code.updated": promotion_code_cycle,
}
