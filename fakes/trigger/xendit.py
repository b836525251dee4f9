"""Xendit trigger recipes: objects built through the Xendit fake's API and its ``/_fake/`` helpers.

| event | fixture |
|---|---|
| ``invoice.paid`` (the flat invoice callback) | ``POST /v2/invoices``, paid (``/_fake/invoices/{id}/pay``) |
| ``recurring.plan.activated`` | customer + plan with a payment method |
| ``recurring.cycle.created``, ``.succeeded`` | an active plan, one successful attempt |
| ``recurring.cycle.failed`` | an active plan without retries, one failed attempt |
| ``recurring.cycle.retrying`` | a plan with ``total_retry: 1``, one failed attempt |
| ``recurring.cycle.force_attempt_failed`` | a retrying cycle, then a forced attempt that fails |
| ``recurring.plan.inactivated`` | an active plan, deactivated |
| ``payment.succeeded`` / ``payment.failed`` / ``payment.awaiting_capture`` | a VA payment request, paid (simulate) / declined / paid with manual capture |
| ``payment_method.activated`` / ``.expired`` | a QR code method, then expired |
| ``refund.succeeded`` | a paid request, refunded |
| ``refund.failed`` | a paid request whose funds were paid out, then refunded (the balance cannot cover it) |
| ``payout.succeeded`` / ``payout.failed`` | the account funded by a payment, a payout, completed either way |
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from fakes._common.triggering import Recipe, TriggerContext
from fakes.trigger._http import call

__all__ = ["RECIPES"]


async def _post(ctx: TriggerContext, path: str, body: dict[str, Any] | None = None) -> Any:
    token = base64.b64encode(f"{ctx.config['secret_key']}:".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    return await call(ctx.api, "POST", path, json=body or {}, headers=headers)


async def invoice_paid(ctx: TriggerContext) -> None:
    currency = ctx.config["default_currency"]
    invoice = await _post(
        ctx,
        "/v2/invoices",
        {"external_id": "trigger-invoice", "amount": 10_000, "currency": currency},
    )
    await _post(ctx, f"/_fake/invoices/{invoice['id']}/pay")


async def _plan(ctx: TriggerContext, *, total_retry: int = 0) -> str:
    token = uuid.uuid4().hex[:12]
    customer = await _post(ctx, "/customers", {"reference_id": f"trigger-customer-{token}"})
    plan = await _post(
        ctx,
        "/recurring/plans",
        {
            "reference_id": f"trigger-plan-{token}",
            "customer_id": customer["id"],
            "recurring_action": "PAYMENT",
            "currency": ctx.config["default_currency"],
            "amount": 50_000 if ctx.config["default_currency"] in ("IDR", "VND") else 50,
            "schedule": {
                "reference_id": f"trigger-schedule-{token}",
                "interval": "MONTH",
                "interval_count": 1,
                "total_retry": total_retry,
            },
            "payment_methods": [{"payment_method_id": "pm-trigger", "rank": 1}],
        },
    )
    return str(plan["id"])


async def plan_activated(ctx: TriggerContext) -> None:
    await _plan(ctx)


async def cycle_succeeded(ctx: TriggerContext) -> None:
    plan_id = await _plan(ctx)
    await _post(ctx, f"/_fake/recurring/plans/{plan_id}/cycle", {"status": "SUCCEEDED"})


async def cycle_failed(ctx: TriggerContext) -> None:
    plan_id = await _plan(ctx)
    await _post(ctx, f"/_fake/recurring/plans/{plan_id}/cycle", {"status": "FAILED"})


async def cycle_retrying(ctx: TriggerContext) -> None:
    plan_id = await _plan(ctx, total_retry=1)
    await _post(ctx, f"/_fake/recurring/plans/{plan_id}/cycle", {"status": "FAILED"})


async def force_attempt_failed(ctx: TriggerContext) -> None:
    plan_id = await _plan(ctx, total_retry=1)
    path = f"/_fake/recurring/plans/{plan_id}/cycle"
    await _post(ctx, path, {"status": "FAILED"})
    await _post(ctx, path, {"status": "FAILED", "force": True})


async def plan_inactivated(ctx: TriggerContext) -> None:
    plan_id = await _plan(ctx)
    await _post(ctx, f"/recurring/plans/{plan_id}/deactivate")


async def _payment_request(ctx: TriggerContext, **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = await _post(
        ctx,
        "/payment_requests",
        {
            "currency": "IDR",
            "amount": 100_000,
            "payment_method": {
                "type": "VIRTUAL_ACCOUNT",
                "reusability": "ONE_TIME_USE",
                "virtual_account": {
                    "channel_code": "BCA",
                    "channel_properties": {"customer_name": "Trigger"},
                },
            },
            **extra,
        },
    )
    return request


async def _paid_request(ctx: TriggerContext) -> dict[str, Any]:
    request = await _payment_request(ctx)
    await _post(ctx, f"/payment_requests/{request['id']}/payments/simulate")
    return request


async def payment_succeeded(ctx: TriggerContext) -> None:
    await _paid_request(ctx)


async def payment_failed(ctx: TriggerContext) -> None:
    request = await _payment_request(ctx)
    await _post(ctx, f"/_fake/payment_requests/{request['id']}/fail")


async def payment_awaiting_capture(ctx: TriggerContext) -> None:
    request = await _payment_request(ctx, capture_method="MANUAL")
    await _post(ctx, f"/payment_requests/{request['id']}/payments/simulate")


async def _qr_method(ctx: TriggerContext) -> dict[str, Any]:
    method: dict[str, Any] = await _post(
        ctx,
        "/v2/payment_methods",
        {"type": "QR_CODE", "reusability": "MULTIPLE_USE", "qr_code": {"channel_code": "QRIS"}},
    )
    return method


async def method_activated(ctx: TriggerContext) -> None:
    await _qr_method(ctx)


async def method_expired(ctx: TriggerContext) -> None:
    method = await _qr_method(ctx)
    await _post(ctx, f"/v2/payment_methods/{method['id']}/expire")


async def refund_succeeded(ctx: TriggerContext) -> None:
    request = await _paid_request(ctx)
    await _post(ctx, "/refunds", {"payment_request_id": request["id"], "amount": 10_000})


async def refund_failed(ctx: TriggerContext) -> None:
    request = await _paid_request(ctx)
    balance = await call(ctx.api, "GET", "/balance?currency=IDR", headers=_auth(ctx))
    await _create_payout(ctx, int(balance["balance"]))  # nothing left to refund from
    await _post(ctx, "/refunds", {"payment_request_id": request["id"], "amount": 100_000})


async def _payout(ctx: TriggerContext, status: str) -> None:
    await _paid_request(ctx)  # funds the IDR balance the payout draws on
    payout = await _create_payout(ctx, 50_000)
    await _post(ctx, f"/_fake/payouts/{payout['id']}/complete", {"status": status})


def _auth(ctx: TriggerContext) -> dict[str, str]:
    token = base64.b64encode(f"{ctx.config['secret_key']}:".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def _create_payout(ctx: TriggerContext, amount: int) -> dict[str, Any]:
    payout: dict[str, Any] = await call(
        ctx.api,
        "POST",
        "/v2/payouts",
        json={
            "reference_id": "trigger-payout",
            "channel_code": "ID_BCA",
            "channel_properties": {
                "account_number": "0000000000",
                "account_holder_name": "Trigger",
            },
            "amount": amount,
            "currency": "IDR",
        },
        headers={**_auth(ctx), "idempotency-key": f"trigger-payout-{uuid.uuid4().hex}"},
    )
    return payout


async def payout_succeeded(ctx: TriggerContext) -> None:
    await _payout(ctx, "SUCCEEDED")


async def payout_failed(ctx: TriggerContext) -> None:
    await _payout(ctx, "FAILED")


RECIPES: dict[str, Recipe] = {
    "invoice.paid": invoice_paid,
    "recurring.plan.activated": plan_activated,
    "recurring.cycle.created": cycle_succeeded,
    "recurring.cycle.succeeded": cycle_succeeded,
    "recurring.cycle.failed": cycle_failed,
    "recurring.cycle.retrying": cycle_retrying,
    "recurring.cycle.force_attempt_failed": force_attempt_failed,
    "recurring.plan.inactivated": plan_inactivated,
    "payment.succeeded": payment_succeeded,
    "payment.failed": payment_failed,
    "payment.awaiting_capture": payment_awaiting_capture,
    "payment_method.activated": method_activated,
    "payment_method.expired": method_expired,
    "refund.succeeded": refund_succeeded,
    "refund.failed": refund_failed,
    "payout.succeeded": payout_succeeded,
    "payout.failed": payout_failed,
}
