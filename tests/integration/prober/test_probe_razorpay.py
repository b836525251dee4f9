"""The `razorpay-subscriptions` profile against a small double of the PRIOR_ART.md §3 API shape."""

from __future__ import annotations

import io
from pathlib import Path

from probe_servers import RAZORPAY_SECRET, RAZORPAY_TOKEN, TEST_PLAN_ID, razorpay_double

from fakes._common.server import LoopbackServer
from harness.prober import (
    LEG_NAMES,
    ProbeConfig,
    Prober,
    load_profile,
    probe_command,
    secrets_from_env,
)

ENV = {
    "PAYMENT_PROBE_TOKEN": RAZORPAY_TOKEN,
    "RAZORPAY_TEST_WEBHOOK_SECRET": RAZORPAY_SECRET,
    "PAYMENT_PROBE_TEST_PLAN_ID_PRO": TEST_PLAN_ID,
}


def prober_for(base_url: str, env: dict[str, str]) -> Prober:
    profile = load_profile("razorpay-subscriptions")
    return Prober(
        ProbeConfig(target=base_url, profile=profile, secrets=secrets_from_env(profile, env))
    )


async def test_every_leg_passes_against_the_razorpay_shaped_api() -> None:
    app = razorpay_double()
    with LoopbackServer(app) as server:
        report = await prober_for(server.base_url, ENV).run_once()
    assert {r.leg: r.result for r in report.legs} == dict.fromkeys(LEG_NAMES, "pass"), report.legs
    assert report.by_leg()["webhook_security"].reason == (
        "4 forgeries refused (no signature header, empty signature header, wrong secret, "
        "valid signature over another body)"
    )
    assert report.by_leg()["upgrade_webhook_e2e"].reason == (
        "signed razorpay event accepted; tier advanced to pro"
    )
    assert app.state.teams == {}  # the cohort team was reaped


async def test_a_razorpay_api_that_skips_verification_fails_with_a_security_reason() -> None:
    with LoopbackServer(razorpay_double(verify=False)) as server:
        report = await prober_for(server.base_url, ENV).run_once()
    security = report.by_leg()["webhook_security"]
    assert security.result == "fail"
    assert security.reason.startswith(
        "SECURITY: forged webhook ACCEPTED: no signature header (200)"
    )


async def test_an_unknown_test_plan_that_the_api_ignores_reads_as_a_tier_that_did_not_advance() -> (
    None
):
    # This double answers 200 to an unknown plan id (it does not send the profile's 422 unknown_plan),
    # so the prober can only see a tier that did not move; api_double.py covers the 422.
    app = razorpay_double()
    with LoopbackServer(app) as server:
        env = {**ENV, "PAYMENT_PROBE_TEST_PLAN_ID_PRO": "plan_that_maps_to_nothing"}
        report = await prober_for(server.base_url, env).run_once()
    upgrade = report.by_leg()["upgrade_webhook_e2e"]
    assert upgrade.result == "fail"
    assert "tier did NOT advance" in upgrade.reason
    assert app.state.teams == {}


def test_payharness_probe_once_with_the_razorpay_profile_exits_zero(tmp_path: Path) -> None:
    with LoopbackServer(razorpay_double()) as server:
        out, err = io.StringIO(), io.StringIO()
        code = probe_command(
            target=server.base_url,
            profile="razorpay-subscriptions",
            once=True,
            env=ENV,
            audit_path=tmp_path / "audit.jsonl",
            out=out,
            err=err,
        )
    assert code == 0, out.getvalue() + err.getvalue()
    assert "(profile razorpay-subscriptions)" in out.getvalue()
    assert "5 legs: 5 pass, 0 degraded, 0 fail, 0 misconfigured; service live" in out.getvalue()
    for secret in (RAZORPAY_SECRET, RAZORPAY_TOKEN):
        assert secret not in out.getvalue() + (tmp_path / "audit.jsonl").read_text()
