"""Secrets come from the environment only and never reach logs, metrics or the audit trail."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from probe_doubles import SECRET, TOKEN, FakeTarget, make_prober
from prometheus_client import generate_latest

from harness.prober import (
    AuditTrail,
    ProbeConfig,
    Prober,
    ProbeSecrets,
    load_profile,
    secrets_from_env,
)
from harness.prober.config import Redactor


def leaky_target() -> FakeTarget:
    """A target that echoes the credentials it gets into its error bodies, and crashes with them."""
    target = FakeTarget()

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            500, text=f"upstream said: auth={request.headers.get('authorization')} secret={SECRET}"
        )

    def crash(request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"driver failed with token {TOKEN} and secret {SECRET}")

    target.on("POST /v1/billing/checkout", echo)
    target.on("GET /v1/billing/invoices", crash)
    target.on(
        "POST /v1/payments/webhook/stripe",
        lambda r: httpx.Response(400, json={"error": {"code": f"bad_{SECRET}"}}),
    )
    return target


async def test_secrets_echoed_or_raised_by_the_target_are_redacted_everywhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    audit = tmp_path / "audit.jsonl"
    secrets = ProbeSecrets(token=TOKEN, webhook_secret=SECRET)
    prober = make_prober(leaky_target(), secrets=secrets, audit_path=audit)
    report = await prober.run_once()
    assert report.by_leg()["checkout_reachable"].result == "fail"
    assert "[redacted]" in report.by_leg()["checkout_reachable"].reason
    assert "[redacted]" in report.by_leg()["invoices_reachable"].reason
    written = audit.read_text(encoding="utf-8")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    exported = generate_latest(prober.metrics.registry).decode()
    reasons = "\n".join(r.reason for r in report.legs)
    for text in (written, logged, exported, reasons):
        assert TOKEN not in text
        assert SECRET not in text
    assert "[redacted]" in written


async def test_credentials_in_the_target_url_are_not_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    target = FakeTarget()
    audit = tmp_path / "audit.jsonl"
    config = ProbeConfig(
        target="https://probe:hunter2@staging.example.test/api",
        profile=load_profile("reference"),
        secrets=ProbeSecrets(),
    )
    prober = Prober(config, audit=AuditTrail(audit), transport=target.transport)
    report = await prober.run_once()
    assert report.target == "https://staging.example.test/api"
    assert "hunter2" not in audit.read_text(encoding="utf-8")
    assert "hunter2" not in "\n".join(r.getMessage() for r in caplog.records)
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # httpx did log URLs
    assert all(str(r.url).startswith("https://staging.example.test/api/") for r in target.requests)
    assert target.requests[0].headers["authorization"].startswith("Basic ")


def test_secret_values_never_show_in_a_repr() -> None:
    secrets = ProbeSecrets(token=TOKEN, webhook_secret=SECRET, plan_id="plan_x")
    assert TOKEN not in repr(secrets) and SECRET not in repr(secrets)
    assert "plan_x" in repr(secrets)
    assert TOKEN not in repr(Redactor((TOKEN,)))


def test_secrets_are_read_from_the_variables_the_profile_names() -> None:
    razorpay = load_profile("razorpay-subscriptions")
    env = {
        "E2E_RAZORPAY_WEBHOOK_SECRET": "fallback",
        "PAYMENT_PROBE_TOKEN": TOKEN,
        "PAYMENT_PROBE_TEST_PLAN_ID_PRO": "plan_test_pro",
    }
    secrets = secrets_from_env(razorpay, env)
    assert secrets.webhook_secret == "fallback"
    assert secrets.webhook_secret_env == "E2E_RAZORPAY_WEBHOOK_SECRET"
    assert secrets.token == TOKEN and secrets.plan_id == "plan_test_pro"
    preferred = secrets_from_env(razorpay, {**env, "RAZORPAY_TEST_WEBHOOK_SECRET": "first"})
    assert preferred.webhook_secret == "first"
    blank = secrets_from_env(load_profile("reference"), {"STRIPE_WEBHOOK_SECRET": "  "})
    assert blank.webhook_secret is None


def test_the_redactor_removes_overlapping_secrets_whole() -> None:
    redact = Redactor(("abc", "abcdef", ""))
    assert redact("x abcdef y abc z") == "x [redacted] y [redacted] z"
