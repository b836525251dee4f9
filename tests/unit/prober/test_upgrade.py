"""`upgrade_webhook_e2e`: configuration checks, the signed event, the tier as truth, the reap that always runs."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from probe_doubles import SECRET, START, TOKEN, FakeClock, FakeTarget, error, make_prober

from fakes.signing import RazorpaySigner, StripeSigner
from harness.prober import ProbeSecrets
from harness.prober.results import LegResult


def upgrade_calls(target: FakeTarget) -> list[str]:
    """The upgrade leg's requests: everything after the unsigned security webhook, run reap excluded."""
    calls = target.calls
    start = calls.index("POST /v1/payments/webhook/stripe") + 1
    return calls[start:-1]


async def run_upgrade(target: FakeTarget, **kwargs: object) -> LegResult:
    report = await make_prober(target, **kwargs).run_once()  # type: ignore[arg-type]
    return report.by_leg()["upgrade_webhook_e2e"]


async def test_the_tier_advancing_passes_after_mint_webhook_read_and_reap() -> None:
    target = FakeTarget()
    leg = await run_upgrade(target)
    assert leg.result == "pass"
    assert leg.reason == "signed stripe event accepted; tier advanced to pro"
    assert upgrade_calls(target) == [
        "POST /v1/accounts",
        "POST /v1/payments/webhook/stripe",
        "GET /v1/billing",
        "DELETE /v1/accounts/acct_unit2",
    ]
    assert leg.details == {"cohort_account_id": "acct_unit2", "reaped": "yes"}


async def test_the_event_is_signed_over_the_exact_bytes_sent() -> None:
    target = FakeTarget()
    await run_upgrade(target)
    delivery = [r for r in target.requests if r.url.path == "/v1/payments/webhook/stripe"][1]
    timestamp = StripeSigner(SECRET, now=lambda: START).verify(delivery.content, delivery.headers)
    assert timestamp == int(START)
    event = json.loads(delivery.content)
    assert event["type"] == "invoice.paid"
    assert event["created"] == int(START)
    assert event["id"].startswith("evt_payprobe_") and len(event["id"]) == len("evt_payprobe_") + 32
    details = event["data"]["object"]["parent"]["subscription_details"]
    assert details["metadata"] == {"account_id": "acct_unit2", "plan": "pro"}
    assert details["subscription"].startswith("sub_payprobe_")
    assert len(details["subscription"]) == len("sub_payprobe_") + 12


async def test_a_200_that_does_not_flip_the_tier_fails_and_still_reaps_before_recording(
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = FakeTarget()
    target.on(
        "POST /v1/payments/webhook/stripe",
        lambda r: (
            httpx.Response(200, json={"status": "ignored"})
            if "stripe-signature" in r.headers
            else error(400, "missing_signature_header")
        ),
    )
    caplog.set_level(logging.DEBUG, logger="payharness.prober")
    leg = await run_upgrade(target)
    assert leg.result == "fail"
    assert "tier did NOT advance" in leg.reason
    assert "plan_tier='free', want 'pro'" in leg.reason
    assert upgrade_calls(target)[-1] == "DELETE /v1/accounts/acct_unit2"
    assert leg.details["reaped"] == "yes"
    failed = [r for r in caplog.records if r.getMessage().startswith("payment_probe_failed")]
    assert len(failed) == 1 and "upgrade_webhook_e2e" in failed[0].getMessage()


async def test_a_failing_webhook_fails_without_reading_the_tier_and_still_reaps() -> None:
    target = FakeTarget()
    calls = {"n": 0}

    def second_fails(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return error(400, "missing_signature_header")
        return error(500, "internal_error")

    target.on("POST /v1/payments/webhook/stripe", second_fails)
    leg = await run_upgrade(target)
    assert leg.result == "fail"
    assert leg.reason == "signed webhook got 500 internal_error; want 200"
    assert upgrade_calls(target) == [
        "POST /v1/accounts",
        "POST /v1/payments/webhook/stripe",
        "DELETE /v1/accounts/acct_unit2",
    ]


async def test_a_webhook_that_never_answers_times_out_and_the_cohort_is_still_reaped() -> None:
    target = FakeTarget()

    async def hang_signed(request: httpx.Request) -> httpx.Response:
        if "stripe-signature" not in request.headers:
            return error(400, "missing_signature_header")
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    target.on("POST /v1/payments/webhook/stripe", hang_signed)
    leg = await run_upgrade(target, budgets={"upgrade_webhook_e2e": 0.01})
    assert leg.result == "fail"
    assert leg.reason.startswith("timeout:")
    assert "DELETE /v1/accounts/acct_unit2" in target.calls
    assert "acct_unit2" in target.deleted


async def test_a_failed_reap_is_logged_and_leaves_the_verdict_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = FakeTarget()
    target.on("DELETE /v1/accounts/acct_unit2", error(409, "not_test_cohort"))
    leg = await run_upgrade(target)
    assert leg.result == "pass"
    assert leg.details["reaped"] == "no"
    assert any(
        "payment_probe_cohort_reap_failed" in r.getMessage() and "acct_unit2" in r.getMessage()
        for r in caplog.records
    )


async def test_a_refused_mint_is_degraded_and_sends_no_webhook() -> None:
    target = FakeTarget()
    minted = {"n": 0}

    def second_mint_refused(request: httpx.Request) -> httpx.Response:
        minted["n"] += 1
        if minted["n"] == 1:
            return target._reference(request)
        return error(500, "database_unavailable")

    target.on("POST /v1/accounts", second_mint_refused)
    leg = await run_upgrade(target)
    assert leg.result == "degraded"
    assert leg.reason.startswith("cohort mint failed: 500 database_unavailable")
    assert target.calls.count("POST /v1/payments/webhook/stripe") == 1  # the unsigned one only


@pytest.mark.parametrize(
    ("profile", "secrets", "reason"),
    [
        ("reference", ProbeSecrets(), "STRIPE_WEBHOOK_SECRET unset"),
        (
            "razorpay-subscriptions",
            ProbeSecrets(token=TOKEN, plan_id="plan_test"),
            "RAZORPAY_TEST_WEBHOOK_SECRET / E2E_RAZORPAY_WEBHOOK_SECRET unset",
        ),
        (
            "razorpay-subscriptions",
            ProbeSecrets(token=TOKEN, webhook_secret=SECRET),
            "PAYMENT_PROBE_TEST_PLAN_ID_PRO unset",
        ),
        (
            "razorpay-subscriptions",
            ProbeSecrets(webhook_secret=SECRET, plan_id="plan_test"),
            "PAYMENT_PROBE_TOKEN unset",
        ),
    ],
)
async def test_missing_configuration_is_degraded_with_nothing_sent(
    profile: str, secrets: ProbeSecrets, reason: str
) -> None:
    target = FakeTarget()
    prober = make_prober(target, profile=profile, secrets=secrets)
    report = await prober.run_once()
    leg = report.by_leg()["upgrade_webhook_e2e"]
    assert leg.result == "degraded"
    assert leg.reason == f"{reason}: upgrade leg skipped, nothing sent"
    assert not leg.observed
    webhook_posts = [c for c in target.calls if "webhook" in c]
    assert len(webhook_posts) == 1  # only webhook_security's unsigned post
    assert not any("test-cohort" in c for c in target.calls)


async def test_the_razorpay_event_is_signed_as_razorpay_does_with_an_event_id_header() -> None:
    target = FakeTarget(clock=FakeClock())
    tiers: dict[str, str] = {}

    def cohort(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            tiers["team_1"] = "free"
            return httpx.Response(201, json={"id": "team_1"})
        if request.method == "GET":
            return httpx.Response(200, json={"id": "team_1", "plan_tier": tiers.get("team_1")})
        return httpx.Response(204)

    def webhook(request: httpx.Request) -> httpx.Response:
        if "x-razorpay-signature" not in request.headers:
            return httpx.Response(400, json={"ok": False, "error": "invalid_signature"})
        RazorpaySigner(SECRET).verify(request.content, request.headers)
        event = json.loads(request.content)
        assert event["payload"]["subscription"]["entity"]["plan_id"] == "plan_test_pro"
        tiers[event["payload"]["subscription"]["entity"]["notes"]["team_id"]] = "pro"
        return httpx.Response(200, json={"ok": True})

    target.on("POST /api/v1/test-cohort/teams", cohort)
    target.on("GET /api/v1/test-cohort/teams", cohort)
    target.on("DELETE /api/v1/test-cohort/teams", cohort)
    target.on("POST /razorpay/webhook", webhook)
    target.on("", httpx.Response(200, json={"ok": True}))
    secrets = ProbeSecrets(token=TOKEN, webhook_secret=SECRET, plan_id="plan_test_pro")
    report = await make_prober(target, profile="razorpay-subscriptions", secrets=secrets).run_once()
    assert [r.result for r in report.legs] == ["pass"] * 5, report.legs
    signed = next(r for r in target.requests if "x-razorpay-signature" in r.headers)
    event = json.loads(signed.content)
    assert signed.headers["x-razorpay-event-id"] == event["id"]
    assert event["event"] == "subscription.charged"
    assert event["payload"]["payment"]["entity"]["amount"] == 410000
