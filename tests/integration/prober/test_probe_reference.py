"""The prober against the reference payments service on loopback ports (with the fake Stripe)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
from probe_servers import (
    WEBHOOK_SECRET,
    StartReference,
    TierNeverFlipsStripe,
    UnsignedAcceptingStripe,
)
from prometheus_client import generate_latest

from harness.prober import LEG_NAMES, ProbeConfig, Prober, ProbeSecrets, load_profile, probe_command
from harness.prober.results import RunReport


def prober_for(base_url: str, *, secret: str | None = WEBHOOK_SECRET) -> Prober:
    config = ProbeConfig(
        target=base_url,
        profile=load_profile("reference"),
        secrets=ProbeSecrets(webhook_secret=secret),
    )
    return Prober(config)


def results(report: RunReport) -> dict[str, str]:
    return {r.leg: r.result for r in report.legs}


async def account_status(base_url: str, account_id: str) -> int:
    async with httpx.AsyncClient(base_url=base_url) as client:
        return (await client.get(f"/v1/accounts/{account_id}")).status_code


async def test_every_leg_passes_against_a_live_reference(start_reference: StartReference) -> None:
    reference = start_reference()
    prober = prober_for(reference.base_url)
    report = await prober.run_once()
    assert results(report) == dict.fromkeys(LEG_NAMES, "pass"), report.legs
    upgrade = report.by_leg()["upgrade_webhook_e2e"]
    assert upgrade.reason == "signed stripe event accepted; tier advanced to pro"
    assert upgrade.details["reaped"] == "yes"
    assert await account_status(reference.base_url, upgrade.details["cohort_account_id"]) == 404
    exposition = generate_latest(prober.metrics.registry).decode()
    outcomes = [
        line for line in exposition.splitlines() if line.startswith("payment_probe_outcome_total{")
    ]
    assert len(outcomes) == 5 and all('result="pass"' in line for line in outcomes)
    security = report.by_leg()["webhook_security"]
    assert security.reason.startswith("5 forgeries refused (no signature header, empty signature")
    assert "stale timestamp" in security.reason  # the real reference enforces Stripe's window
    assert report.service == "live" and report.reap_failures == ()


async def test_the_reference_refuses_to_reap_a_standing_account_outside_the_cohort(
    start_reference: StartReference,
) -> None:
    reference = start_reference()
    async with httpx.AsyncClient(base_url=reference.base_url) as client:
        answer = await client.post("/v1/accounts", json={"is_test_cohort": False})
    standing = answer.json()["id"]
    profile = load_profile("reference")
    config = ProbeConfig(
        target=reference.base_url,
        profile=profile,
        secrets=ProbeSecrets(webhook_secret=WEBHOOK_SECRET, guard_account_id=standing),
    )
    report = await Prober(config).run_once()
    assert report.reap_failures == ()
    assert not report.failed
    assert await account_status(reference.base_url, standing) == 200


async def test_the_dormant_reference_gives_the_alive_but_blocked_pattern(
    start_reference: StartReference,
) -> None:
    reference = start_reference(live=False)
    report = await prober_for(reference.base_url).run_once()
    assert results(report) == {
        "checkout_reachable": "degraded",
        "billing_state": "pass",
        "invoices_reachable": "pass",
        "webhook_security": "degraded",
        "upgrade_webhook_e2e": "degraded",
    }
    for leg in ("checkout_reachable", "webhook_security", "upgrade_webhook_e2e"):
        assert report.by_leg()[leg].reason.startswith("dormant: 503 payments_not_live")
        assert report.by_leg()[leg].http_status == 503
    assert not report.failed  # a deliberately dormant service never pages
    assert report.service == "dormant"
    assert "the signature check was not reached" in report.by_leg()["webhook_security"].reason
    upgrade = report.by_leg()["upgrade_webhook_e2e"]
    assert await account_status(reference.base_url, upgrade.details["cohort_account_id"]) == 404


async def test_a_reference_that_accepts_unsigned_webhooks_fails_webhook_security(
    start_reference: StartReference,
) -> None:
    reference = start_reference(adapter=UnsignedAcceptingStripe)
    report = await prober_for(reference.base_url).run_once()
    security = report.by_leg()["webhook_security"]
    assert security.result == "fail"
    assert security.reason.startswith(
        "SECURITY: forged webhook ACCEPTED: no signature header (200)"
    )
    assert security.outcome == "security"
    assert report.by_leg()["upgrade_webhook_e2e"].result == "pass"


async def test_a_webhook_that_answers_200_without_flipping_the_tier_fails_and_is_still_reaped(
    start_reference: StartReference,
) -> None:
    reference = start_reference(adapter=TierNeverFlipsStripe)
    report = await prober_for(reference.base_url).run_once()
    upgrade = report.by_leg()["upgrade_webhook_e2e"]
    assert upgrade.result == "fail"
    assert upgrade.reason == ("webhook 200 but tier did NOT advance: plan_tier='free', want 'pro'")
    assert upgrade.details["reaped"] == "yes"
    assert await account_status(reference.base_url, upgrade.details["cohort_account_id"]) == 404
    assert results(report)["webhook_security"] == "pass"


async def test_a_probe_signed_with_the_wrong_secret_is_misconfigured_naming_the_variable(
    start_reference: StartReference,
) -> None:
    reference = start_reference()
    report = await prober_for(reference.base_url, secret="whsec_not_the_targets").run_once()
    upgrade = report.by_leg()["upgrade_webhook_e2e"]
    assert upgrade.result == "misconfigured"
    assert upgrade.reason == (
        "the target refused our signature (400 webhook_signature_invalid): "
        "set STRIPE_WEBHOOK_SECRET to the target's test webhook secret"
    )
    assert await account_status(reference.base_url, upgrade.details["cohort_account_id"]) == 404


async def test_checkout_fails_when_the_reference_cannot_reach_stripe(
    start_reference: StartReference,
) -> None:
    # Nothing listens on port 9: the reference answers 502 processor_error, a 5xx, so the leg fails.
    reference = start_reference(stripe_base="http://127.0.0.1:9")
    report = await prober_for(reference.base_url).run_once()
    checkout = report.by_leg()["checkout_reachable"]
    assert checkout.result == "fail"
    assert checkout.reason.startswith("502 processor_error")
    assert results(report)["upgrade_webhook_e2e"] == "pass"  # the webhook path does not call Stripe


async def test_a_target_that_is_down_fails_and_the_run_completes() -> None:
    report = await prober_for("http://127.0.0.1:9").run_once()
    assert len(report.legs) == 5
    assert [r.result for r in report.legs] == ["fail"] * 5
    assert all(r.reason.startswith("target down: ") for r in report.legs), report.legs
    assert "ConnectError" in report.by_leg()["webhook_security"].reason


def test_payharness_probe_once_prints_five_passing_legs(
    start_reference: StartReference, tmp_path: Path
) -> None:
    reference = start_reference()
    out, err = io.StringIO(), io.StringIO()
    code = probe_command(
        target=reference.base_url,
        profile="reference",
        once=True,
        interval=None,
        metrics_port=0,
        pushgateway=None,
        audit_path=tmp_path / "audit.jsonl",
        env={"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET},
        out=out,
        err=err,
    )
    assert code == 0, out.getvalue() + err.getvalue()
    rows = out.getvalue().splitlines()
    assert [row.split()[1] for row in rows[2:7]] == ["pass"] * 5
    assert rows[7] == "5 legs: 5 pass, 0 degraded, 0 fail, 0 misconfigured; service live"
    trail = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [line["kind"] for line in trail] == ["payment_probe_run"]
    assert WEBHOOK_SECRET not in out.getvalue() + (tmp_path / "audit.jsonl").read_text()
