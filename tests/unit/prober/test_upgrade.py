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
from harness.prober.runner import DEFAULT_LEGS


def upgrade_calls(target: FakeTarget) -> list[str]:
    """The upgrade leg's requests: the run's own account (acct_unit1, minted first) left out."""
    return [c for c in target.calls[1:] if not c.endswith("acct_unit1")]


async def run_upgrade(target: FakeTarget, **kwargs: object) -> LegResult:
    kwargs.setdefault("legs", (DEFAULT_LEGS[4],))  # the upgrade leg alone
    report = await make_prober(target, **kwargs).run_once()  # type: ignore[arg-type]
    return report.by_leg()["upgrade_webhook_e2e"]


async def test_the_tier_advancing_passes_after_mint_webhook_read_and_reap() -> None:
    target = FakeTarget()
    leg = await run_upgrade(target)
    assert leg.result == "pass"
    assert leg.reason == "signed stripe event accepted; tier advanced to pro"
    assert upgrade_calls(target) == [
        "POST /v1/accounts",
        "GET /v1/billing",  # the tier before: to tell "did not advance" from "the wrong plan"
        "POST /v1/payments/webhook/stripe",
        "GET /v1/billing",
        "DELETE /v1/accounts/acct_unit2",
        "GET /v1/accounts/acct_unit2",  # the reap read back: it must be gone
    ]
    assert leg.details == {"cohort_account_id": "acct_unit2", "reaped": "yes"}


async def test_the_event_is_signed_over_the_exact_bytes_sent() -> None:
    target = FakeTarget()
    await run_upgrade(target)
    (delivery,) = [r for r in target.requests if r.url.path == "/v1/payments/webhook/stripe"]
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
    assert upgrade_calls(target)[-2] == "DELETE /v1/accounts/acct_unit2"
    assert leg.details["reaped"] == "yes"
    failed = [r for r in caplog.records if r.getMessage().startswith("payment_probe_failed")]
    assert len(failed) == 1 and "upgrade_webhook_e2e" in failed[0].getMessage()


async def test_a_failing_webhook_fails_without_reading_the_tier_and_still_reaps() -> None:
    target = FakeTarget()
    target.on("POST /v1/payments/webhook/stripe", error(500, "internal_error"))
    leg = await run_upgrade(target)
    assert leg.result == "fail"
    assert leg.reason == "signed webhook got 500 internal_error; want 200"
    assert upgrade_calls(target) == [
        "POST /v1/accounts",
        "GET /v1/billing",
        "POST /v1/payments/webhook/stripe",
        "DELETE /v1/accounts/acct_unit2",
        "GET /v1/accounts/acct_unit2",
    ]


async def test_a_tier_moved_to_another_plan_is_told_apart_from_one_that_did_not_move() -> None:
    target = FakeTarget()

    def wrong_plan(request: httpx.Request) -> httpx.Response:
        event = json.loads(request.content)
        account = event["data"]["object"]["parent"]["subscription_details"]["metadata"][
            "account_id"
        ]
        target.tiers[account] = "team"
        return httpx.Response(200, json={"status": "applied"})

    target.on("POST /v1/payments/webhook/stripe", wrong_plan)
    leg = await run_upgrade(target)
    assert leg.result == "fail"
    assert "advanced to the WRONG plan (from 'free')" in leg.reason
    assert "plan_tier='team', want 'pro'" in leg.reason


async def test_a_signed_event_refused_for_its_signature_is_misconfigured_naming_the_secret() -> (
    None
):
    target = FakeTarget(secret="whsec_the_targets_real_secret")
    leg = await run_upgrade(target)
    assert leg.result == "misconfigured"
    assert "set STRIPE_WEBHOOK_SECRET to the target's test webhook secret" in leg.reason


async def test_a_reap_that_answers_2xx_but_keeps_the_account_is_a_leak(
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = FakeTarget()
    target.on("DELETE /v1/accounts/acct_unit2", httpx.Response(204))
    prober = make_prober(target, legs=(DEFAULT_LEGS[4],))
    report = await prober.run_once()
    leg = report.by_leg()["upgrade_webhook_e2e"]
    assert leg.result == "pass" and leg.details["reaped"] == "no"
    assert report.failed  # a leak fails the one-shot run
    (leak,) = report.reap_failures
    assert leak.startswith("account acct_unit2: leaked: DELETE answered 204")
    assert prober.metrics.registry.get_sample_value("payment_probe_cohort_leaked") == 1
    assert any("payment_probe_cohort_reap_failed" in r.getMessage() for r in caplog.records)


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
    assert leg.result == "fail"  # a 5xx from the mint is the target failing, not set-up drift
    assert leg.reason == "cohort mint: 500 database_unavailable (5xx)"
    assert "POST /v1/payments/webhook/stripe" not in target.calls


async def test_a_mint_refused_with_a_4xx_is_set_up_drift() -> None:
    target = FakeTarget()
    minted = {"n": 0}

    def second_mint_refused(request: httpx.Request) -> httpx.Response:
        minted["n"] += 1
        if minted["n"] == 1:
            return target._reference(request)
        return error(422, "cohort_disabled")

    target.on("POST /v1/accounts", second_mint_refused)
    leg = await run_upgrade(target)
    assert leg.result == "degraded"
    assert leg.reason.startswith("cohort mint failed: 422 cohort_disabled (set-up drift")


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
async def test_missing_configuration_is_misconfigured_naming_the_variable_with_nothing_sent(
    profile: str, secrets: ProbeSecrets, reason: str
) -> None:
    target = FakeTarget()
    prober = make_prober(target, profile=profile, secrets=secrets, legs=(DEFAULT_LEGS[4],))
    report = await prober.run_once()
    leg = report.by_leg()["upgrade_webhook_e2e"]
    assert leg.result == "misconfigured"
    assert leg.reason.startswith(f"{reason}: set it to ")
    assert leg.reason.endswith("(upgrade leg skipped, nothing sent)")
    assert not leg.observed
    assert not any("webhook" in c or "test-cohort" in c for c in target.calls)


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
    target.on(
        "", httpx.Response(200, json={"ok": True, "short_url": "u", "tier": "t", "invoices": []})
    )
    secrets = ProbeSecrets(token=TOKEN, webhook_secret=SECRET, plan_id="plan_test_pro")
    legs = (DEFAULT_LEGS[4],)
    report = await make_prober(
        target, profile="razorpay-subscriptions", secrets=secrets, legs=legs
    ).run_once()
    assert [r.result for r in report.legs] == ["pass"], report.legs
    signed = next(r for r in target.requests if "x-razorpay-signature" in r.headers)
    event = json.loads(signed.content)
    assert signed.headers["x-razorpay-event-id"] == event["id"]
    assert event["event"] == "subscription.charged"
    assert event["payload"]["payment"]["entity"]["amount"] == 410000
