"""An API double of our own, in two shapes, with one mode per way a real deployment goes wrong.

Not the project's reference and not `probe_servers.razorpay_double`: a FastAPI app written from the
profiles' documented contract (`payharness probe --explain`), verifying signatures with the processors'
official SDKs (`razorpay`, `stripe`), never with `fakes.signing`, so a bug in the prober's signers cannot
hide behind the same bug here.

Shapes: `razorpay` (the `razorpay-subscriptions` profile: bearer auth, `/api/v1/...`, test-cohort teams)
and `reference` (the `reference` profile: `/v1/...`, Stripe-signed webhooks, cohort accounts).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import razorpay
import stripe
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from razorpay.errors import SignatureVerificationError

TOKEN = "double-session-token-8e1f"
RAZORPAY_SECRET = "double_rzp_webhook_secret_61c0"
STRIPE_SECRET = "whsec_double_stripe_secret_27aa"
PLAN_ID = "plan_double_test_pro"
SLOW_SECONDS = 0.4

MODES = (
    "correct",
    "unsigned_accepting",
    "forged_accepting",
    "stale_accepting",
    "no_flip",
    "wrong_tier",
    "slow_checkout",
    "checkout_500",
    "dormant",
    "half_switched_off",
    "outage",
    "leaked_reap",
    "no_tier_field",
    "auth_not_enforced",
    "wrong_token",
    "missing_env",
    "unknown_plan",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape:
    """Paths and wire conventions of one API shape."""

    name: str
    checkout: str
    billing: str
    invoices: str
    cohort: str
    webhook: str
    dormant_code: str
    tier_field: str
    authed: bool

    def error(self, status: int, code: str) -> JSONResponse:
        if self.name == "razorpay":
            return JSONResponse({"ok": False, "error": code}, status_code=status)
        return JSONResponse({"error": {"code": code, "message": code}}, status_code=status)


RAZORPAY = Shape(
    name="razorpay",
    checkout="/api/v1/billing/checkout",
    billing="/api/v1/billing",
    invoices="/api/v1/billing/invoices",
    cohort="/api/v1/test-cohort/teams",
    webhook="/razorpay/webhook",
    dormant_code="billing_not_configured",
    tier_field="tier",
    authed=True,
)
REFERENCE = Shape(
    name="reference",
    checkout="/v1/billing/checkout",
    billing="/v1/billing",
    invoices="/v1/billing/invoices",
    cohort="/v1/accounts",
    webhook="/v1/payments/webhook/stripe",
    dormant_code="payments_not_live",
    tier_field="plan_tier",
    authed=False,
)


@dataclass(slots=True)
class State:
    """The double's mode (switchable between runs, so one server serves every mode) and accounts."""

    mode: str = "correct"
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def switch(self, mode: str) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.accounts.clear()


def _verified(shape: Shape, mode: str, raw: bytes, headers: Any) -> bool:
    header = "x-razorpay-signature" if shape.name == "razorpay" else "stripe-signature"
    signature = headers.get(header)
    if mode == "unsigned_accepting" and signature is None:
        return True
    if not signature:
        return False
    if mode == "forged_accepting":
        return True  # the commonest bug: presence checked, value never verified
    if shape.name == "razorpay":
        try:
            razorpay.Utility().verify_webhook_signature(raw.decode(), signature, RAZORPAY_SECRET)
        except SignatureVerificationError:
            return False
        return True
    tolerance = 10**9 if mode == "stale_accepting" else 300
    try:
        stripe.WebhookSignature.verify_header(raw.decode(), signature, STRIPE_SECRET, tolerance)
    except stripe.SignatureVerificationError:
        return False
    return True


def _event_target(shape: Shape, event: dict[str, Any]) -> tuple[str | None, str | None]:
    """(account id, plan id or plan) the event credits, or Nones for an event that credits nothing."""
    if shape.name == "razorpay":
        entity = event.get("payload", {}).get("subscription", {}).get("entity", {})
        return entity.get("notes", {}).get("team_id"), entity.get("plan_id")
    obj = event.get("data", {}).get("object", {})
    meta = obj.get("parent", {}).get("subscription_details", {}).get("metadata", {})
    return meta.get("account_id"), meta.get("plan")


def api_double(shape: Shape) -> FastAPI:
    """The double; `app.state.double` holds its mode (one of `MODES`, `switch` it) and accounts."""
    app = FastAPI()
    state = State()
    app.state.double = state
    plans = {PLAN_ID: "pro"} if shape.name == "razorpay" else {"pro": "pro"}

    def denied(request: Request) -> JSONResponse | None:
        if not shape.authed or state.mode == "auth_not_enforced":
            return None
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return shape.error(401, "unauthorized")
        return None

    def account_of(request: Request) -> dict[str, Any] | None:
        wanted = request.query_params.get("account_id")
        if shape.name == "razorpay":
            return {"plan_tier": "hobby"}
        return state.accounts.get(wanted or "")

    @app.post(shape.checkout)
    async def checkout(request: Request) -> Response:
        if (no := denied(request)) is not None:
            return no
        if state.mode == "dormant":
            return shape.error(503, shape.dormant_code)
        if state.mode == "checkout_500":
            return shape.error(500, "internal_error")
        if state.mode == "slow_checkout":
            await asyncio.sleep(SLOW_SECONDS)
        return JSONResponse(
            {
                "ok": True,
                "id": "sub_double",
                "status": "pending",
                "short_url": "https://rzp.io/i/d",
            },
            status_code=201 if shape.name == "reference" else 200,
        )

    @app.get(shape.billing)
    async def billing(request: Request) -> Response:
        if (no := denied(request)) is not None:
            return no
        account = account_of(request)
        if account is None:
            return shape.error(404, "account_not_found")
        body: dict[str, Any] = {"ok": True, "subscription_status": "none"}
        if state.mode != "no_tier_field":
            body[shape.tier_field] = account["plan_tier"]
        return JSONResponse(body)

    @app.get(shape.invoices)
    async def invoices(request: Request) -> Response:
        if (no := denied(request)) is not None:
            return no
        return JSONResponse({"ok": True, "invoices": []})

    @app.post(shape.cohort)
    async def mint(request: Request) -> Response:
        if (no := denied(request)) is not None:
            return no
        body = await request.json()
        account_id = f"acct_double_{secrets.token_hex(6)}"
        state.accounts[account_id] = {
            "id": account_id,
            "plan_tier": "free",
            "is_test_cohort": bool(body.get("is_test_cohort")),
        }
        return JSONResponse(state.accounts[account_id], status_code=201)

    @app.api_route(shape.cohort + "/{account_id}", methods=["GET", "DELETE"])
    async def account(request: Request, account_id: str) -> Response:
        if (no := denied(request)) is not None:
            return no
        if account_id not in state.accounts:
            return shape.error(404, "account_not_found")
        if request.method == "DELETE":
            if not state.accounts[account_id]["is_test_cohort"]:
                return shape.error(409, "not_test_cohort")
            if state.mode != "leaked_reap":
                del state.accounts[account_id]
            return Response(status_code=204)
        return JSONResponse(state.accounts[account_id])

    @app.post(shape.webhook)
    async def webhook(request: Request) -> Response:
        if state.mode in ("dormant", "half_switched_off"):
            return shape.error(503, shape.dormant_code)
        raw = await request.body()
        if not _verified(shape, state.mode, raw, request.headers):
            code = "invalid_signature"
            if shape.name == "reference" and "stripe-signature" not in request.headers:
                code = "missing_signature_header"
            return shape.error(400, code)
        try:
            event = json.loads(raw)
        except ValueError:
            return shape.error(400, "invalid_payload")
        account_id, plan_ref = _event_target(shape, event)
        if account_id is not None and plan_ref is not None:
            tier = plans.get(plan_ref)
            if tier is None:
                return shape.error(422, "unknown_plan")
            if account_id in state.accounts and state.mode != "no_flip":
                state.accounts[account_id]["plan_tier"] = (
                    "team" if state.mode == "wrong_tier" else tier
                )
        return JSONResponse({"ok": True, "status": "applied"})

    return app
