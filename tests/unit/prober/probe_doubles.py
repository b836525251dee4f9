"""Test doubles for the prober's unit tests: a clock, and a scripted target behind `httpx.MockTransport`.

`FakeTarget` answers like the reference payments service (the `reference` profile's paths), keeps the
tiers of the accounts it minted, verifies Stripe signatures with `fakes.signing`, and records every
request. A test overrides one route with `target.on("POST /v1/billing/checkout", handler)`; a handler may
be async (to hang, or to move the clock).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from fakes.signing import SignatureError, StripeSigner
from harness.prober import AuditTrail, ProbeConfig, ProbeMetrics, Prober, ProbeSecrets, load_profile
from harness.prober.config import Redactor
from harness.prober.context import Leg

SECRET = "whsec_unit_probe_secret_3f9a"
TOKEN = "probe-token-unit-7c21"
START = 1_750_000_000.0

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, start: float = START) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def error(status: int, code: str) -> httpx.Response:
    """An error answer in the reference's shape."""
    return httpx.Response(status, json={"error": {"code": code, "message": code}})


class FakeTarget:
    """A reference-shaped target in memory; `calls` lists every request as `METHOD /path`."""

    def __init__(self, *, secret: str = SECRET, clock: FakeClock | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.tiers: dict[str, str] = {}
        self.deleted: list[str] = []
        self.overrides: dict[str, Handler] = {}
        self.clock = clock
        self._signer = StripeSigner(secret, now=clock or (lambda: START), tolerance_seconds=300)
        self._next = 0

    @property
    def calls(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def on(self, route: str, handler: Handler | httpx.Response) -> None:
        """Answer `METHOD /path-prefix` with `handler` (or always with one response)."""
        if isinstance(handler, httpx.Response):
            fixed = handler
            self.overrides[route] = lambda _request: fixed
        else:
            self.overrides[route] = handler

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = f"{request.method} {request.url.path}"
        for route, handler in self.overrides.items():
            if key.startswith(route):
                answer = handler(request)
                if inspect.isawaitable(answer):
                    answer = await answer
                assert isinstance(answer, httpx.Response)
                return answer
        return self._reference(request)

    def _reference(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if method == "POST" and path == "/v1/accounts":
            self._next += 1
            account = f"acct_unit{self._next}"
            self.tiers[account] = "free"
            return httpx.Response(201, json={"id": account, "is_test_cohort": True})
        if method == "GET" and path.startswith("/v1/accounts/"):
            account = path.rsplit("/", 1)[1]
            if account not in self.tiers:
                return error(404, "account_not_found")
            return httpx.Response(200, json={"id": account, "is_test_cohort": True})
        if method == "DELETE" and path.startswith("/v1/accounts/"):
            account = path.rsplit("/", 1)[1]
            if account not in self.tiers:
                return error(404, "account_not_found")
            del self.tiers[account]
            self.deleted.append(account)
            return httpx.Response(204)
        if method == "POST" and path == "/v1/billing/checkout":
            return httpx.Response(201, json={"id": "sub_ph_1", "status": "pending"})
        if method == "GET" and path in ("/v1/billing", "/v1/billing/invoices"):
            account = request.url.params.get("account_id", "")
            if account not in self.tiers:
                return error(404, "account_not_found")
            return httpx.Response(
                200,
                json={"account_id": account, "plan_tier": self.tiers[account], "invoices": []},
            )
        if method == "POST" and path == "/v1/payments/webhook/stripe":
            return self._webhook(request)
        return error(404, "not_found")

    def _webhook(self, request: httpx.Request) -> httpx.Response:
        if "stripe-signature" not in request.headers:
            return error(400, "missing_signature_header")
        try:
            self._signer.verify(request.content, request.headers)
        except SignatureError:
            return error(400, "webhook_signature_invalid")
        event = json.loads(request.content)
        details = event["data"]["object"]["parent"]["subscription_details"]
        account = details["metadata"]["account_id"]
        if account in self.tiers:
            self.tiers[account] = details["metadata"]["plan"]
        return httpx.Response(200, json={"status": "applied", "event_id": event["id"]})


def make_prober(
    target: FakeTarget,
    *,
    profile: str = "reference",
    secrets: ProbeSecrets | None = None,
    clock: FakeClock | None = None,
    budgets: dict[str, float] | None = None,
    audit_path: Path | None = None,
    metrics: ProbeMetrics | None = None,
    legs: tuple[Leg, ...] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Prober:
    """A prober on `target` with the webhook secret set, a fixed clock and counting randomness."""
    chosen = secrets if secrets is not None else ProbeSecrets(webhook_secret=SECRET)
    config = ProbeConfig(
        target="http://target.test",
        profile=load_profile(profile),
        secrets=chosen,
        budgets_seconds=budgets or {},
    )
    counter = iter(range(1, 1_000_000))
    extra: dict[str, Any] = {}
    if legs is not None:
        extra["legs"] = legs
    return Prober(
        config,
        metrics=metrics,
        audit=AuditTrail(audit_path, redact=Redactor(chosen.secret_values())),
        now=clock or target.clock or FakeClock(),
        token_hex=lambda n: f"{next(counter):0{2 * n}x}",
        transport=transport or target.transport,
        **extra,
    )


def outcome_count(metrics: ProbeMetrics, leg: str, result: str) -> float:
    """`payment_probe_outcome_total{leg,result}`, 0 when the series does not exist."""
    value = metrics.registry.get_sample_value(
        "payment_probe_outcome_total", {"leg": leg, "result": result}
    )
    return value or 0.0
