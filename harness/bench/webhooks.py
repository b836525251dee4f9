"""``payharness bench webhooks``: signed Stripe webhooks verified and applied per second by the reference
service, on SQLite and on PostgreSQL, beside the same service's ``/healthz`` under the same load.

The reference runs as users run it (``python -m harness reference``, uvicorn, its own process) wired to
a fake Stripe. Each webhook is a distinct ``customer_cash_balance_transaction.created`` event (the event
a bank-transfer top-up is credited on, PROCESSORS.md 1.3): the fake Stripe's own event for a real top-up
of one of a few accounts, given a fresh event id and transaction id, signed with ``Stripe-Signature``
before the load (the run is far shorter than Stripe's 300 s tolerance, PROCESSORS.md 1.1). Each is sent
once; the rate is the service's own count of *applied* webhooks (``payments_webhooks_total``) divided by
the load's duration, and the accounts' balances are checked to add up afterwards.

Goal (issue 8): on PostgreSQL, at least 0.25 of the ``/healthz`` rate.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from fakes._common import LoopbackServer
from fakes.signing import StripeSigner
from fakes.stripe import StripeConfig, StripeFakeApp, create_app

from .config import BenchContext
from .errors import BenchError, Unavailable
from .load import LoadResult, LoadSpec, Request, best_of
from .postgres import fresh_database, postgres_server
from .results import BenchResult, Figure, Goal, ratio_of
from .service import running_reference
from .stripe_events import funding_bodies, funding_template

__all__ = ["GOAL_POSTGRES_VS_HEALTHZ", "run"]

GOAL_POSTGRES_VS_HEALTHZ = Goal(threshold=0.25)

WEBHOOK_PATH = "/v1/payments/webhook/stripe"
AMOUNT_CENTS = 100
MICROS_PER_CENT = 10_000


def _settled(client: httpx.Client, *, timeout_seconds: float = 30.0) -> dict[str, float]:
    """``payments_webhooks_total`` once it stops moving: a load generator stopped by its clock leaves
    requests in flight that the service still applies after the generator has gone."""
    deadline = time.monotonic() + timeout_seconds
    last = _applied(client)
    while time.monotonic() < deadline:
        time.sleep(0.2)  # waiting on another process to finish its work, bounded by the deadline
        current = _applied(client)
        if current == last:
            return current
        last = current
    return last


def _applied(client: httpx.Client) -> dict[str, float]:
    """``payments_webhooks_total`` of the stripe rail by outcome, from the service's ``/metrics``."""
    outcomes: dict[str, float] = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "payments_webhooks_total" and sample.labels.get("rail") == "stripe":
                outcomes[sample.labels["outcome"]] = sample.value
    return outcomes


class _Accounts:
    """Accounts with a Stripe top-up started, and one real funding event of each as a template."""

    def __init__(self, client: httpx.Client, fake: StripeFakeApp, count: int) -> None:
        self.ids: list[str] = []
        self.templates: list[str] = []
        for _ in range(count):
            account = _ok(client.post("/v1/accounts", json={"is_test_cohort": True}))["id"]
            topup = _ok(
                client.post(
                    "/v1/payments/topup/stripe",
                    json={"account_id": account, "amount_micros": AMOUNT_CENTS * MICROS_PER_CENT},
                )
            )
            self.ids.append(account)
            self.templates.append(
                funding_template(
                    fake,
                    topup["details"]["customer"],
                    amount_cents=AMOUNT_CENTS,
                    reference=topup["id"],
                )
            )

    def pool(self, signer: StripeSigner, label: str, count: int) -> tuple[Request, ...]:
        """``count`` distinct signed events, spread over the accounts."""
        return tuple(
            Request(
                method="POST",
                path=WEBHOOK_PATH,
                headers=(("Content-Type", "application/json"), *signer.sign(body).items()),
                body=body,
            )
            for _event_id, body in funding_bodies(self.templates, label=label, count=count)
        )

    def total_balance_micros(self, client: httpx.Client) -> int:
        """The accounts' balances added up."""
        return sum(int(_ok(client.get(f"/v1/accounts/{a}"))["balance_micros"]) for a in self.ids)


def _ok(answer: httpx.Response) -> Any:
    if answer.status_code >= 400:
        raise BenchError(
            f"{answer.request.method} {answer.request.url.path} answered {answer.status_code}: "
            f"{answer.text[:300]}"
        )
    return answer.json()


def _measure(
    ctx: BenchContext, fake: LoopbackServer, app: StripeFakeApp, label: str, db_url: str
) -> dict[str, Any]:
    """One database: the service started, accounts set up, webhooks then /healthz under load."""
    budget = ctx.budget
    rails = {
        "STRIPE_API_BASE": fake.base_url,
        "STRIPE_API_KEY": app.config.api_keys[0],
        "STRIPE_WEBHOOK_SECRET": app.config.webhook_secret,
    }
    with (
        running_reference(
            ctx,
            name=f"reference-{label.lower()}",
            folder="webhooks",
            rails=rails,
            database_url=db_url,
        ) as (child, base_url),
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        accounts = _Accounts(client, app, budget.webhook_accounts)
        signer = StripeSigner(app.config.webhook_secret, now=ctx.now)
        warmup = accounts.pool(signer, f"warm{label}", 4 * budget.webhook_accounts)
        for request in warmup:  # first-use costs (imports, prepared statements) out of the figure
            _ok(client.post(request.path, headers=dict(request.headers), content=request.body))
        before = _applied(client)
        spec = LoadSpec(
            base_url=base_url,
            requests=accounts.pool(signer, label, budget.webhook_pool),
            once_each=True,
            connections=budget.connections,
            duration_seconds=budget.load_seconds,
            max_requests=budget.webhook_pool,
        )
        load = ctx.generator.run(spec)
        after = _settled(client)
        applied = after.get("applied", 0.0) - before.get("applied", 0.0)
        credited = (after.get("applied", 0.0)) * AMOUNT_CENTS * MICROS_PER_CENT
        balances = accounts.total_balance_micros(client)
        healthz = best_of(
            ctx.generator,
            LoadSpec(
                base_url=base_url,
                requests=(Request(method="GET", path="/healthz"),),
                connections=budget.connections,
                duration_seconds=budget.load_seconds,
                max_requests=budget.max_requests,
            ),
            warmup_seconds=budget.warmup_seconds,
            repeats=budget.repeats,
        )
        child.check_alive()
    rate = applied / load.seconds if load.seconds > 0 else 0.0
    ctx.say(
        f"  {label:<10} webhooks applied {rate:>8,.0f}/s ({applied:,.0f} in {load.seconds:.1f} s, "
        f"p50 {_ms(load.p50_ms)}, p99 {_ms(load.p99_ms)}); /healthz {healthz.rps:,.0f} req/s"
    )
    return {
        "database": label,
        "applied": applied,
        "applied_per_second": rate,
        "webhooks": load,
        "healthz": healthz,
        "outcomes": {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after},
        "balances_add_up": balances == credited,
        "balances_micros": balances,
        "expected_micros": credited,
    }


def _figure(label: str, measured: Mapping[str, Any], goal: Goal | None) -> Figure:
    load: LoadResult = measured["webhooks"]
    healthz: LoadResult = measured["healthz"]
    rate = float(measured["applied_per_second"])
    detail = f"{measured['applied']:,.0f} applied, p50/p99 {_ms(load.p50_ms)}/{_ms(load.p99_ms)}"
    if load.exhausted:
        detail += "; every pre-signed event was sent before the time ran out: a lower bound"
    if not measured["balances_add_up"]:
        detail += "; BALANCES DO NOT ADD UP"
    return Figure(
        name=f"signed webhooks applied on {label} vs /healthz",
        unit="req/s",
        value=rate,
        baseline_name="/healthz",
        baseline=healthz.rps,
        ratio=ratio_of(rate, healthz.rps),
        goal=goal,
        detail=detail,
    )


def run(ctx: BenchContext) -> BenchResult:
    """Measure on SQLite, then on PostgreSQL when one is available."""
    started = time.perf_counter()
    ctx.say(f"webhooks: load generator {ctx.generator.name}, {ctx.budget.connections} connections")
    app = create_app(StripeConfig())
    figures: list[Figure] = []
    details: dict[str, Any] = {
        "generator": ctx.generator.name,
        "connections": ctx.budget.connections,
    }
    notes: list[str] = []
    with LoopbackServer(app) as fake:
        sqlite_url = f"sqlite+aiosqlite:///{ctx.scratch('webhooks') / 'reference.sqlite3'}"
        sqlite = _measure(ctx, fake, app, "SQLite", sqlite_url)
        figures.append(_figure("SQLite", sqlite, None))
        details["sqlite"] = _json(sqlite)
        try:
            with postgres_server(ctx.env) as server, fresh_database(server) as url:
                postgres = _measure(ctx, fake, app, "PostgreSQL", url)
            figures.append(_figure("PostgreSQL", postgres, GOAL_POSTGRES_VS_HEALTHZ))
            details["postgresql"] = _json(postgres)
        except Unavailable as exc:
            ctx.say(f"  PostgreSQL not available: {exc}")
            notes.append(f"PostgreSQL not available: {exc}")
            figures.append(
                Figure.missing(
                    "signed webhooks applied on PostgreSQL vs /healthz",
                    "req/s",
                    str(exc),
                    goal=GOAL_POSTGRES_VS_HEALTHZ,
                )
            )
    return BenchResult(
        name="webhooks",
        quick=ctx.quick,
        figures=tuple(figures),
        details=details,
        notes=tuple(notes),
        wall_seconds=time.perf_counter() - started,
    )


def _json(measured: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.to_json() if isinstance(v, LoadResult) else v) for k, v in measured.items()}


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"
