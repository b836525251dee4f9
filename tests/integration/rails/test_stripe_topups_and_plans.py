"""Stripe end to end through the fake: cash-balance top-ups and subscription checkouts."""

from __future__ import annotations

import httpx
from rails_support import Stack


def _stripe_post(stack: Stack, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    key = stack.fakes["stripe"].config.api_keys[0]
    return httpx.post(f"{stack.fake_urls['stripe']}{path}", data=data or {}, auth=(key, ""))


def test_stripe_cash_balance_funding_credits_the_wallet_once(stack: Stack) -> None:
    account = stack.new_account()
    r = stack.client.post(
        "/v1/payments/topup/stripe",
        json={"account_id": account, "amount_micros": 5_000_000},
        headers={"Idempotency-Key": "stripe-key-1"},
    )
    assert r.status_code == 201, r.text
    topup = r.json()
    customer = topup["details"]["customer"]
    again = stack.client.post(
        "/v1/payments/topup/stripe",
        json={"account_id": account, "amount_micros": 5_000_000},
        headers={"Idempotency-Key": "stripe-key-1"},
    )
    assert again.status_code == 200 and again.json()["id"] == topup["id"]
    customers = stack.fakes["stripe"].journal.calls(method="POST", path_prefix="/v1/customers")
    assert len([c for c in customers if c.path == "/v1/customers"]) == 1

    funded = _stripe_post(
        stack,
        f"/v1/test_helpers/customers/{customer}/fund_cash_balance",
        {"amount": "500", "currency": "usd", "reference": topup["id"]},
    )
    assert funded.status_code == 200, funded.text
    stack.drain("stripe")
    acct = stack.account(account)
    assert acct["balance_micros"] == 5_000_000
    assert acct["lifetime_paid_micros"] == 5_000_000
    assert [e["kind"] for e in stack.ledger(account)] == ["credit"]


def test_stripe_funding_in_another_currency_is_recorded_but_not_credited(stack: Stack) -> None:
    account = stack.new_account()
    topup = stack.client.post(
        "/v1/payments/topup/stripe", json={"account_id": account, "amount_micros": 1_000_000}
    ).json()
    customer = topup["details"]["customer"]
    funded = _stripe_post(
        stack,
        f"/v1/test_helpers/customers/{customer}/fund_cash_balance",
        {"amount": "100", "currency": "eur", "reference": topup["id"]},
    )
    assert funded.status_code == 200, funded.text
    stack.drain("stripe")
    acct = stack.account(account)
    assert acct["balance_micros"] == 0 and acct["lifetime_paid_micros"] == 0


def test_stripe_subscription_checkout_flips_the_tier_only_when_the_invoice_is_paid(
    stack: Stack,
) -> None:
    account = stack.new_account(is_test_cohort=True)
    r = stack.client.post(
        "/v1/billing/checkout", json={"account_id": account, "plan": "pro", "rail": "stripe"}
    )
    assert r.status_code == 201, r.text
    session_id = r.json()["checkout_ref"]
    assert (
        stack.client.get("/v1/billing", params={"account_id": account}).json()["plan_tier"]
        == "free"
    )

    done = httpx.post(f"{stack.fake_urls['stripe']}/_fake/checkout/sessions/{session_id}/complete")
    assert done.status_code == 200, done.text
    stack.drain("stripe")
    billing = stack.client.get("/v1/billing", params={"account_id": account}).json()
    assert billing["plan_tier"] == "pro" and billing["subscription_status"] == "active"

    sub = billing["subscriptions"][0]["processor_subscription_id"]
    key = stack.fakes["stripe"].config.api_keys[0]
    canceled = httpx.delete(f"{stack.fake_urls['stripe']}/v1/subscriptions/{sub}", auth=(key, ""))
    assert canceled.status_code == 200, canceled.text
    stack.drain("stripe")
    assert (
        stack.client.get("/v1/billing", params={"account_id": account}).json()["plan_tier"]
        == "free"
    )
    assert stack.client.delete(f"/v1/accounts/{account}").status_code == 204


def test_stripe_reconcile_finds_no_mismatch_after_a_credited_funding(stack: Stack) -> None:
    account = stack.new_account()
    topup = stack.client.post(
        "/v1/payments/topup/stripe", json={"account_id": account, "amount_micros": 2_000_000}
    ).json()
    _stripe_post(
        stack,
        f"/v1/test_helpers/customers/{topup['details']['customer']}/fund_cash_balance",
        {"amount": "200", "currency": "usd", "reference": topup["id"]},
    )
    stack.drain("stripe")
    r = stack.client.post(
        "/admin/reconcile/stripe",
        params={"dry_run": "true"},
        headers={"X-Admin-Secret": "admin-secret-for-rail-tests"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok" and r.json()["checked"] == 1
