"""Acme's processor webhooks: Stripe through `stripe.Webhook.construct_event`, Xendit's `x-callback-token`.

Stripe: a funded cash-balance transaction credits the customer's user; `checkout.session.completed` links a
subscription; `invoice.paid` puts the user on the plan; `customer.subscription.deleted` puts them back on
free (a cancellation that arrives before the payment it cancels is remembered, so any order converges: a
user is on the dearest plan they hold an active subscription for). Xendit: a PAID (or SETTLED) invoice
callback credits its purchase's user once; Acme sells no Xendit recurring plans, so an enveloped callback
(`{"event": ...}`) is acknowledged and ignored. Every callback is deduplicated by its id, and a payment by its
transfer or invoice id (whichever events report it). Answers say `applied`, `duplicate`, `not_credited` (a
payment Acme will not credit: unknown purchase or customer, not USD, an amount Acme cannot hold) or
`ignored` (nothing Acme acts on), with the reason.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import stripe
from fastapi import FastAPI, Request

from .app import MAX_COST_CENTS, PLANS, AcmeSettings, _fail, is_text, token_matches, usd_cents
from .store import Store

__all__ = ["install_webhooks"]


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _subscription_of(invoice: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The subscription an invoice is for, and that subscription's metadata (either API version)."""
    details = _object(_object(invoice.get("parent")).get("subscription_details")) or _object(
        invoice.get("subscription_details")
    )
    sub = details.get("subscription") or invoice.get("subscription")
    return (str(sub) if is_text(sub) else None), _object(details.get("metadata"))


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
            event_id, event_type = raw["id"], raw["type"]
            obj = raw["data"]["object"]
            if not (isinstance(obj, dict) and is_text(event_id) and is_text(event_type)):
                raise TypeError("id, type or data.object")
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
        except (ValueError, RecursionError) as exc:
            raise _fail(400, "bad_payload") from exc
        if not isinstance(body, dict):
            raise _fail(400, "bad_payload")
        return _apply_xendit(store, defects, body)


def _seen(store: Store, provider: str, event_id: str) -> bool:
    with store.tx() as db:
        return not store.first_sight(db, provider, event_id)


def _apply_xendit(store: Store, defects: frozenset[str], body: dict[str, Any]) -> dict[str, Any]:
    if "event" in body:  # an enveloped callback: recurring plans, which Acme does not sell
        if not is_text(body.get("id")):
            raise _fail(400, "bad_payload")
        if _seen(store, "xendit", f"event:{body['id']}"):
            return {"ok": True, "result": "duplicate"}
        return {"ok": True, "result": "ignored", "reason": "Acme sells no Xendit recurring plans"}
    invoice_id, status, external_id = body.get("id"), body.get("status"), body.get("external_id")
    if not (is_text(invoice_id) and is_text(status)):
        raise _fail(400, "bad_payload")
    status = str(status).upper()
    if status not in ("PAID", "SETTLED"):
        if _seen(store, "xendit", f"invoice:{invoice_id}:{status}"):
            return {"ok": True, "result": "duplicate"}
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
            "SELECT user_id FROM purchases WHERE id = ? AND provider = 'xendit'",
            (external_id if is_text(external_id) else "",),
        ).fetchone()
        if row is None:
            return {"ok": True, "result": "not_credited", "reason": "unknown purchase"}
        if not store.first_sight(db, "xendit", f"invoice:{invoice_id}"):
            return {"ok": True, "result": "duplicate"}
        if cents is None:
            return {"ok": True, "result": "not_credited", "reason": "not a USD amount"}
        store.move_credits(db, row[0], cents, reason="xendit", ref=str(invoice_id), paid=True)
    return {"ok": True, "result": "applied"}


def _text_or_none(value: Any) -> str | None:
    return str(value) if is_text(value) else None


def _cents(value: Any) -> int | None:
    """A Stripe amount in cents Acme can hold (a JSON integer, 1 to MAX_COST_CENTS), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_COST_CENTS:
        return None
    return value


def _settle_plan(db: sqlite3.Connection, user_id: str) -> None:
    """Put the user on the dearest plan they hold an active subscription for (free without one): the
    same plan whatever order the subscription events came in."""
    plans = [
        r[0]
        for r in db.execute(
            "SELECT plan FROM subscriptions WHERE user_id = ? AND status = 'active'", (user_id,)
        )
    ]
    plan = max(plans, key=lambda p: PLANS.get(p, 0), default="free")
    db.execute("UPDATE users SET plan = ? WHERE id = ?", (plan, user_id))


def _apply_stripe(
    store: Store, defects: frozenset[str], event_id: str, event_type: str, obj: dict[str, Any]
) -> dict[str, Any]:
    with store.tx() as db:
        if not store.first_sight(db, "stripe", event_id) and "stripe_no_dedupe" not in defects:
            return {"ok": True, "result": "duplicate"}
        if event_type == "customer_cash_balance_transaction.created":
            return _funding(store, db, obj, dedupe="stripe_no_dedupe" not in defects)
        if event_type == "checkout.session.completed" and obj.get("mode") == "subscription":
            meta, sub = _object(obj.get("metadata")), _text_or_none(obj.get("subscription"))
            user_id, plan = _text_or_none(meta.get("acme_user")), meta.get("plan")
            if user_id and sub and isinstance(plan, str) and plan in PLANS:
                # a subscription already paid or canceled keeps its state: only the link is news
                db.execute(
                    "INSERT OR IGNORE INTO subscriptions VALUES (?, ?, ?, 'linked')",
                    (sub, user_id, plan),
                )
                return {"ok": True, "result": "applied"}
            return {"ok": True, "result": "ignored", "reason": "not an Acme checkout"}
        paid = event_type == "invoice.paid"
        if "failed_invoice_upgrades" in defects:
            paid = paid or event_type == "invoice.payment_failed"
        if paid:  # (planted: a failed invoice is taken for a paid one, whatever it paid)
            return _invoice_paid(db, obj, proof=event_type == "invoice.paid")
        if event_type == "customer.subscription.deleted" or (
            event_type == "customer.subscription.updated" and obj.get("status") == "canceled"
        ):
            return _subscription_ended(db, obj)
        return {"ok": True, "result": "ignored", "reason": f"{event_type} is not handled"}


def _funder(store: Store, db: sqlite3.Connection, obj: dict[str, Any]) -> str | None:
    """Whose a funded transfer is: the user of the purchase its bank reference names, else the user of
    its customer."""
    funded = _object(_object(obj.get("funded")).get("bank_transfer"))
    reference = _text_or_none(funded.get("reference"))
    if reference is not None:
        row = db.execute(
            "SELECT user_id FROM purchases WHERE id = ? AND provider = 'stripe'", (reference,)
        ).fetchone()
        if row is not None:
            return str(row[0])
    customer = _text_or_none(obj.get("customer"))
    return store.user_by_customer(customer) if customer else None


def _funding(
    store: Store, db: sqlite3.Connection, obj: dict[str, Any], *, dedupe: bool
) -> dict[str, Any]:
    if obj.get("type") != "funded":
        return {"ok": True, "result": "ignored", "reason": "not a funding"}
    user_id, txn = _funder(store, db, obj), _text_or_none(obj.get("id"))
    if user_id is None or txn is None:
        return {"ok": True, "result": "not_credited", "reason": "unknown customer"}
    # one transfer is credited once, whichever events report it
    if not store.first_sight(db, "stripe", f"txn:{txn}") and dedupe:
        return {"ok": True, "result": "duplicate"}
    net = _cents(obj.get("net_amount"))
    if obj.get("currency") != "usd" or net is None:
        return {"ok": True, "result": "not_credited", "reason": "not a USD credit Acme can hold"}
    store.move_credits(db, user_id, net, reason="stripe", ref=txn, paid=True)
    return {"ok": True, "result": "applied"}


def _invoice_paid(db: sqlite3.Connection, obj: dict[str, Any], *, proof: bool) -> dict[str, Any]:
    sub, meta = _subscription_of(obj)
    if sub is None or (proof and _cents(obj.get("amount_paid")) is None):
        return {"ok": True, "result": "ignored", "reason": "no paid amount of a subscription"}
    row = db.execute(
        "SELECT user_id, plan, status FROM subscriptions WHERE provider_ref = ?", (sub,)
    ).fetchone()
    user_id, plan = (
        (row[0], row[1]) if row and row[0] else (meta.get("acme_user"), meta.get("plan"))
    )
    known = (
        is_text(user_id) and db.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone()
    )
    if row is not None and row[2] == "canceled":
        if known and not row[0]:  # canceled before it was paid: now it is known whose it was
            db.execute(
                "UPDATE subscriptions SET user_id = ? WHERE provider_ref = ?", (user_id, sub)
            )
        return {"ok": True, "result": "ignored", "reason": "the subscription was canceled"}
    if not known or not isinstance(plan, str) or plan not in PLANS:
        return {"ok": True, "result": "ignored", "reason": "no Acme subscription"}
    db.execute(
        "INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, 'active')", (sub, user_id, plan)
    )
    _settle_plan(db, str(user_id))
    return {"ok": True, "result": "applied"}


def _subscription_ended(db: sqlite3.Connection, obj: dict[str, Any]) -> dict[str, Any]:
    sub = _text_or_none(obj.get("id"))
    if sub is None:
        return {"ok": True, "result": "ignored", "reason": "no subscription id"}
    row = db.execute("SELECT user_id FROM subscriptions WHERE provider_ref = ?", (sub,)).fetchone()
    meta = _object(obj.get("metadata"))
    user_id = row[0] if row and row[0] else _text_or_none(meta.get("acme_user")) or ""
    plan = meta.get("plan") if isinstance(meta.get("plan"), str) else "free"
    # remembered even before its payment arrives: a later invoice.paid of it flips nothing
    db.execute(
        "INSERT INTO subscriptions VALUES (?, ?, ?, 'canceled') "
        "ON CONFLICT (provider_ref) DO UPDATE SET status = 'canceled', user_id = excluded.user_id",
        (sub, user_id, plan),
    )
    if user_id:
        _settle_plan(db, user_id)
    return {"ok": True, "result": "applied" if row and row[0] else "ignored"}
