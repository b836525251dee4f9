"""``payharness bench memory``: the fake Stripe's peak RSS after 100,000 requests, and the prober daemon's
RSS across 1,000 runs.

* **Fake.** The Stripe fake in its own process, loaded with ``GET /v1/customers/{id}`` in bounded chunks
  until 100,000 requests were answered; peak RSS (``VmHWM``) afterwards. Reads are used on purpose: the
  journal (bounded at ``StripeConfig.journal_size`` entries) is what must keep memory flat, while every
  write legitimately keeps a new object, as Stripe does. Goal: under 200 MiB.
* **Prober.** The prober daemon (``harness.prober.run_daemon``, the reference profile) in its own process
  against a live reference wired to a fake Stripe, runs back to back, reporting its own RSS every few
  runs. "Flat" is judged as the RSS after the last run over the RSS after the first tenth of the runs
  (the warm-up: imports, pools, caches); goal: at most 1.05 (less than 5 % growth).
"""

from __future__ import annotations

import json
import queue
import time
from typing import Any

import httpx

from fakes._common import LoopbackServer
from fakes.stripe import StripeConfig, create_app

from .config import BenchContext
from .errors import ChildFailed, Unavailable
from .load import LoadSpec, Request
from .processes import bench_child
from .results import BenchResult, Figure, Goal, ratio_of
from .service import running_reference

__all__ = ["FAKE_RSS_LIMIT_MIB", "GOAL_FAKE_RSS", "GOAL_PROBER_FLAT", "run", "slope_kib_per_run"]

MIB = 1024 * 1024
FAKE_RSS_LIMIT_MIB = 200.0
GOAL_FAKE_RSS = Goal(threshold=1.0, at_least=False)
GOAL_PROBER_FLAT = Goal(threshold=1.05, at_least=False)
_SAMPLE = "PAYHARNESS_BENCH_SAMPLE "


def _fake_rss(ctx: BenchContext) -> tuple[Figure, dict[str, Any]]:
    budget = ctx.budget
    target = budget.memory_requests
    journal = StripeConfig().journal_size
    role = ["serve", "stripe", "--journal-size", str(journal)]
    with bench_child(role, name="fake-stripe", log_dir=ctx.scratch("memory"), env=ctx.env) as child:
        assert child.url is not None
        key = StripeConfig().api_keys[0]
        with httpx.Client(base_url=child.url, timeout=10) as client:
            answer = client.post(
                "/v1/customers",
                headers={"Authorization": f"Bearer {key}"},
                data={"email": "bench@payharness.invalid"},
            )
            answer.raise_for_status()
            customer = answer.json()["id"]
        start_rss, _ = child.rss()
        request = Request(
            method="GET",
            path=f"/v1/customers/{customer}",
            headers=(("Authorization", f"Bearer {key}"),),
        )
        answered = errors = chunks = 0
        deadline = time.monotonic() + budget.memory_time_limit_seconds
        while answered < target and time.monotonic() < deadline:
            result = ctx.generator.run(
                LoadSpec(
                    base_url=child.url,
                    requests=(request,),
                    connections=budget.connections,
                    duration_seconds=budget.memory_chunk_seconds,
                    max_requests=target - answered,
                )
            )
            answered += result.requests
            errors += result.errors + result.non_2xx
            chunks += 1
        rss, peak = child.rss()
    ctx.say(
        f"  fake Stripe: {answered:,} requests ({errors} errors) in {chunks} chunks; RSS "
        f"{start_rss / MIB:.1f} MiB before, {rss / MIB:.1f} MiB after, peak {peak / MIB:.1f} MiB"
    )
    peak_mib = peak / MIB
    detail = f"{answered:,} GET requests; journal bounded at {journal:,} entries"
    if answered < target:
        detail += (
            f"; stopped at the {budget.memory_time_limit_seconds:g} s limit, short of {target:,}"
        )
    figure = Figure(
        name=f"fake Stripe peak RSS after {target:,} requests",
        unit="MiB",
        value=peak_mib,
        baseline_name="limit",
        baseline=FAKE_RSS_LIMIT_MIB,
        ratio=ratio_of(peak_mib, FAKE_RSS_LIMIT_MIB),
        goal=GOAL_FAKE_RSS,
        detail=detail,
    )
    details = {
        "requests": answered,
        "errors": errors,
        "chunks": chunks,
        "journal_size": journal,
        "rss_before_mib": start_rss / MIB,
        "rss_after_mib": rss / MIB,
        "peak_rss_mib": peak_mib,
    }
    return figure, details


def _prober_samples(ctx: BenchContext, base_url: str, secret: str) -> list[dict[str, int]]:
    runs = ctx.budget.prober_runs
    every = max(1, runs // 20)
    env = {k: v for k, v in ctx.env.items() if not k.startswith("PAYMENT_PROBE_")}
    env["STRIPE_WEBHOOK_SECRET"] = secret
    role = ["probe-daemon", "--target", base_url, "--runs", str(runs), "--every", str(every)]
    role += ["--audit", str(ctx.scratch("memory") / "prober-audit.jsonl")]
    samples: list[dict[str, int]] = []
    with bench_child(role, name="prober", log_dir=ctx.scratch("memory"), env=env) as child:
        lines = child.lines()
        # bounded: a run of the five legs takes well under a second against a loopback reference
        deadline = time.monotonic() + 60 + 2.0 * runs
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty as exc:
                raise ChildFailed(f"the prober daemon did not finish {runs} runs in time") from exc
            if line is None:
                break
            if line.startswith(_SAMPLE):
                samples.append(json.loads(line[len(_SAMPLE) :]))
                if samples[-1]["run"] >= runs:
                    break
    if not samples:
        raise ChildFailed(f"the prober daemon reported no run; see {child.log_path}")
    return samples


def slope_kib_per_run(samples: list[dict[str, int]]) -> float:
    """Least-squares growth of RSS per run, in KiB (0 with fewer than two samples)."""
    if len(samples) < 2:
        return 0.0
    xs = [s["run"] for s in samples]
    ys = [s["rss"] / 1024 for s in samples]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def _prober_rss(ctx: BenchContext) -> tuple[Figure, dict[str, Any]]:
    runs = ctx.budget.prober_runs
    name = f"prober daemon RSS after {runs:,} runs vs after warm-up"
    try:
        from harness.prober import run_daemon  # noqa: F401 - only to know it is there
    except ImportError as exc:
        raise Unavailable(f"the prober is not built yet: {exc}") from exc
    fake = create_app(StripeConfig())
    secret = fake.config.webhook_secret
    with LoopbackServer(fake) as server:
        rails = {
            "STRIPE_API_BASE": server.base_url,
            "STRIPE_API_KEY": fake.config.api_keys[0],
            "STRIPE_WEBHOOK_SECRET": secret,
        }
        database = f"sqlite+aiosqlite:///{ctx.scratch('memory') / 'reference.sqlite3'}"
        with running_reference(
            ctx, name="reference", folder="memory", rails=rails, database_url=database
        ) as (_child, base_url):
            samples = _prober_samples(ctx, base_url, secret)
    warm_run = max(1, runs // 10)
    warm = next((s for s in samples if s["run"] >= warm_run), samples[0])
    last = samples[-1]
    slope = slope_kib_per_run([s for s in samples if s["run"] >= warm["run"]])
    ctx.say(
        f"  prober: {last['run']:,} runs ({last['failed']} failed); RSS {warm['rss'] / MIB:.1f} MiB "
        f"after run {warm['run']}, {last['rss'] / MIB:.1f} MiB after run {last['run']} "
        f"({slope:+.2f} KiB/run)"
    )
    figure = Figure(
        name=name,
        unit="MiB",
        value=last["rss"] / MIB,
        baseline_name=f"after run {warm['run']}",
        baseline=warm["rss"] / MIB,
        ratio=ratio_of(last["rss"], warm["rss"]),
        goal=GOAL_PROBER_FLAT,
        detail=f"{slope:+.2f} KiB/run after warm-up; {last['failed']} of {last['run']} runs failed a leg",
    )
    return figure, {
        "runs": last["run"],
        "failed_runs": last["failed"],
        "slope_kib_per_run": slope,
        "samples": samples,
    }


def run(ctx: BenchContext) -> BenchResult:
    """Both memory figures; a prober that is not built yet is reported, not faked."""
    started = time.perf_counter()
    ctx.say(f"memory: load generator {ctx.generator.name}")
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    fake_figure, details["fake"] = _fake_rss(ctx)
    figures.append(fake_figure)
    try:
        prober_figure, details["prober"] = _prober_rss(ctx)
        figures.append(prober_figure)
    except Unavailable as exc:
        figures.append(
            Figure.missing(
                f"prober daemon RSS after {ctx.budget.prober_runs:,} runs vs after warm-up",
                "MiB",
                str(exc),
                goal=GOAL_PROBER_FLAT,
            )
        )
    return BenchResult(
        name="memory",
        quick=ctx.quick,
        figures=tuple(figures),
        details=details,
        wall_seconds=time.perf_counter() - started,
    )
