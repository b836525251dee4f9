"""``payharness bench webhooks``: signed Stripe webhooks verified and applied per second by the reference
service, on SQLite and on PostgreSQL, at several concurrencies, beside the same service's ``/healthz`` under
the same number of connections.

The reference runs as users run it (``python -m harness reference``, uvicorn, its own process) wired to
a fake Stripe. Each webhook is a distinct ``customer_cash_balance_transaction.created`` event (the event
a bank-transfer top-up is credited on, PROCESSORS.md 1.3): the fake Stripe's own event for a real top-up
of one of the accounts, given a fresh event id and transaction id, signed with ``Stripe-Signature`` before
the load (the run is far shorter than Stripe's 300 s tolerance, PROCESSORS.md 1.1). Each is sent once.

The count of applied webhooks is read from the accounts' balances (every event credits one fixed amount),
not from ``/metrics``, which is per process when the service runs several workers. The balances also check
exactly-once: every webhook answered 2xx was credited, and none more than once.

Rounds are interleaved (for each round, each concurrency: webhooks, then ``/healthz``) and each figure keeps
its best round: interference from a busy neighbour only ever slows a run down.

Goal (issue 16): on PostgreSQL, at least 0.25 of the ``/healthz`` rate at each concurrency. When a single
worker misses it, PostgreSQL is measured again with ``Budget.webhook_workers`` worker processes, against
``/healthz`` served by the same number of workers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

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
AMOUNT_MICROS = AMOUNT_CENTS * MICROS_PER_CENT


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
                    json={"account_id": account, "amount_micros": AMOUNT_MICROS},
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

    def total_micros(self, client: httpx.Client) -> int:
        """The accounts' balances added up."""
        return sum(int(_ok(client.get(f"/v1/accounts/{a}"))["balance_micros"]) for a in self.ids)

    def settled_micros(self, client: httpx.Client, *, timeout_seconds: float = 30.0) -> int:
        """The balances once they stop moving: a load generator stopped by its clock leaves requests in
        flight that the service still applies after the generator has gone."""
        deadline = time.monotonic() + timeout_seconds
        last = self.total_micros(client)
        while time.monotonic() < deadline:
            # waiting on another process to finish its work, bounded by the deadline
            time.sleep(0.2)
            current = self.total_micros(client)
            if current == last:
                return current
            last = current
        return last


def _ok(answer: httpx.Response) -> Any:
    if answer.status_code >= 400:
        raise BenchError(
            f"{answer.request.method} {answer.request.url.path} answered {answer.status_code}: "
            f"{answer.text[:300]}"
        )
    return answer.json()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Round:
    """One load of webhooks at one concurrency, then ``/healthz`` at the same concurrency."""

    connections: int
    applied: int
    sent_at_most: int
    webhooks: LoadResult
    healthz: LoadResult

    @property
    def rate(self) -> float:
        """Webhooks applied per second of the load."""
        return self.applied / self.webhooks.seconds if self.webhooks.seconds > 0 else 0.0

    @property
    def exactly_once(self) -> bool:
        """Every webhook answered 2xx was credited, and no more webhooks were credited than sent."""
        answered_ok = self.webhooks.requests - self.webhooks.non_2xx
        return answered_ok <= self.applied <= self.sent_at_most

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "connections": self.connections,
            "applied": self.applied,
            "applied_per_second": round(self.rate, 1),
            "exactly_once": self.exactly_once,
            "webhooks": self.webhooks.to_json(),
            "healthz": self.healthz.to_json(),
        }


def _measure(
    ctx: BenchContext,
    fake: LoopbackServer,
    app: StripeFakeApp,
    label: str,
    db_url: str,
    *,
    workers: int,
) -> list[_Round]:
    """One service on one database: accounts set up, then every round at every concurrency."""
    budget = ctx.budget
    rails = {
        "STRIPE_API_BASE": fake.base_url,
        "STRIPE_API_KEY": app.config.api_keys[0],
        "STRIPE_WEBHOOK_SECRET": app.config.webhook_secret,
    }
    tag = f"{label.lower()}-{workers}w"
    rounds: list[_Round] = []
    with (
        running_reference(
            ctx,
            name=f"reference-{tag}",
            folder="webhooks",
            rails=rails,
            database_url=db_url,
            workers=workers,
        ) as (child, base_url),
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        accounts = _Accounts(client, app, budget.webhook_accounts)
        signer = StripeSigner(app.config.webhook_secret, now=ctx.now)
        # first-use costs (imports, prepared statements, each worker's pool) out of the figure
        for request in accounts.pool(signer, f"{tag}warm", 4 * budget.webhook_accounts * workers):
            _ok(client.post(request.path, headers=dict(request.headers), content=request.body))
        for n in range(budget.repeats):
            for connections in budget.webhook_concurrency:
                pool = accounts.pool(signer, f"{tag}r{n}c{connections}", budget.webhook_pool)
                before = accounts.settled_micros(client)
                load = ctx.generator.run(
                    LoadSpec(
                        base_url=base_url,
                        requests=pool,
                        once_each=True,
                        connections=connections,
                        duration_seconds=budget.load_seconds,
                        max_requests=budget.webhook_pool,
                    )
                )
                applied = (accounts.settled_micros(client) - before) // AMOUNT_MICROS
                healthz = best_of(
                    ctx.generator,
                    LoadSpec(
                        base_url=base_url,
                        requests=(Request(method="GET", path="/healthz"),),
                        connections=connections,
                        duration_seconds=budget.load_seconds,
                        max_requests=budget.max_requests,
                    ),
                    warmup_seconds=budget.warmup_seconds if n == 0 else 0.0,
                    repeats=1,
                )
                rounds.append(
                    _Round(
                        connections=connections,
                        applied=applied,
                        sent_at_most=len(pool),
                        webhooks=load,
                        healthz=healthz,
                    )
                )
                ctx.say(
                    f"  {label:<10} {workers} worker(s), {connections:>2} connections, round "
                    f"{n + 1}: webhooks applied {rounds[-1].rate:>7,.0f}/s (p50 "
                    f"{_ms(load.p50_ms)}, p99 {_ms(load.p99_ms)}); /healthz {healthz.rps:,.0f} req/s"
                )
        child.check_alive()
    return rounds


def _figures(label: str, rounds: list[_Round], *, workers: int, goal: Goal | None) -> list[Figure]:
    """One figure per concurrency: the best webhook round against the best ``/healthz`` round."""
    figures = []
    for connections in dict.fromkeys(r.connections for r in rounds):
        mine = [r for r in rounds if r.connections == connections]
        best = max(mine, key=lambda r: r.rate)
        healthz = max(r.healthz.rps for r in mine)
        detail = (
            f"{best.applied:,} applied in {best.webhooks.seconds:.1f} s, p50/p99 "
            f"{_ms(best.webhooks.p50_ms)}/{_ms(best.webhooks.p99_ms)}; best of {len(mine)} rounds"
        )
        if best.webhooks.exhausted:
            detail += "; every pre-signed event was sent before the time ran out: a lower bound"
        if not all(r.exactly_once for r in mine):
            detail += "; NOT EXACTLY ONCE: the balances do not match the answers"
        if any(r.webhooks.non_2xx or r.webhooks.errors for r in mine):
            detail += "; some webhooks were refused or failed"
        on = f"{workers} workers" if workers > 1 else "1 worker"
        over = f"{connections} connections" if connections > 1 else "1 connection"
        figures.append(
            Figure(
                name=f"signed webhooks applied on {label}, {on}, {over} vs /healthz",
                unit="req/s",
                value=best.rate,
                baseline_name=f"/healthz ({on})",
                baseline=healthz,
                ratio=ratio_of(best.rate, healthz),
                goal=goal,
                detail=detail,
            )
        )
    return figures


def run(ctx: BenchContext) -> BenchResult:
    """Measure on SQLite, then on PostgreSQL when one is available (with several workers when one
    worker misses the goal)."""
    started = time.perf_counter()
    budget = ctx.budget
    ctx.say(
        f"webhooks: load generator {ctx.generator.name}, connections "
        f"{', '.join(map(str, budget.webhook_concurrency))}, {budget.repeats} rounds"
    )
    app = create_app(StripeConfig())
    figures: list[Figure] = []
    details: dict[str, Any] = {
        "generator": ctx.generator.name,
        "connections": list(budget.webhook_concurrency),
    }
    notes: list[str] = []
    with LoopbackServer(app) as fake:
        sqlite_url = f"sqlite+aiosqlite:///{ctx.scratch('webhooks') / 'reference.sqlite3'}"
        sqlite = _measure(ctx, fake, app, "SQLite", sqlite_url, workers=1)
        figures += _figures("SQLite", sqlite, workers=1, goal=None)
        details["sqlite"] = [r.to_json() for r in sqlite]
        try:
            with postgres_server(ctx.env) as server:
                with fresh_database(server) as url:
                    postgres = _measure(ctx, fake, app, "PostgreSQL", url, workers=1)
                one = _figures("PostgreSQL", postgres, workers=1, goal=GOAL_POSTGRES_VS_HEALTHZ)
                figures += one
                details["postgresql"] = [r.to_json() for r in postgres]
                workers = budget.webhook_workers
                if workers > 1 and any(f.met is False for f in one):
                    notes.append(
                        f"one worker misses the goal on PostgreSQL: measured again with {workers} "
                        "worker processes, against /healthz served by as many"
                    )
                    with fresh_database(server) as url:
                        scaled = _measure(ctx, fake, app, "PostgreSQL", url, workers=workers)
                    figures += _figures(
                        "PostgreSQL", scaled, workers=workers, goal=GOAL_POSTGRES_VS_HEALTHZ
                    )
                    details[f"postgresql_{workers}_workers"] = [r.to_json() for r in scaled]
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


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"
