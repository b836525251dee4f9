"""Acme's routes: users, credits, plans, usage charges, processor webhooks and the provider-state hook."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import stripe
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .app import (
    MAX_COST_CENTS,
    PLANS,
    AcmeSettings,
    Clients,
    _fail,
    _int,
    _json,
    _text,
    markup_cents,
)
from .store import Store

__all__ = ["install_routes"]


def install_routes(app: FastAPI, s: AcmeSettings, store: Store, clients: Clients) -> None:
    """Every route of Acme's API on `app`."""
    defects = s.defects
    #: idempotency key → the lock its purchases take turns under (Acme runs as one process)
    key_locks: dict[str, asyncio.Lock] = {}

    def user_or_404(user_id: str) -> dict[str, Any]:
        user = store.user(user_id)
        if user is None:
            raise _fail(404, "no_such_user")
        return user

    def require_enabled() -> None:
        if not s.billing_enabled:
            raise _fail(503, "billing_disabled")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/api/v1/billing/status")
    async def status() -> dict[str, Any]:
        return {
            "ok": True,
            "enabled": s.billing_enabled,
            "providers": {
                "stripe": clients.stripe is not None,
                "xendit": clients.xendit is not None,
            },
        }

    @app.post("/api/v1/users", status_code=201)
    async def create_user(request: Request) -> dict[str, Any]:
        body = await _json(request)
        sandbox = body.get("sandbox", False)
        if not isinstance(sandbox, bool):
            raise _fail(400, "bad_sandbox")
        return {"ok": True, "user": store.create_user(_text(body, "email"), sandbox=sandbox)}

    @app.get("/api/v1/users/{user_id}")
    async def read_user(user_id: str) -> dict[str, Any]:
        return {"ok": True, "user": user_or_404(user_id)}

    @app.delete("/api/v1/users/{user_id}")
    async def delete_user(user_id: str) -> dict[str, Any]:
        if not user_or_404(user_id)["sandbox"]:
            raise _fail(409, "not_sandbox")
        store.delete_user(user_id)
        return {"ok": True}

    @app.get("/api/v1/users/{user_id}/credits")
    async def credits(user_id: str) -> dict[str, Any]:
        user = user_or_404(user_id)
        return {
            "ok": True,
            "credits_cents": user["credits_cents"],
            "entries": store.journal(user_id),
        }

    @app.get("/api/v1/billing/{user_id}")
    async def billing(user_id: str) -> dict[str, Any]:
        return {"ok": True, "plan": user_or_404(user_id)["plan"]}

    async def stripe_customer(user_id: str) -> str:
        assert clients.stripe is not None
        known = store.stripe_customer(user_id)
        if known:
            return known
        customer = await clients.stripe.v1.customers.create_async(
            params={"metadata": {"acme_user": user_id}},
            options={"idempotency_key": f"acme-customer-{user_id}"},
        )
        store.set_customer(user_id, str(customer.id))
        return str(customer.id)

    @app.post("/api/v1/credits/purchase", status_code=201)
    async def purchase(request: Request) -> Any:
        body = await _json(request)
        user_id = _text(body, "user_id")
        amount = _int(body, "amount_cents", low=100, high=MAX_COST_CENTS)
        provider = body.get("provider")
        if provider not in ("stripe", "xendit"):
            raise _fail(400, "bad_provider")
        user_or_404(user_id)
        if "dormant_calls_stripe" in defects and provider == "stripe" and clients.stripe:
            await stripe_customer(user_id)  # planted: a processor call before the switch is read
        require_enabled()
        key = request.headers.get("idempotency-key")
        if not key:
            return await buy(user_id, provider, amount, None)
        async with key_locks.setdefault(key, asyncio.Lock()):  # one purchase per key at a time
            row = store._db.execute(
                "SELECT user_id, provider, amount_cents, answer FROM purchases WHERE idempotency_key = ?",
                (key,),
            ).fetchone()
            if row is not None:
                if (row[0], row[1], row[2]) != (user_id, provider, amount):
                    raise _fail(409, "idempotency_key_reused")
                return JSONResponse(json.loads(row[3]), status_code=200)  # the purchase made before
            return await buy(user_id, provider, amount, key)

    async def buy(user_id: str, provider: str, amount: int, key: str | None) -> dict[str, Any]:
        purchase_id = "pur_" + uuid.uuid4().hex[:16]
        processor_key = f"acme-purchase-{key or purchase_id}"
        if provider == "stripe":
            if clients.stripe is None:
                raise _fail(503, "stripe_not_configured")
            try:
                customer = await stripe_customer(user_id)
                instructions = await clients.stripe.v1.customers.funding_instructions.create_async(
                    customer,
                    params={
                        "bank_transfer": {"type": "us_bank_transfer"},
                        "currency": "usd",
                        "funding_type": "bank_transfer",
                    },
                    options={"idempotency_key": processor_key},
                )
            except stripe.StripeError as exc:
                raise _fail(502, "processor_unavailable") from exc
            ref, extra = customer, {"bank_transfer": instructions.to_dict().get("bank_transfer")}
        else:
            if clients.xendit is None:
                raise _fail(503, "xendit_not_configured")
            ref, url = await clients.xendit_invoice(purchase_id, amount, processor_key)
            extra = {"invoice_url": url}
        answer = {"ok": True, "purchase_id": purchase_id, "provider": provider, "ref": ref, **extra}
        with store.tx() as db:
            db.execute(
                "INSERT INTO purchases (id, user_id, provider, amount_cents, idempotency_key, "
                "provider_ref, answer) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (purchase_id, user_id, provider, amount, key, ref, json.dumps(answer)),
            )
        return answer

    @app.post("/api/v1/billing/checkout", status_code=201)
    async def checkout(request: Request) -> dict[str, Any]:
        body = await _json(request)
        user_id, plan = _text(body, "user_id"), body.get("plan")
        if plan not in PLANS:
            raise _fail(400, "bad_plan")
        user_or_404(user_id)
        require_enabled()
        if clients.stripe is None:
            raise _fail(503, "stripe_not_configured")
        customer = await stripe_customer(user_id)
        meta = {"acme_user": user_id, "plan": str(plan)}
        session = await clients.stripe.v1.checkout.sessions.create_async(
            params={
                "mode": "subscription",
                "customer": customer,
                "success_url": "https://acme.invalid/billing/done",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "usd",
                            "unit_amount": PLANS[str(plan)],
                            "recurring": {"interval": "month"},
                            "product_data": {"name": f"Acme {plan}"},
                        },
                    }
                ],
                "metadata": meta,
                "subscription_data": {"metadata": meta},
            }
        )
        return {"ok": True, "session_id": session.id, "url": session.url}

    @app.post("/api/v1/usage/charge")
    async def charge(request: Request) -> dict[str, Any]:
        body = await _json(request)
        user_id, request_id = _text(body, "user_id"), _text(body, "request_id")
        cost = _int(body, "cost_cents", low=0, high=MAX_COST_CENTS)
        bps_in = _int(body, "markup_bps", low=-1_000_000, high=1_000_000)
        user_or_404(user_id)
        bps, charged = markup_cents(cost, bps_in, defects)
        with store.tx() as db:
            row = db.execute(
                "SELECT user_id, charged_cents, markup_bps FROM charges WHERE request_id = ?",
                (request_id,),
            ).fetchone()
            if row is not None:
                return {"ok": True, "charged_cents": row[1], "markup_bps": row[2], "replayed": True}
            if cost == 0:
                return {"ok": True, "charged_cents": 0, "markup_bps": bps, "skipped": True}
            credits = db.execute(
                "SELECT credits_cents FROM users WHERE id = ?", (user_id,)
            ).fetchone()[0]
            short = credits + 1 < charged if "overdraw_by_one" in defects else credits < charged
            if short:
                raise _fail(402, "insufficient_credits")
            db.execute(
                "INSERT INTO charges VALUES (?, ?, ?, ?, ?)",
                (request_id, user_id, cost, bps, charged),
            )
            store.move_credits(db, user_id, -charged, reason="usage", ref=request_id)
        return {"ok": True, "charged_cents": charged, "markup_bps": bps, "replayed": False}

    from .webhooks import install_webhooks

    install_webhooks(app, s, store)

    @app.post("/_test/state")
    async def provider_state(request: Request) -> dict[str, Any]:
        """Pact-style provider states for test users only: `{"state", "params"}`."""
        if not s.test_token or request.headers.get("x-test-token") != s.test_token:
            raise _fail(401, "unauthorized")
        body = await _json(request)
        params = body.get("params") or {}
        if not isinstance(params, dict):
            raise _fail(400, "bad_params")
        user_id = _text(params, "user_id")
        user = user_or_404(user_id)
        if not user["sandbox"]:
            raise _fail(409, "not_sandbox")
        if body.get("state") == "user has credits":
            target = _int(params, "credits_cents", low=0, high=MAX_COST_CENTS)
            with store.tx() as db:
                now = db.execute(
                    "SELECT credits_cents FROM users WHERE id = ?", (user_id,)
                ).fetchone()
                delta = target - int(now[0])
                if delta:
                    store.move_credits(db, user_id, delta, reason="test_state", ref=None)
        elif body.get("state") == "user is on plan":
            plan = params.get("plan")
            if plan not in ("free", *PLANS):
                raise _fail(400, "bad_plan")
            with store.tx() as db:
                db.execute("UPDATE users SET plan = ? WHERE id = ?", (plan, user_id))
        else:
            raise _fail(400, "unknown_state")
        return {"ok": True, "user": store.user(user_id)}
