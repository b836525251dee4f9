"""The prober's metrics: its own registry, one outcome per leg per run, lazy series, latency rules."""

from __future__ import annotations

import httpx
from probe_doubles import FakeClock, FakeTarget, error, make_prober, outcome_count
from prometheus_client import REGISTRY, generate_latest

from harness.prober import LEG_NAMES, METRIC_NAMES, ProbeMetrics, ProbeSecrets


def exposition(metrics: ProbeMetrics) -> str:
    return generate_latest(metrics.registry).decode()


def outcome_samples(metrics: ProbeMetrics) -> list[str]:
    return [
        line
        for line in exposition(metrics).splitlines()
        if line.startswith("payment_probe_outcome_total{")
    ]


async def test_one_run_exposes_five_outcome_samples() -> None:
    prober = make_prober(FakeTarget())
    await prober.run_once()
    samples = outcome_samples(prober.metrics)
    assert len(samples) == 5
    assert all(line.endswith(" 1.0") for line in samples)


async def test_nothing_is_exposed_before_the_first_run() -> None:
    metrics = ProbeMetrics()
    text = exposition(metrics)
    for name in METRIC_NAMES:
        assert f"\n{name}" not in f"\n{text}" and f"{name}{{" not in text
    assert metrics.registry.get_sample_value("payment_probe_last_run_timestamp_seconds") is None


async def test_the_last_run_timestamp_is_the_clock_at_completion() -> None:
    clock = FakeClock(1_760_000_000.0)
    prober = make_prober(FakeTarget(clock=clock))
    await prober.run_once()
    value = prober.metrics.registry.get_sample_value("payment_probe_last_run_timestamp_seconds")
    assert value == 1_760_000_000.0


async def test_probe_success_is_one_only_for_a_working_leg_and_the_result_gauge_names_the_kind() -> (
    None
):
    target = FakeTarget()
    target.on("POST /v1/billing/checkout", error(503, "payments_not_live"))
    target.on("POST /v1/payments/webhook/stripe", error(503, "payments_not_live"))
    target.on("GET /v1/billing/invoices", error(500, "internal_error"))
    prober = make_prober(target)
    await prober.run_once()
    value = prober.metrics.registry.get_sample_value
    # dormant is not "working": 0 on the dashboard, but the alerts read payment_probe_result
    assert value("probe_success", {"leg": "checkout_reachable"}) == 0
    assert value("probe_success", {"leg": "invoices_reachable"}) == 0
    assert value("probe_success", {"leg": "billing_state"}) == 1
    assert value("payment_probe_result", {"leg": "checkout_reachable", "result": "dormant"}) == 1
    assert value("payment_probe_result", {"leg": "checkout_reachable", "result": "fail"}) == 0
    assert value("payment_probe_result", {"leg": "invoices_reachable", "result": "fail"}) == 1
    assert value("payment_probe_service", {"state": "dormant"}) == 1
    assert value("payment_probe_service", {"state": "live"}) == 0
    assert value("payment_probe_cohort_leaked") == 0
    assert outcome_count(prober.metrics, "checkout_reachable", "dormant") == 1
    assert outcome_count(prober.metrics, "invoices_reachable", "fail") == 1


async def test_a_forged_webhook_let_in_counts_as_security_not_as_a_plain_failure() -> None:
    target = FakeTarget()
    target.on("POST /v1/payments/webhook/stripe", httpx.Response(200, json={"status": "ignored"}))
    prober = make_prober(target)
    await prober.run_once()
    assert outcome_count(prober.metrics, "webhook_security", "security") == 1
    assert outcome_count(prober.metrics, "webhook_security", "fail") == 0


async def test_probe_success_returns_to_one_when_the_leg_recovers() -> None:
    target = FakeTarget()
    target.on("POST /v1/billing/checkout", error(500, "internal_error"))
    prober = make_prober(target)
    await prober.run_once()
    target.overrides.clear()
    await prober.run_once()
    assert (
        prober.metrics.registry.get_sample_value("probe_success", {"leg": "checkout_reachable"})
        == 1
    )


async def test_latency_is_observed_for_answered_legs_and_not_for_skipped_ones() -> None:
    prober = make_prober(FakeTarget(), secrets=ProbeSecrets())  # no webhook secret: upgrade not run
    await prober.run_once()
    count = prober.metrics.registry.get_sample_value
    for leg in LEG_NAMES[:4]:
        assert count("payment_probe_latency_seconds_count", {"leg": leg}) == 1
    assert count("payment_probe_latency_seconds_count", {"leg": "upgrade_webhook_e2e"}) is None
    assert outcome_count(prober.metrics, "upgrade_webhook_e2e", "misconfigured") == 1


async def test_two_probers_in_one_process_do_not_share_a_series() -> None:
    healthy = make_prober(FakeTarget())
    broken_target = FakeTarget()
    broken_target.on("POST /v1/billing/checkout", httpx.Response(500))
    broken = make_prober(broken_target)
    await healthy.run_once()
    await broken.run_once()
    await broken.run_once()
    assert outcome_count(healthy.metrics, "checkout_reachable", "pass") == 1
    assert outcome_count(healthy.metrics, "checkout_reachable", "fail") == 0
    assert outcome_count(broken.metrics, "checkout_reachable", "fail") == 2
    assert (
        REGISTRY.get_sample_value(
            "payment_probe_outcome_total", {"leg": "checkout_reachable", "result": "pass"}
        )
        is None
    )
