"""Acme's processor webhooks: Stripe through `stripe.Webhook.construct_event`, Xendit's `x-callback-token`.

Stripe: a funded cash-balance transaction credits the customer's user; `checkout.session.completed` links a
subscription; `invoice.paid` puts the user on the plan; `customer.subscription.deleted` puts them back on
free. Xendit: a PAID (or SETTLED) invoice callback credits its purchase's user once. Everything else is
answered `ignored` with the reason.
"""

from __future__ import annotations

import json
from typing import Any

import stripe
from fastapi import FastAPI, Request

from .app import PLANS, AcmeSettings, _fail, token_matches, usd_cents
from .store import Store

__all__ = ["install_webhooks"]


def _subscription_of(invoice: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or invoice.get("subscription_details") or {}
    sub = details.get("subscription") or invoice.get("subscription")
    return (str(sub) if sub else None), dict(details.get("metadata") or {})


def install_webhooks(app: FastAPI, s: AcmeSettings, store: Store) -> None:
    """`POST /webhooks/stripe` and `POST /webhooks/xendit` on `app`."""
    defects = s.defects

    @app.post("/webhooks/stripe")
    async def stripe_webhook(request: Request) -> dict[str, Any]:
        if not s.billing_enabled:
            raise _fail(503, "billing_disabled")
        if not s.stripe_webhook_secret:
            raise _fail(503, "stripe_not_configured")
        header = request.headers.get("stripe-signature")
        if not header:
            raise _fail(400, "missing_signature")
        body = await request.body()
        try:
            event = stripe.Webhook.construct_event(
                body.decode("utf-8"), header, s.stripe_webhook_secret
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise _fail(400, "invalid_signature") from exc
        except (ValueError, AttributeError, TypeError) as exc:
            raise _fail(400, "bad_payload") from exc
        try:
            raw = json.loads(body)
            event_id, event_type = str(raw["id"]), str(raw["type"])
            obj = raw["data"]["object"]
            if not isinstance(obj, dict):
                raise TypeError("data.object")
        except (ValueError, KeyError, TypeError) as exc:
            raise _fail(400, "bad_payload") from exc
        del event
        return _apply_stripe(store, defects, event_id, event_type, obj)

    @app.post("/webhooks/xendit")
    async def xendit_webhook(request: Request) -> dict[str, Any]:
        if not s.billing_enabled:
            raise _fail(503, "billing_disabled")
        if not s.xendit_callback_token:
            raise _fail(503, "xendit_not_configured")
        token = request.headers.get("x-callback-token")
        if token is None:
            raise _fail(400, "missing_signature")
        if not token_matches(token, s.xendit_callback_token, defects):
            raise _fail(400, "invalid_signature")
        try:
            body = json.loads(await request.body())
            invoice_id, status = str(body["id"]), str(body["status"]).upper()
            external_id = str(body["external_id"])
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise _fail(400, "bad_payload") from exc
        if status not in ("PAID", "SETTLED"):
            return {"ok": True, "result": "ignored", "reason": f"invoice {status.lower()}"}
        amount = body.get("paid_amount", body.get("amount"))
        cents = usd_cents(amount, body.get("currency"))
        if cents is None and "non_usd_credited" in defects:
            try:
                cents = int(float(amount) * 100)
            except (TypeError, ValueError):
                cents = None
        with store.tx() as db:
            row = db.execute(
                "SELECT user_id FROM purchases WHERE id = ? AND provider = 'xendit'", (external_id,)
            ).fetchone()
            if row is None:
                return {"ok": True, "result": "ignored", "reason": "unknown purchase"}
            if not store.first_sight(db, "xendit", f"invoice:{invoice_id}"):
                return {"ok": True, "result": "duplicate"}
            if cents is None:
                return {"ok": True, "result": "ignored", "reason": "not a USD amount"}
            store.move_credits(db, row[0], cents, reason="xendit", ref=invoice_id, paid=True)
        return {"ok": True, "result": "applied"}


def _apply_stripe(
    store: Store, defects: frozenset[str], event_id: str, event_type: str, obj: dict[str, Any]
) -> dict[str, Any]:
    with store.tx() as db:
        if not store.first_sight(db, "stripe", event_id) and "stripe_no_dedupe" not in defects:
            return {"ok": True, "result": "duplicate"}
        if event_type == "customer_cash_balance_transaction.created":
            if obj.get("type") != "funded":
                return {"ok": True, "result": "ignored", "reason": "not a funding"}
            net = obj.get("net_amount")
            user_id = store.user_by_customer(str(obj.get("customer")))
            if user_id is None:
                return {"ok": True, "result": "ignored", "reason": "unknown customer"}
            if (
                str(obj.get("currency", "")).lower() != "usd"
                or not isinstance(net, int)
                or net <= 0
            ):
                return {"ok": True, "result": "ignored", "reason": "not a USD credit"}
            store.move_credits(db, user_id, net, reason="stripe", ref=str(obj.get("id")), paid=True)
            return {"ok": True, "result": "applied"}
        if event_type == "checkout.session.completed" and obj.get("mode") == "subscription":
            meta, sub = obj.get("metadata") or {}, obj.get("subscription")
            if meta.get("acme_user") and sub and meta.get("plan") in PLANS:
                db.execute(
                    "INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, 'linked')",
                    (str(sub), meta["acme_user"], meta["plan"]),
                )
                return {"ok": True, "result": "applied"}
            return {"ok": True, "result": "ignored", "reason": "not an Acme checkout"}
        paid = event_type == "invoice.paid"
        if "failed_invoice_upgrades" in defects:
            paid = paid or event_type == "invoice.payment_failed"
        if paid:
            sub, meta = _subscription_of(obj)
            row = db.execute(
                "SELECT user_id, plan FROM subscriptions WHERE provider_ref = ?", (sub,)
            ).fetchone()
            user_id, plan = (row[0], row[1]) if row else (meta.get("acme_user"), meta.get("plan"))
            if not user_id or plan not in PLANS:
                return {"ok": True, "result": "ignored", "reason": "no Acme subscription"}
            db.execute(
                "INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, 'active')",
                (sub, user_id, plan),
            )
            db.execute("UPDATE users SET plan = ? WHERE id = ?", (plan, user_id))
            return {"ok": True, "result": "applied"}
        if event_type == "customer.subscription.deleted":
            row = db.execute(
                "SELECT user_id FROM subscriptions WHERE provider_ref = ?", (str(obj.get("id")),)
            ).fetchone()
            if row is None:
                return {"ok": True, "result": "ignored", "reason": "no Acme subscription"}
            db.execute(
                "UPDATE subscriptions SET status = 'canceled' WHERE provider_ref = ?", (obj["id"],)
            )
            db.execute("UPDATE users SET plan = 'free' WHERE id = ?", (row[0],))
            return {"ok": True, "result": "applied"}
        return {"ok": True, "result": "ignored", "reason": f"{event_type} is not handled"}
