"""The verdict rules of the reachability legs and of `webhook_security` (PRIOR_ART.md §3)."""

from __future__ import annotations

import httpx
import pytest
from probe_doubles import SECRET, TOKEN, FakeTarget, error, make_prober

from harness.prober import ProbeSecrets
from harness.prober.runner import DEFAULT_LEGS
from harness.prober.security import FORGERIES


@pytest.mark.parametrize(
    ("answer", "result"),
    [
        (error(500, "internal_error"), "fail"),
        (error(502, "processor_error"), "fail"),
        (error(503, "rail_not_configured"), "fail"),
        (httpx.Response(402, json={"error": "billing_not_configured"}), "pass"),
        (error(404, "unknown_plan"), "pass"),
        (error(409, "conflict"), "pass"),
        (httpx.Response(302, headers={"Location": "https://elsewhere.test/"}), "pass"),
        (httpx.Response(201, json={"id": "sub_ph_1"}), "pass"),
    ],
)
async def test_checkout_fails_only_on_a_5xx(answer: httpx.Response, result: str) -> None:
    target = FakeTarget()
    target.on("POST /v1/billing/checkout", answer)
    report = await make_prober(target).run_once()
    assert report.by_leg()["checkout_reachable"].result == result
    assert report.by_leg()["checkout_reachable"].http_status == answer.status_code


async def test_alive_but_blocked_checkout_passes_with_its_code_in_the_reason() -> None:
    target = FakeTarget()
    target.on(
        "POST /v1/billing/checkout", httpx.Response(402, json={"error": "billing_not_configured"})
    )
    report = await make_prober(target).run_once()
    assert report.by_leg()["checkout_reachable"].reason == "402 billing_not_configured (reachable)"


async def test_redirects_are_answers_not_something_to_follow() -> None:
    target = FakeTarget()
    target.on("POST /v1/billing/checkout", httpx.Response(307, headers={"Location": "/elsewhere"}))
    await make_prober(target).run_once()
    assert not any("/elsewhere" in call for call in target.calls)


async def test_a_wholly_dormant_service_is_degraded_not_failed() -> None:
    target = FakeTarget()
    target.on("POST /v1/billing/checkout", error(503, "payments_not_live"))
    target.on("POST /v1/payments/webhook/stripe", error(503, "payments_not_live"))
    report = await make_prober(target).run_once()
    assert report.service == "dormant"
    checkout = report.by_leg()["checkout_reachable"]
    assert checkout.result == "degraded" and checkout.outcome == "dormant"
    assert checkout.reason.startswith("dormant: 503 payments_not_live")
    security = report.by_leg()["webhook_security"]
    assert security.outcome == "dormant"
    assert "the signature check was not reached" in security.reason
    assert not report.failed


async def test_a_dormant_checkout_while_the_webhook_credits_money_is_half_switched_off() -> None:
    target = FakeTarget()
    target.on("POST /v1/billing/checkout", error(503, "payments_not_live"))
    report = await make_prober(target).run_once()
    assert report.service == "half_switched_off"
    checkout = report.by_leg()["checkout_reachable"]
    assert checkout.result == "fail"
    assert checkout.reason.startswith("half switched off: upgrade_webhook_e2e answered 200")


async def test_billing_503_and_invoices_500_fail() -> None:
    target = FakeTarget()
    target.on("GET /v1/billing/invoices", error(500, "internal_error"))
    target.on("GET /v1/billing", error(503, "database_unavailable"))
    report = await make_prober(target).run_once()
    assert report.by_leg()["billing_state"].result == "fail"
    assert report.by_leg()["invoices_reachable"].result == "fail"
    assert report.by_leg()["invoices_reachable"].reason.startswith("500 internal_error")


async def test_unsigned_webhook_accepted_fails_with_a_security_reason() -> None:
    target = FakeTarget()
    target.on("POST /v1/payments/webhook/stripe", httpx.Response(200, json={"status": "ignored"}))
    report = await make_prober(target).run_once()
    security = report.by_leg()["webhook_security"]
    assert security.result == "fail"
    assert security.reason.startswith(
        "SECURITY: forged webhook ACCEPTED: no signature header (200)"
    )
    assert security.outcome == "security"
    assert security.http_status == 200


@pytest.mark.parametrize(
    "accepted",
    [
        "empty signature header",
        "wrong secret",
        "valid signature over another body",
        "stale timestamp",
    ],
)
async def test_each_forgery_that_gets_in_is_named_in_a_security_failure(accepted: str) -> None:
    target = FakeTarget()
    sent: list[httpx.Request] = []

    def webhook(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if len(sent) == FORGERIES.index(accepted) + 1:
            return httpx.Response(200, json={"status": "ignored"})
        return error(400, "missing_signature_header")

    target.on("POST /v1/payments/webhook/stripe", webhook)
    report = await make_prober(target, legs=(DEFAULT_LEGS[3],)).run_once()
    security = report.by_leg()["webhook_security"]
    assert security.result == "fail"
    assert security.reason.startswith(f"SECURITY: forged webhook ACCEPTED: {accepted} (200);")


async def test_unsigned_webhook_is_sent_without_any_signature_or_credential() -> None:
    target = FakeTarget()
    secrets = ProbeSecrets(webhook_secret=SECRET, token=TOKEN)
    await make_prober(target, secrets=secrets).run_once()
    first = next(r for r in target.requests if r.url.path == "/v1/payments/webhook/stripe")
    assert "stripe-signature" not in first.headers
    assert "authorization" not in first.headers
    assert first.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "answer",
    [
        error(400, "invalid_payload"),
        error(401, "missing_signature_header"),
        httpx.Response(400, text="bad request"),
        error(500, "internal_error"),
    ],
)
async def test_any_rejection_but_the_expected_one_fails_webhook_security(
    answer: httpx.Response,
) -> None:
    target = FakeTarget()
    target.on("POST /v1/payments/webhook/stripe", answer)
    report = await make_prober(target).run_once()
    security = report.by_leg()["webhook_security"]
    assert security.result == "fail"
    assert "unsigned payload got" in security.reason or "(5xx)" in security.reason
    if answer.status_code < 500:
        assert "want 400 missing_signature_header" in security.reason


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"code": "missing_signature_header", "message": "no header"}},
        {"ok": False, "error": "missing_signature_header", "message": "bad sig"},
    ],
)
async def test_the_expected_rejection_passes_in_either_error_shape(body: dict[str, object]) -> None:
    target = FakeTarget()
    target.on("POST /v1/payments/webhook/stripe", httpx.Response(400, json=body))
    report = await make_prober(target).run_once()
    assert report.by_leg()["webhook_security"].result == "pass"


async def test_webhook_security_runs_even_with_no_configuration_at_all() -> None:
    target = FakeTarget()
    report = await make_prober(target, secrets=ProbeSecrets()).run_once()
    security = report.by_leg()["webhook_security"]
    assert security.result == "pass"
    assert "3 forgeries refused" in security.reason
    assert (
        "not sent, STRIPE_WEBHOOK_SECRET unset: valid signature over another body"
        in security.reason
    )
    assert report.by_leg()["upgrade_webhook_e2e"].result == "misconfigured"


async def test_a_required_token_that_is_missing_skips_the_authed_legs_without_sending() -> None:
    target = FakeTarget()
    target.on("POST /razorpay/webhook", httpx.Response(400, json={"error": "invalid_signature"}))
    secrets = ProbeSecrets(webhook_secret=SECRET, plan_id="plan_test_pro")
    report = await make_prober(target, profile="razorpay-subscriptions", secrets=secrets).run_once()
    results = report.by_leg()
    for leg in ("checkout_reachable", "billing_state", "invoices_reachable", "upgrade_webhook_e2e"):
        assert results[leg].result == "misconfigured"
        assert "PAYMENT_PROBE_TOKEN unset: set it" in results[leg].reason
        assert not results[leg].observed
    assert results["webhook_security"].result == "pass"
    assert set(target.calls) == {"POST /razorpay/webhook"}
    assert report.misconfigured


async def test_the_token_travels_as_a_bearer_header_on_the_authed_legs() -> None:
    target = FakeTarget()
    secrets = ProbeSecrets(webhook_secret=SECRET, token=TOKEN)
    await make_prober(target, secrets=secrets).run_once()
    checkout = next(r for r in target.requests if r.url.path == "/v1/billing/checkout")
    assert checkout.headers["authorization"] == f"Bearer {TOKEN}"
    assert checkout.headers["user-agent"] == "payharness-payment-probe/1"


async def test_a_huge_error_body_is_read_only_up_to_its_first_4096_bytes() -> None:
    target = FakeTarget()
    target.on("POST /v1/billing/checkout", httpx.Response(500, text="x" * 1_000_000))
    report = await make_prober(target).run_once()
    reason = report.by_leg()["checkout_reachable"].reason
    assert reason.startswith("500 xxx")
    assert len(reason) < 300
