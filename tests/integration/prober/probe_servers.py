"""Loopback targets for the prober's integration tests.

* the reference payments service, live or dormant, with the fake Stripe behind its Stripe rail, and
  variants built by swapping one component through the app factory (never a switch inside
  `harness/reference`): a Stripe adapter that skips verification, and one whose events change nothing;
* a small test double of the PRIOR_ART.md §3 API shape for the `razorpay-subscriptions` profile, which
  verifies signatures with the official `razorpay` SDK (not with `fakes.signing`, so one bug cannot hide
  behind the same bug);
* a Pushgateway stub that records what it is sent.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import razorpay
from razorpay.errors import SignatureVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fakes._common.server import LoopbackServer
from harness.reference.rails.base import ProcessorEvent, RetryPolicy
from harness.reference.rails.stripe import StripeAdapter
from harness.reference.settings import StripeRail

WEBHOOK_SECRET = "whsec_integration_probe_5d1e"
STRIPE_API_KEY = "sk_test_payharness"  # the fake Stripe's default key
RAZORPAY_SECRET = "rzp_webhook_secret_probe_91"
RAZORPAY_TOKEN = "rzp-session-token-probe-44"
TEST_PLAN_ID = "plan_payprobe_test_pro"

#: `start_reference(live=..., adapter=..., stripe_base=...)` (the fixture in conftest.py)
StartReference = Callable[..., LoopbackServer]


class UnsignedAcceptingStripe(StripeAdapter):
    """The defect the security leg exists for: webhooks are applied without checking the signature."""

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        return None


class TierNeverFlipsStripe(StripeAdapter):
    """A verified webhook is acknowledged with 200 and then does nothing."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> ProcessorEvent:
        return dataclasses.replace(super().parse_webhook(body, headers), effects=())


def stripe_adapter(kind: type[StripeAdapter], rail: StripeRail) -> StripeAdapter:
    """An adapter of class `kind` configured as the reference would configure its own."""
    return kind(rail, timeout_seconds=5.0, retry=RetryPolicy(max_retries=0))


def razorpay_double(*, verify: bool = True) -> Starlette:
    """The billing API of PRIOR_ART.md §3 plus the test-cohort API the profile expects.

    Bearer auth on everything but the webhook; 400 `{"ok":false,"error":"invalid_signature"}` for an
    unsigned or badly signed webhook; `subscription.charged` moves `notes.team_id` to the plan's tier;
    always 200 `{"ok":true}` after a valid signature. `verify=False` is the defective variant.
    """
    teams: dict[str, dict[str, Any]] = {}
    plans = {TEST_PLAN_ID: "pro"}

    def authed(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {RAZORPAY_TOKEN}"

    def unauthorized() -> JSONResponse:
        return JSONResponse({"ok": False, "error": "unauthorized"}, status_code=401)

    async def checkout(request: Request) -> Response:
        if not authed(request):
            return unauthorized()
        body = await request.json()
        return JSONResponse(
            {"ok": True, "plan": body["plan"], "short_url": "https://rzp.io/i/probe"}
        )

    async def billing(request: Request) -> Response:
        if not authed(request):
            return unauthorized()
        return JSONResponse({"ok": True, "tier": "hobby", "subscription_status": "active"})

    async def invoices(request: Request) -> Response:
        if not authed(request):
            return unauthorized()
        return JSONResponse({"ok": True, "invoices": []})

    async def mint(request: Request) -> Response:
        if not authed(request):
            return unauthorized()
        body = await request.json()
        team_id = f"team_{secrets.token_hex(6)}"
        teams[team_id] = {
            "id": team_id,
            "plan_tier": "free",
            "is_test_cohort": bool(body.get("is_test_cohort")),
        }
        return JSONResponse(teams[team_id], status_code=201)

    async def team(request: Request) -> Response:
        if not authed(request):
            return unauthorized()
        team_id = request.path_params["team_id"]
        if team_id not in teams:
            return JSONResponse({"ok": False, "error": "team_not_found"}, status_code=404)
        if request.method == "DELETE":
            if not teams[team_id]["is_test_cohort"]:
                return JSONResponse({"ok": False, "error": "not_test_cohort"}, status_code=409)
            del teams[team_id]
            return Response(status_code=204)
        return JSONResponse(teams[team_id])

    async def webhook(request: Request) -> Response:
        raw = await request.body()
        signature = request.headers.get("x-razorpay-signature", "")
        if verify:
            try:
                if not signature:
                    raise SignatureVerificationError("missing")
                razorpay.Utility().verify_webhook_signature(
                    raw.decode(), signature, RAZORPAY_SECRET
                )
            except SignatureVerificationError:
                return JSONResponse(
                    {"ok": False, "error": "invalid_signature", "message": "bad sig"},
                    status_code=400,
                )
        try:
            event = json.loads(raw)
        except ValueError:
            return JSONResponse({"ok": False, "error": "invalid_payload"}, status_code=400)
        if event.get("event") == "subscription.charged":
            entity = event.get("payload", {}).get("subscription", {}).get("entity", {})
            team_id = entity.get("notes", {}).get("team_id")
            tier = plans.get(entity.get("plan_id", ""))
            if team_id in teams and tier:
                teams[team_id]["plan_tier"] = tier
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[
            Route("/api/v1/billing/checkout", checkout, methods=["POST"]),
            Route("/api/v1/billing", billing, methods=["GET"]),
            Route("/api/v1/billing/invoices", invoices, methods=["GET"]),
            Route("/api/v1/test-cohort/teams", mint, methods=["POST"]),
            Route("/api/v1/test-cohort/teams/{team_id}", team, methods=["GET", "DELETE"]),
            Route("/razorpay/webhook", webhook, methods=["POST"]),
        ]
    )
    app.state.teams = teams
    return app


def pushgateway_stub() -> Starlette:
    """Records every push as (method, path, body text) in `app.state.pushes`."""
    pushes: list[tuple[str, str, str]] = []

    async def receive(request: Request) -> Response:
        pushes.append((request.method, request.url.path, (await request.body()).decode()))
        return Response(status_code=200)

    app = Starlette(routes=[Route("/metrics/{rest:path}", receive, methods=["PUT", "POST"])])
    app.state.pushes = pushes
    return app
