"""Top-ups end to end through the fake processors: processor call, signed webhook, credited ledger."""

from __future__ import annotations

import httpx
from rails_support import PAY_TO, Stack

from fakes.cdp.payer import X402Payer


def _payer(stack: Stack) -> X402Payer:
    funded = stack.fakes["cdp"].config.funded_accounts[0]
    return X402Payer(private_key=funded.private_key)


def test_cdp_topup_settles_at_the_facilitator_and_credits_once(stack: Stack) -> None:
    account = stack.new_account()
    r = stack.client.post(
        "/v1/payments/topup/cdp", json={"account_id": account, "amount_micros": 2_500_000}
    )
    assert r.status_code == 201, r.text
    topup = r.json()
    requirements = topup["details"]["payment_requirements"]["accepts"][0]
    assert requirements["maxAmountRequired"] == "2500000" and requirements["payTo"] == PAY_TO

    unpaid = stack.client.post(f"/v1/payments/topup/cdp/{topup['id']}/pay")
    assert unpaid.status_code == 402
    assert unpaid.json()["accepts"][0]["maxAmountRequired"] == "2500000"

    header = _payer(stack).x_payment(requirements)
    paid = stack.client.post(
        f"/v1/payments/topup/cdp/{topup['id']}/pay", headers={"X-PAYMENT": header}
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["credited_micros"] == 2_500_000
    assert "X-PAYMENT-RESPONSE" in paid.headers
    stack.drain("cdp")  # the facilitator's settlement webhook arrives after the credit

    again = stack.client.post(
        f"/v1/payments/topup/cdp/{topup['id']}/pay", headers={"X-PAYMENT": header}
    )
    assert again.status_code == 200 and again.json()["credited_micros"] == 0
    acct = stack.account(account)
    assert acct["balance_micros"] == 2_500_000
    assert acct["lifetime_paid_micros"] == 2_500_000
    assert [e["kind"] for e in stack.ledger(account)] == ["credit"]
    assert len(stack.fakes["cdp"].settlements()) == 1


def test_cdp_payment_below_the_required_amount_is_declined_and_credits_nothing(
    stack: Stack,
) -> None:
    account = stack.new_account()
    topup = stack.client.post(
        "/v1/payments/topup/cdp", json={"account_id": account, "amount_micros": 1_000_000}
    ).json()
    requirements = topup["details"]["payment_requirements"]["accepts"][0]
    header = _payer(stack).x_payment(requirements, value_atomic=999_999)
    r = stack.client.post(
        f"/v1/payments/topup/cdp/{topup['id']}/pay", headers={"X-PAYMENT": header}
    )
    assert r.status_code == 402
    assert r.json()["error"]["code"] == "payment_declined"
    assert stack.account(account)["balance_micros"] == 0


def test_xendit_invoice_topup_is_credited_on_its_paid_callback(stack: Stack) -> None:
    account = stack.new_account()
    r = stack.client.post(
        "/v1/payments/topup/xendit",
        json={"account_id": account, "amount_micros": 12_340_000},
        headers={"Idempotency-Key": "client-key-1"},
    )
    assert r.status_code == 201, r.text
    topup = r.json()
    invoice_id = topup["processor_ref"]
    replay = stack.client.post(
        "/v1/payments/topup/xendit",
        json={"account_id": account, "amount_micros": 12_340_000},
        headers={"Idempotency-Key": "client-key-1"},
    )
    assert replay.status_code == 200 and replay.json()["id"] == topup["id"]
    invoices = [
        c
        for c in stack.fakes["xendit"].journal.calls(method="POST")
        if c.path.startswith("/v2/invoices")
    ]
    assert len(invoices) == 1, "one client Idempotency-Key creates one processor invoice"

    pay = httpx.post(f"{stack.fake_urls['xendit']}/_fake/invoices/{invoice_id}/pay", json={})
    assert pay.status_code == 200, pay.text
    stack.drain("xendit")
    acct = stack.account(account)
    assert acct["balance_micros"] == 12_340_000
    assert acct["lifetime_paid_micros"] == 12_340_000


def test_xendit_recurring_plan_flips_the_tier_on_a_paid_cycle_and_cancellation_downgrades(
    stack: Stack,
) -> None:
    account = stack.new_account(is_test_cohort=True)
    r = stack.client.post(
        "/v1/billing/checkout", json={"account_id": account, "plan": "team", "rail": "xendit"}
    )
    assert r.status_code == 201, r.text
    plan_id = r.json()["processor_subscription_id"]
    assert (
        stack.client.get("/v1/billing", params={"account_id": account}).json()["plan_tier"]
        == "free"
    )

    base = stack.fake_urls["xendit"]
    assert (
        httpx.post(f"{base}/_fake/recurring/plans/{plan_id}/activate", json={}).status_code == 200
    )
    cycle = httpx.post(f"{base}/_fake/recurring/plans/{plan_id}/cycle", json={})
    assert cycle.status_code == 200, cycle.text
    stack.drain("xendit")
    billing = stack.client.get("/v1/billing", params={"account_id": account}).json()
    assert billing["plan_tier"] == "team" and billing["subscription_status"] == "active"
    invoices = stack.client.get("/v1/billing/invoices", params={"account_id": account}).json()[
        "invoices"
    ]
    assert len(invoices) == 1

    auth = (stack.fakes["xendit"].config.secret_key, "")
    off = httpx.post(f"{base}/recurring/plans/{plan_id}/deactivate", auth=auth)
    assert off.status_code == 200, off.text
    stack.drain("xendit")
    assert (
        stack.client.get("/v1/billing", params={"account_id": account}).json()["plan_tier"]
        == "free"
    )
