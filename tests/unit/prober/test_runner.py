"""The runner: leg order, budgets, timeouts, the panic boundary, and the run's own cohort account."""

from __future__ import annotations

import asyncio

import httpx
from probe_doubles import SECRET, FakeClock, FakeTarget, error, make_prober, outcome_count

from harness.prober import DEFAULT_LEGS, LEG_NAMES, Leg, LegOutcome, ProbeSecrets
from harness.prober.context import LegContext


async def test_the_five_legs_run_in_the_documented_order() -> None:
    assert LEG_NAMES == (
        "checkout_reachable",
        "billing_state",
        "invoices_reachable",
        "webhook_security",
        "upgrade_webhook_e2e",
    )
    assert tuple(leg.name for leg in DEFAULT_LEGS) == LEG_NAMES
    report = await make_prober(FakeTarget()).run_once()
    assert tuple(r.leg for r in report.legs) == LEG_NAMES


async def test_a_healthy_target_passes_every_leg_and_counts_five_outcomes() -> None:
    target = FakeTarget()
    prober = make_prober(target)
    report = await prober.run_once()
    assert [r.result for r in report.legs] == ["pass"] * 5, report.legs
    assert not report.failed
    assert sum(outcome_count(prober.metrics, leg, "pass") for leg in LEG_NAMES) == 5


async def test_every_run_adds_exactly_one_outcome_per_leg() -> None:
    prober = make_prober(FakeTarget())
    for _ in range(3):
        await prober.run_once()
    for leg in LEG_NAMES:
        assert outcome_count(prober.metrics, leg, "pass") == 3


async def test_the_run_mints_one_account_for_the_reachability_legs_and_reaps_it_last() -> None:
    target = FakeTarget()
    await make_prober(target).run_once()
    assert target.calls[0] == "POST /v1/accounts"
    assert target.calls[-2:] == ["DELETE /v1/accounts/acct_unit1", "GET /v1/accounts/acct_unit1"]
    assert target.calls.count("POST /v1/accounts") == 2  # the run's account and the upgrade leg's
    assert target.tiers == {}  # both reaped


async def test_a_configured_probe_account_is_used_and_never_deleted() -> None:
    target = FakeTarget()
    target.tiers["acct_standing"] = "free"
    secrets = ProbeSecrets(
        webhook_secret="whsec_unit_probe_secret_3f9a", account_id="acct_standing"
    )
    report = await make_prober(target, secrets=secrets).run_once()
    assert report.by_leg()["billing_state"].result == "pass"
    assert "DELETE /v1/accounts/acct_standing" not in target.calls
    assert "acct_standing" in target.tiers
    billing = [r for r in target.requests if r.url.path == "/v1/billing"]
    assert billing[0].url.params["account_id"] == "acct_standing"


async def test_a_mint_that_finds_the_target_down_fails_the_reachability_legs() -> None:
    target = FakeTarget()
    target.on("POST /v1/accounts", error(503, "database_unavailable"))
    report = await make_prober(target).run_once()
    results = report.by_leg()
    for leg in ("checkout_reachable", "billing_state", "invoices_reachable"):
        assert results[leg].result == "fail"
        assert "no probe account" in results[leg].reason
    # the upgrade leg's own mint answering 5xx is the same outage, not set-up drift
    assert results["upgrade_webhook_e2e"].result == "fail"
    assert results["upgrade_webhook_e2e"].reason == "cohort mint: 503 database_unavailable (5xx)"


async def test_a_mint_refused_with_a_4xx_makes_the_reachability_legs_degraded() -> None:
    target = FakeTarget()
    target.on("POST /v1/accounts", error(422, "validation_error"))
    report = await make_prober(target).run_once()
    assert report.by_leg()["checkout_reachable"].result == "degraded"
    assert "422 validation_error" in report.by_leg()["checkout_reachable"].reason


async def test_a_transport_that_raises_yields_fail_and_the_run_completes() -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("the transport blew up")

    prober = make_prober(FakeTarget(), transport=httpx.MockTransport(explode))
    report = await prober.run_once()
    assert len(report.legs) == 5
    assert report.failed
    assert report.by_leg()["checkout_reachable"].result == "fail"
    assert "RuntimeError" in report.by_leg()["checkout_reachable"].reason
    assert report.by_leg()["webhook_security"].result == "fail"
    assert report.by_leg()["webhook_security"].reason.startswith("panic: RuntimeError")
    assert prober.metrics.registry.get_sample_value("payment_probe_last_run_timestamp_seconds")


async def test_a_refused_connection_fails_reachability_without_a_latency_observation() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    prober = make_prober(FakeTarget(), transport=httpx.MockTransport(refuse))
    report = await prober.run_once()
    assert [r.result for r in report.legs][:4] == ["fail", "fail", "fail", "fail"]
    assert "ConnectError" in report.by_leg()["webhook_security"].reason
    for leg in LEG_NAMES:
        count = prober.metrics.registry.get_sample_value(
            "payment_probe_latency_seconds_count", {"leg": leg}
        )
        assert count is None


async def test_a_crash_inside_a_leg_fails_that_leg_only() -> None:
    async def crash(ctx: LegContext) -> LegOutcome:
        raise KeyError("boom")

    legs = (Leg(name="checkout_reachable", run=crash), *DEFAULT_LEGS[1:])
    report = await make_prober(FakeTarget(), legs=legs).run_once()
    assert report.by_leg()["checkout_reachable"].result == "fail"
    assert report.by_leg()["checkout_reachable"].reason == "panic: KeyError: 'boom'"
    assert [r.result for r in report.legs[1:]] == ["pass"] * 4


async def test_a_leg_over_its_budget_is_degraded() -> None:
    clock = FakeClock()
    target = FakeTarget(clock=clock)

    def slow_checkout(request: httpx.Request) -> httpx.Response:
        clock.advance(5.5)  # checkout's budget is 5 s
        return httpx.Response(201, json={"id": "sub_ph_1"})

    target.on("POST /v1/billing/checkout", slow_checkout)
    prober = make_prober(target)
    report = await prober.run_once()
    checkout = report.by_leg()["checkout_reachable"]
    assert checkout.result == "degraded"
    assert checkout.reason.startswith("over budget: 5.500s > 5s")
    assert checkout.latency_ms == 5500
    assert (
        prober.metrics.registry.get_sample_value(
            "payment_probe_latency_seconds_sum", {"leg": "checkout_reachable"}
        )
        == 5.5
    )


async def test_a_zero_budget_degrades_every_leg_that_takes_any_time() -> None:
    clock = FakeClock()
    target = FakeTarget(clock=clock)

    async def tick(request: httpx.Request) -> httpx.Response:
        clock.advance(0.01)
        return target._reference(request)

    target.on("", tick)
    zero = dict.fromkeys(LEG_NAMES[:4], 0.0)
    report = await make_prober(target, budgets=zero).run_once()
    assert [r.result for r in report.legs[:4]] == ["degraded"] * 4
    assert report.by_leg()["upgrade_webhook_e2e"].result == "pass"


async def test_a_failed_leg_is_not_turned_into_degraded_by_its_budget() -> None:
    clock = FakeClock()
    target = FakeTarget(clock=clock)

    def slow_500(request: httpx.Request) -> httpx.Response:
        clock.advance(60)
        return error(500, "internal_error")

    target.on("POST /v1/billing/checkout", slow_500)
    report = await make_prober(target).run_once()
    assert report.by_leg()["checkout_reachable"].result == "fail"


async def test_a_leg_that_never_answers_fails_at_twice_its_budget() -> None:
    target = FakeTarget()

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    target.on("GET /v1/billing/invoices", hang)
    # a 5 ms budget gives a 10 ms timeout: the run does not wait for real time worth mentioning
    report = await make_prober(target, budgets={"invoices_reachable": 0.005}).run_once()
    invoices = report.by_leg()["invoices_reachable"]
    assert invoices.result == "fail"
    assert invoices.reason.startswith("timeout: no verdict within 0.01s")
    assert not invoices.observed
    assert report.by_leg()["webhook_security"].result == "pass"  # the run went on


async def test_a_target_that_deletes_a_standing_non_cohort_account_has_no_reap_guard() -> None:
    target = FakeTarget()
    target.tiers["acct_real_customer"] = "pro"  # the double's DELETE has no cohort guard
    secrets = ProbeSecrets(webhook_secret=SECRET, guard_account_id="acct_real_customer")
    prober = make_prober(target, secrets=secrets)
    report = await prober.run_once()
    assert report.reap_failures == (
        "account acct_real_customer: reap guard missing: "
        "DELETE of a non-cohort account answered 204",
    )
    assert report.failed
    assert prober.metrics.registry.get_sample_value("payment_probe_cohort_leaked") == 1


async def test_a_target_that_refuses_to_delete_the_standing_account_keeps_the_run_clean() -> None:
    target = FakeTarget()
    target.on("DELETE /v1/accounts/acct_real_customer", error(409, "not_test_cohort"))
    secrets = ProbeSecrets(webhook_secret=SECRET, guard_account_id="acct_real_customer")
    report = await make_prober(target, secrets=secrets).run_once()
    assert report.reap_failures == () and not report.failed
    assert "DELETE /v1/accounts/acct_real_customer" in target.calls
