"""``payharness bench replay``: events per second of the re-signing replayer against a no-op sink, beside a
bare async httpx loop posting the same bodies.

The recording is N distinct Stripe funding events (the fake Stripe's wire format, see
:mod:`harness.bench.stripe_events`) with a stale ``Stripe-Signature``, as a real export has. The replayer
(:class:`harness.replay.Replayer`, one pass, recorded order, the same concurrency) strips and re-signs
each with a fresh timestamp and reads every answer into a result; the bare loop posts the same bodies with
one signature made up front and reads nothing. Both use the same httpx client settings and the same sink,
a no-op ASGI app in its own process; they alternate, and each keeps its best run.

Goal (issue 8): the replayer at least 0.8 of the bare loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import httpx

from fakes._common import LoopbackServer
from fakes.signing import StripeSigner
from fakes.stripe import StripeConfig, create_app

from .config import BenchContext
from .errors import Unavailable
from .load import run_async
from .processes import bench_child
from .results import BenchResult, Figure, Goal, ratio_of
from .stripe_events import customer_for, funding_bodies, funding_template

__all__ = ["GOAL_REPLAYER_VS_BARE", "run"]

GOAL_REPLAYER_VS_BARE = Goal(threshold=0.8)
WEBHOOK_PATH = "/v1/payments/webhook/stripe"
#: a recording's secret is the production one: a stale signature the replayer must replace
_RECORDED_SECRET = "whsec_recorded_in_production"
_TEST_SECRET = "whsec_payharness_test"


def _bodies(count: int) -> list[tuple[str, bytes]]:
    fake = create_app(StripeConfig())
    with LoopbackServer(fake) as server:
        customer = customer_for(server.base_url, fake.config.api_keys[0])
        template = funding_template(fake, customer, amount_cents=100, reference=None)
    return funding_bodies([template], label="replay", count=count)


def _client(concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, timeout=30)


async def _bare(url: str, sends: Sequence[tuple[dict[str, str], bytes]], concurrency: int) -> float:
    """The bare loop: ``concurrency`` workers posting pre-signed bodies; seconds taken."""
    async with _client(concurrency) as client:
        queue = iter(sends)
        started = time.perf_counter()

        async def worker() -> None:
            for headers, body in queue:
                await client.post(url, content=body, headers=headers)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


async def _replayed(
    sink: str, deliveries: Sequence[Any], ctx: BenchContext
) -> tuple[float, dict[str, int]]:
    """One replayer pass over ``deliveries``; seconds taken and the outcome counts."""
    from harness.replay import (
        Order,
        ReplayConfig,
        Replayer,
        WebhookSecrets,
        plan_sends,
        signers_for,
    )

    concurrency = ctx.budget.replay_concurrency
    config = ReplayConfig(target=sink, concurrency=concurrency, passes=1, now=ctx.now)
    signers = signers_for(WebhookSecrets(by_rail={"stripe": _TEST_SECRET}), now=ctx.now)
    plan = plan_sends(deliveries, order=Order.RECORDED, seed=None, duplicate=0)
    async with _client(concurrency) as client:
        replayer = Replayer(config, signers=signers, client=client)
        started = time.perf_counter()
        results = await replayer.run_pass(plan, pass_number=1)
        seconds = time.perf_counter() - started
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    return seconds, outcomes


def run(ctx: BenchContext) -> BenchResult:
    """Alternate the bare loop and the replayer; judge the best run of each."""
    try:
        from harness.replay import Delivery
        from harness.replay.recording import format_timestamp
    except ImportError as exc:
        raise Unavailable(f"the replayer is not built yet: {exc}") from exc
    started = time.perf_counter()
    count, concurrency = ctx.budget.replay_events, ctx.budget.replay_concurrency
    bodies = _bodies(count)
    stale = StripeSigner(_RECORDED_SECRET, now=ctx.now)
    received = format_timestamp(ctx.now())
    deliveries = [
        Delivery(
            rail="stripe",
            event_id=event_id,
            received_at=received,
            method="POST",
            path=WEBHOOK_PATH,
            headers=(("content-type", "application/json"), *stale.sign(body).items()),
            body=body,
            source="bench",
        )
        for event_id, body in bodies
    ]
    fresh = StripeSigner(_TEST_SECRET, now=ctx.now)
    bare_sends = [({"content-type": "application/json", **fresh.sign(b)}, b) for _e, b in bodies]
    ctx.say(f"replay: {count:,} events, concurrency {concurrency}, against a no-op sink")
    bare_best = replay_best = float("inf")
    outcomes: dict[str, int] = {}
    with bench_child(
        ["serve", "noop"], name="sink", log_dir=ctx.scratch("replay"), env=ctx.env
    ) as sink:
        assert sink.url is not None
        url = sink.url + WEBHOOK_PATH
        run_async(_bare(url, bare_sends[: max(1, count // 10)], concurrency))  # warm-up
        for _ in range(max(1, ctx.budget.repeats)):
            bare_best = min(bare_best, run_async(_bare(url, bare_sends, concurrency)))
            seconds, outcomes = run_async(_replayed(sink.url, deliveries, ctx))
            replay_best = min(replay_best, seconds)
    bare_rate, replay_rate = count / bare_best, count / replay_best
    ctx.say(
        f"  bare httpx loop {bare_rate:>9,.0f} events/s; replayer {replay_rate:>9,.0f} events/s"
    )
    figure = Figure(
        name="replayer vs bare async httpx loop (no-op sink)",
        unit="events/s",
        value=replay_rate,
        baseline_name="bare httpx loop",
        baseline=bare_rate,
        ratio=ratio_of(replay_rate, bare_rate),
        goal=GOAL_REPLAYER_VS_BARE,
        detail=f"{count:,} events, concurrency {concurrency}; replayer outcomes {outcomes}",
    )
    return BenchResult(
        name="replay",
        quick=ctx.quick,
        figures=(figure,),
        details={
            "events": count,
            "concurrency": concurrency,
            "bare_seconds": bare_best,
            "replayer_seconds": replay_best,
            "replayer_outcomes": outcomes,
        },
        wall_seconds=time.perf_counter() - started,
    )
