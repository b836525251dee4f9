"""``payharness bench fakes``: the fake Stripe's throughput and latency beside its limit and its peers.

Two operations, on a loopback port, each contender in its own process and loaded by the same generator:

* ``GET /v1/customers/{id}`` and ``POST /v1/customers/{id}/balance_transactions`` (a credit);
* contenders: the fake Stripe; a no-op raw ASGI app on the same uvicorn set-up (the limit); localstripe
  (the closest peer: a stateful Stripe fake in Python); stripe-stateful-mock (a stateful Stripe fake on
  Node.js/Express, installed with npm on first use, :mod:`~harness.bench.stateful_mock`); Prism mocking an
  equivalent OpenAPI description.

Goals (issues 8 and 15): the fake's GET at least 3 times localstripe's and at least 0.3 of the no-op
limit; the ratio to stripe-stateful-mock is reported without a goal. A peer that lacks an operation
(answers 404 to it) is reported as lacking it; a peer that cannot be found or installed is reported as
"bench peer NAME unavailable: why", and the other figures are measured all the same.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

import httpx

from .config import BenchContext
from .errors import BenchError, Unavailable
from .load import LoadResult, LoadSpec, Request
from .peers import (
    PeerLaunch,
    localstripe_launch,
    prism_document,
    prism_launch,
    stripe_contract,
)
from .processes import Child, bench_child, child_env, free_port
from .results import BenchResult, Figure, Goal, ratio_of
from .stateful_mock import stripe_stateful_mock_launch

__all__ = ["GOAL_GET_VS_LIMIT", "GOAL_GET_VS_LOCALSTRIPE", "SCENARIOS", "run"]

#: the fakes' default test key (StripeConfig); localstripe accepts any sk_test_ key, Prism any Bearer
API_KEY = "sk_test_payharness"
GOAL_GET_VS_LIMIT = Goal(threshold=0.3)
GOAL_GET_VS_LOCALSTRIPE = Goal(threshold=3.0)

FAKE, LIMIT, LOCALSTRIPE, PRISM = "fake Stripe", "no-op ASGI (limit)", "localstripe", "Prism"
STATEFUL_MOCK = "stripe-stateful-mock"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """One benchmarked operation."""

    key: str
    method: str
    template: str
    form: bytes = b""

    def request(self, customer_id: str) -> Request:
        """The request for a customer, authenticated as stripe-python does (Bearer)."""
        headers: tuple[tuple[str, str], ...] = (("Authorization", f"Bearer {API_KEY}"),)
        if self.form:
            headers += (("Content-Type", "application/x-www-form-urlencoded"),)
        path = self.template.replace("{customer}", customer_id)
        return Request(method=self.method, path=path, headers=headers, body=self.form)


SCENARIOS = (
    Scenario(key="GET", method="GET", template="/v1/customers/{customer}"),
    # a credit: a negative amount credits the customer (PROCESSORS.md 1.2)
    Scenario(
        key="POST",
        method="POST",
        template="/v1/customers/{customer}/balance_transactions",
        form=b"amount=-100&currency=usd&description=payharness+bench",
    ),
)


def _label(scenario: Scenario) -> str:
    return f"{scenario.method} {scenario.template.replace('{customer}', '{id}')}"


def _create_customer(base_url: str) -> str | None:
    """A customer on a stateful contender; None when it answers without an id (a stateless mock)."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        answer = client.post(
            "/v1/customers",
            headers={"Authorization": f"Bearer {API_KEY}"},
            data={"email": "bench@payharness.invalid"},
        )
    if answer.status_code >= 400:
        raise BenchError(f"POST /v1/customers answered {answer.status_code}: {answer.text[:200]}")
    try:
        customer_id = answer.json().get("id")
    except ValueError:
        return None
    return str(customer_id) if customer_id else None


def _probe(base_url: str, request: Request) -> tuple[int, Any]:
    """One request before the load: the status, and the JSON answer (None when not JSON)."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        answer = client.request(
            request.method, request.path, headers=request.headers, content=request.body or None
        )
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, None


class _Bench:
    """One run of the fakes benchmark: contenders, measurements, and the answers Prism will replay."""

    def __init__(self, ctx: BenchContext, stack: ExitStack) -> None:
        self.ctx = ctx
        self._stack = stack
        #: contender name -> (base URL, customer id to read and credit)
        self.running: dict[str, tuple[str, str]] = {}
        self.measured: dict[str, dict[str, LoadResult]] = {}
        self.missing: dict[str, dict[str, str]] = {}
        self.contenders: dict[str, dict[str, str]] = {}
        self.examples: dict[tuple[str, str], Any] = {}

    def start_child(self, name: str, role: list[str], *, customer: str | None) -> None:
        """A contender served by ``harness.bench.child``; ``customer`` None creates one there."""
        child = bench_child(
            role, name=_slug(name), log_dir=self.ctx.scratch("fakes"), env=self.ctx.env
        )
        self._stack.enter_context(child)
        assert child.url is not None
        customer_id = customer or _create_customer(child.url) or "cus_bench"
        self.contenders[name] = {"url": child.url}
        self.running[name] = (child.url, customer_id)

    def start_peer(
        self, name: str, launch: Callable[[int], PeerLaunch], *, customer: str | None
    ) -> None:
        """A peer: found at run time and started; a missing or broken peer is reported, not fatal."""
        if name.lower() not in self.ctx.peers:
            self.missing[name] = {"*": f"{name} skipped (PAYHARNESS_BENCH_PEERS leaves it out)"}
            return
        port = free_port()
        try:
            peer = launch(port)
        except Unavailable as exc:
            self.missing[name] = {"*": f"bench peer {name} unavailable: {exc}"}
            return
        self.contenders[name] = {"version": peer.version, "note": peer.note}
        child = Child(
            peer.argv,
            name=_slug(name),
            log_path=self.ctx.scratch("fakes") / f"{_slug(name)}.log",
            env=child_env(self.ctx.env),
        )
        self._stack.enter_context(child)
        base_url = f"http://127.0.0.1:{port}"
        try:
            child.start_with_ready_url(peer.ready_url, timeout_seconds=90)
            customer_id = customer or _create_customer(base_url) or "cus_bench"
        except BenchError as exc:
            self.missing[name] = {"*": f"{name} did not run: {exc}"}
            return
        self.running[name] = (base_url, customer_id)

    def probe(self, name: str, scenario: Scenario) -> LoadSpec | None:
        """One request first: a contender that refuses it lacks the operation (recorded, not loaded)."""
        base_url, customer_id = self.running[name]
        request = scenario.request(customer_id)
        status, _body = _probe(base_url, request)
        if status >= 400:
            why = "lacks this endpoint" if status == 404 else "refuses this request"
            self.missing.setdefault(name, {})[scenario.key] = (
                f"{name} {why} ({_label(scenario)} answered {status})"
            )
            return None
        budget = self.ctx.budget
        return LoadSpec(
            base_url=base_url,
            requests=(request,),
            connections=budget.connections,
            duration_seconds=budget.load_seconds,
            max_requests=budget.max_requests,
        )

    def measure(self, scenario: Scenario) -> None:
        """Every running contender on one operation, interleaved repeat by repeat; best run of each.

        Interleaving keeps a burst of noise from another process on this machine from landing on one
        contender only, which would skew exactly the ratios this benchmark is about.
        """
        specs = {name: self.probe(name, scenario) for name in self.running}
        loads = {name: spec for name, spec in specs.items() if spec is not None}
        generator, budget = self.ctx.generator, self.ctx.budget
        for spec in loads.values():
            if budget.warmup_seconds > 0:
                generator.run(replace(spec, duration_seconds=budget.warmup_seconds))
        best: dict[str, LoadResult] = {}
        for _ in range(max(1, budget.repeats)):
            for name, spec in loads.items():
                result = generator.run(spec)
                if name not in best or result.rps > best[name].rps:
                    best[name] = result
        for name, result in best.items():
            self.measured.setdefault(name, {})[scenario.key] = result
            self.ctx.say(
                f"  {name:<20} {_label(scenario):<45} {result.rps:>9,.0f} req/s  "
                f"p50 {_ms(result.p50_ms)}  p99 {_ms(result.p99_ms)}"
                + (f"  ({result.non_2xx} non-2xx)" if result.non_2xx else "")
            )


def run(ctx: BenchContext) -> BenchResult:
    """Start every contender, measure each operation on all of them, and judge the fake's figures."""
    started = time.perf_counter()
    ctx.say(f"fakes: load generator {ctx.generator.name}, {ctx.budget.connections} connections")
    with ExitStack() as stack:
        bench = _Bench(ctx, stack)
        bench.start_child(FAKE, ["serve", "stripe"], customer=None)
        fake_url, fake_customer = bench.running[FAKE]
        for scenario in SCENARIOS:  # the fake's own answers become Prism's examples
            bench.examples[(scenario.method, scenario.template)] = _probe(
                fake_url, scenario.request(fake_customer)
            )[1]
        bench.start_child(LIMIT, ["serve", "noop"], customer=fake_customer)
        bench.start_peer(LOCALSTRIPE, lambda port: localstripe_launch(port, ctx.env), customer=None)
        bench.start_peer(
            STATEFUL_MOCK, lambda port: stripe_stateful_mock_launch(port, ctx.env), customer=None
        )

        def prism(port: int) -> PeerLaunch:
            document = ctx.scratch("fakes") / "prism-stripe.openapi.json"
            document.write_text(json.dumps(prism_document(stripe_contract(), bench.examples)))
            return prism_launch(port, document, ctx.env)

        bench.start_peer(PRISM, prism, customer=fake_customer)
        for scenario in SCENARIOS:
            bench.measure(scenario)
    return BenchResult(
        name="fakes",
        quick=ctx.quick,
        figures=tuple(_figures(bench)),
        details={
            "generator": ctx.generator.name,
            "connections": ctx.budget.connections,
            "contenders": bench.contenders,
            "measurements": {
                name: {key: r.to_json() for key, r in results.items()}
                for name, results in bench.measured.items()
            },
            "unavailable": bench.missing,
        },
        notes=_notes(bench),
        wall_seconds=time.perf_counter() - started,
    )


def _figures(bench: _Bench) -> list[Figure]:
    figures: list[Figure] = []
    for scenario in SCENARIOS:
        fake = bench.measured.get(FAKE, {}).get(scenario.key)
        for other, goal in (
            (LIMIT, GOAL_GET_VS_LIMIT if scenario.key == "GET" else None),
            (LOCALSTRIPE, GOAL_GET_VS_LOCALSTRIPE if scenario.key == "GET" else None),
            (STATEFUL_MOCK, None),
            (PRISM, None),
        ):
            name = f"fake Stripe {_label(scenario)} vs {other}"
            baseline = bench.measured.get(other, {}).get(scenario.key)
            reason = _why_missing(bench, FAKE, scenario) or _why_missing(bench, other, scenario)
            if fake is None or baseline is None:
                figures.append(Figure.missing(name, "req/s", reason or "not measured", goal=goal))
                continue
            figures.append(
                Figure(
                    name=name,
                    unit="req/s",
                    value=fake.rps,
                    baseline_name=other,
                    baseline=baseline.rps,
                    ratio=ratio_of(fake.rps, baseline.rps),
                    goal=goal,
                    detail=(
                        f"p50/p99 {_ms(fake.p50_ms)}/{_ms(fake.p99_ms)} vs "
                        f"{_ms(baseline.p50_ms)}/{_ms(baseline.p99_ms)}"
                    ),
                )
            )
    return figures


def _why_missing(bench: _Bench, name: str, scenario: Scenario) -> str | None:
    reasons = bench.missing.get(name, {})
    return reasons.get(scenario.key) or reasons.get("*")


def _notes(bench: _Bench) -> tuple[str, ...]:
    notes = [reason for reasons in bench.missing.values() for reason in reasons.values()]
    for name, info in bench.contenders.items():
        if info.get("note"):
            notes.append(f"{name} {info.get('version', '')}: {info['note']}".replace("  ", " "))
    return tuple(dict.fromkeys(notes))


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"
