"""Processor webhooks: the check order, each rail's signature scheme, dedupe, and what a delivery credits."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from reference_support import (
    ALL_RAILS,
    CDP_SECRET,
    STRIPE_SECRET,
    ServiceFactory,
    adjust_balance,
    cdp_transfer,
    count_rows,
    deliver_cdp,
    deliver_stripe,
    deliver_xendit,
    hook0_header,
    insert_topup,
    ledger,
    ledger_sum,
    map_stripe_customer,
    new_account,
    service_state,
    stripe_event,
    stripe_funded,
    stripe_header,
    xendit_invoice,
)
from sqlalchemy import select

from harness.reference.models import Receipt, Topup, WebhookEvent


@pytest.fixture
async def rails(make_service: ServiceFactory) -> httpx.AsyncClient:
    """A live service with every rail configured (no processor is reachable; none is needed)."""
    return await make_service(**ALL_RAILS)


def code_of(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, str(r.json()["error"]["code"])


async def account_view(client: httpx.AsyncClient, account_id: str) -> dict[str, int]:
    body = (await client.get(f"/v1/accounts/{account_id}")).json()
    return {k: body[k] for k in ("balance_micros", "lifetime_paid_micros")}


# ---------------------------------------------------------------- check order


async def test_unknown_rail_is_404_before_anything_else_even_without_a_signature(
    make_service: ServiceFactory,
) -> None:
    for live in (True, False):
        client = await make_service(payments_live=live, **ALL_RAILS)
        r = await client.post("/v1/payments/webhook/paypal", content=b"not json at all")
        assert code_of(r) == (404, "unknown_rail"), live


async def test_dormant_refuses_before_looking_at_the_signature(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(payments_live=False, **ALL_RAILS)
    for rail in ("stripe", "xendit", "cdp"):
        r = await client.post(f"/v1/payments/webhook/{rail}", content=b"not json at all")
        assert code_of(r) == (503, "payments_not_live"), rail


async def test_missing_signature_header_is_reported_before_the_payload(
    rails: httpx.AsyncClient,
) -> None:
    for rail in ("stripe", "xendit", "cdp"):
        r = await rails.post(f"/v1/payments/webhook/{rail}", content=b"not json at all")
        assert code_of(r) == (400, "missing_signature_header"), rail


async def test_bad_signature_is_reported_before_the_payload_on_every_rail(
    rails: httpx.AsyncClient,
) -> None:
    garbage = b"not json at all"
    r = await deliver_stripe(rails, garbage, header=stripe_header(garbage, secret="whsec_wrong"))
    assert code_of(r) == (400, "webhook_signature_invalid")
    r = await rails.post(
        "/v1/payments/webhook/xendit", content=garbage, headers={"x-callback-token": "wrong"}
    )
    assert code_of(r) == (400, "webhook_signature_invalid")
    headers = {"content-type": "text/plain", "x-event-id": "e", "x-event-type": "t"}
    headers["X-Hook0-Signature"] = hook0_header(garbage, headers, secret="wrong")
    r = await rails.post("/v1/payments/webhook/cdp", content=garbage, headers=headers)
    assert code_of(r) == (400, "webhook_signature_invalid")


async def test_verified_but_unreadable_payload_is_invalid_payload_on_every_rail(
    rails: httpx.AsyncClient,
) -> None:
    garbage = b"not json at all"
    assert code_of(await deliver_stripe(rails, garbage)) == (400, "invalid_payload")
    r = await rails.post(
        "/v1/payments/webhook/xendit",
        content=garbage,
        headers={"x-callback-token": ALL_RAILS["xendit"].callback_token},
    )
    assert code_of(r) == (400, "invalid_payload")
    headers = {"content-type": "text/plain", "x-event-id": "e", "x-event-type": "t"}
    headers["X-Hook0-Signature"] = hook0_header(garbage, headers)
    r = await rails.post("/v1/payments/webhook/cdp", content=garbage, headers=headers)
    assert code_of(r) == (400, "invalid_payload")


async def test_verified_stripe_event_missing_fields_is_invalid_payload(
    rails: httpx.AsyncClient,
) -> None:
    body = stripe_event("evt_bad", "customer_cash_balance_transaction.created", {"type": "funded"})
    assert code_of(await deliver_stripe(rails, body)) == (400, "invalid_payload")
    assert await count_rows(rails, WebhookEvent) == 0


async def test_verified_stripe_body_that_is_not_a_json_object_is_invalid_payload(
    rails: httpx.AsyncClient,
) -> None:
    assert code_of(await deliver_stripe(rails, b"[1]")) == (400, "invalid_payload")


async def test_verified_non_object_bodies_are_invalid_payload_on_xendit_and_cdp(
    rails: httpx.AsyncClient,
) -> None:
    r = await rails.post(
        "/v1/payments/webhook/xendit",
        content=b"[1]",
        headers={"x-callback-token": ALL_RAILS["xendit"].callback_token},
    )
    assert code_of(r) == (400, "invalid_payload")
    headers = {"content-type": "application/json", "x-event-id": "e", "x-event-type": "t"}
    headers["X-Hook0-Signature"] = hook0_header(b"[1]", headers)
    r = await rails.post("/v1/payments/webhook/cdp", content=b"[1]", headers=headers)
    assert code_of(r) == (400, "invalid_payload")


async def test_refused_deliveries_write_nothing(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    await map_stripe_customer(rails, account, "cus_refused")
    body = stripe_funded(
        "evt_refused", txn_id="ccsbtxn_r", amount_cents=500, customer="cus_refused"
    )
    await deliver_stripe(rails, body, signed=False)
    await deliver_stripe(rails, body, header=stripe_header(body, secret="whsec_wrong"))
    assert await count_rows(rails, WebhookEvent) == 0
    assert await count_rows(rails, Receipt) == 0
    assert await ledger_sum(rails, account) == (0, 0, 0)


# ---------------------------------------------------------------- Stripe signatures


async def funded_for_new_account(
    client: httpx.AsyncClient, event_id: str, amount_cents: int = 500
) -> tuple[str, bytes]:
    account = await new_account(client)
    customer = f"cus_{event_id}"
    await map_stripe_customer(client, account, customer)
    return account, stripe_funded(
        event_id, txn_id=f"ccsbtxn_{event_id}", amount_cents=amount_cents, customer=customer
    )


async def test_stripe_signature_older_than_300_seconds_is_refused(rails: httpx.AsyncClient) -> None:
    account, body = await funded_for_new_account(rails, "evt_old")
    old = stripe_header(body, timestamp=int(time.time()) - 400)
    assert code_of(await deliver_stripe(rails, body, header=old)) == (
        400,
        "webhook_signature_invalid",
    )
    assert (await account_view(rails, account))["balance_micros"] == 0


async def test_stripe_signature_inside_the_tolerance_is_accepted(rails: httpx.AsyncClient) -> None:
    account, body = await funded_for_new_account(rails, "evt_recent")
    recent = stripe_header(body, timestamp=int(time.time()) - 200)
    r = await deliver_stripe(rails, body, header=recent)
    assert r.json()["status"] == "applied"
    assert (await account_view(rails, account))["balance_micros"] == 5_000_000


async def test_stripe_header_with_only_v0_is_refused(rails: httpx.AsyncClient) -> None:
    _, body = await funded_for_new_account(rails, "evt_v0")
    v1_only = stripe_header(body)
    v0_only = v1_only.replace("v1=", "v0=")
    assert code_of(await deliver_stripe(rails, body, header=v0_only)) == (
        400,
        "webhook_signature_invalid",
    )


async def test_stripe_v0_next_to_a_good_v1_is_ignored(rails: httpx.AsyncClient) -> None:
    _, body = await funded_for_new_account(rails, "evt_v0v1")
    header = (
        stripe_header(body) + ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
    )
    assert (await deliver_stripe(rails, body, header=header)).json()["status"] == "applied"


async def test_stripe_rotation_with_several_v1_accepts_the_matching_one(
    rails: httpx.AsyncClient,
) -> None:
    account, body = await funded_for_new_account(rails, "evt_rotation")
    # the old secret's signature first, ours second: any matching v1 is enough (PROCESSORS.md 1.1)
    ts = int(time.time())
    ours = stripe_header(body, timestamp=ts).split(",")[1]
    theirs = stripe_header(body, secret="whsec_old_rotated", timestamp=ts).split(",")[1]
    header = f"t={ts},{theirs},{ours}"
    assert (await deliver_stripe(rails, body, header=header)).json()["status"] == "applied"
    assert (await account_view(rails, account))["balance_micros"] == 5_000_000


async def test_stripe_signature_over_a_different_body_is_refused(rails: httpx.AsyncClient) -> None:
    account, body = await funded_for_new_account(rails, "evt_tamper", amount_cents=500)
    header = stripe_header(body)
    tampered = body.replace(b'"net_amount": 500', b'"net_amount": 500000')
    assert tampered != body
    assert code_of(await deliver_stripe(rails, tampered, header=header)) == (
        400,
        "webhook_signature_invalid",
    )
    assert (await account_view(rails, account))["balance_micros"] == 0


async def test_stripe_malformed_signature_header_is_invalid_not_missing(
    rails: httpx.AsyncClient,
) -> None:
    _, body = await funded_for_new_account(rails, "evt_malformed")
    for header in ("garbage", "t=notanumber,v1=abc", "v1=abc"):
        r = await deliver_stripe(rails, body, header=header)
        assert code_of(r) == (400, "webhook_signature_invalid"), header


async def test_stripe_secret_including_its_prefix_is_the_hmac_key(
    rails: httpx.AsyncClient,
) -> None:
    _, body = await funded_for_new_account(rails, "evt_prefix")
    without_prefix = stripe_header(body, secret=STRIPE_SECRET.removeprefix("whsec_"))
    assert code_of(await deliver_stripe(rails, body, header=without_prefix)) == (
        400,
        "webhook_signature_invalid",
    )


# ---------------------------------------------------------------- Xendit token


async def test_xendit_callback_with_the_wrong_token_is_refused(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    await insert_topup(rails, account, rail="xendit", amount_micros=5_000_000, topup_id="top_xw")
    payload = xendit_invoice(invoice_id="inv_xw", external_id="top_xw", amount=5)
    r = await deliver_xendit(rails, payload, token="not-the-token")
    assert code_of(r) == (400, "webhook_signature_invalid")
    r = await deliver_xendit(rails, payload, token=None)
    assert code_of(r) == (400, "missing_signature_header")
    assert (await account_view(rails, account))["balance_micros"] == 0


async def test_xendit_paid_invoice_credits_its_top_up(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    await insert_topup(rails, account, rail="xendit", amount_micros=5_250_000, topup_id="top_x1")
    r = await deliver_xendit(
        rails, xendit_invoice(invoice_id="inv_x1", external_id="top_x1", amount=5.25)
    )
    assert r.json() == {
        "status": "applied",
        "rail": "xendit",
        "event_id": "invoice:inv_x1:PAID",
        "event_type": "invoice.paid",
    }
    assert await account_view(rails, account) == {
        "balance_micros": 5_250_000,
        "lifetime_paid_micros": 5_250_000,
    }
    async with service_state(rails).db.read() as session:
        topup = await session.get(Topup, "top_x1")
    assert topup is not None and topup.status == "paid"


async def test_xendit_paid_then_settled_callbacks_credit_once(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    await insert_topup(rails, account, rail="xendit", amount_micros=5_000_000, topup_id="top_x2")
    paid = xendit_invoice(invoice_id="inv_x2", external_id="top_x2", amount=5)
    settled = xendit_invoice(invoice_id="inv_x2", external_id="top_x2", amount=5, status="SETTLED")
    assert (await deliver_xendit(rails, paid)).json()["status"] == "applied"
    assert (await deliver_xendit(rails, settled)).json()["status"] == "duplicate"
    assert await ledger_sum(rails, account) == (5_000_000, 5_000_000, 1)


async def test_xendit_pending_and_expired_invoices_are_ignored(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    await insert_topup(rails, account, rail="xendit", amount_micros=5_000_000, topup_id="top_x3")
    for status in ("PENDING", "EXPIRED"):
        payload = xendit_invoice(invoice_id="inv_x3", external_id="top_x3", amount=5, status=status)
        assert (await deliver_xendit(rails, payload)).json()["status"] == "ignored"
    assert (await account_view(rails, account))["balance_micros"] == 0


# ---------------------------------------------------------------- CDP (Hook0)


async def cdp_topup(client: httpx.AsyncClient, topup_id: str) -> str:
    account = await new_account(client)
    await insert_topup(client, account, rail="cdp", amount_micros=2_000_000, topup_id=topup_id)
    return account


async def test_cdp_signed_transfer_credits_its_top_up(rails: httpx.AsyncClient) -> None:
    account = await cdp_topup(rails, "top_c1")
    payload = cdp_transfer(transaction="0xaaa1", value_micros=2_000_000, nonce="top_c1")
    r = await deliver_cdp(rails, payload, event_id="cdp_evt_1")
    assert r.json()["status"] == "applied"
    assert await account_view(rails, account) == {
        "balance_micros": 2_000_000,
        "lifetime_paid_micros": 2_000_000,
    }


async def test_cdp_signature_outside_the_five_minute_window_is_refused(
    rails: httpx.AsyncClient,
) -> None:
    account = await cdp_topup(rails, "top_c2")
    payload = cdp_transfer(transaction="0xaaa2", value_micros=2_000_000, nonce="top_c2")
    for offset in (-400, 400):  # too old, and too far ahead: the Hook0 window is two-sided
        r = await deliver_cdp(
            rails, payload, event_id="cdp_evt_2", timestamp=int(time.time()) + offset
        )
        assert code_of(r) == (400, "webhook_signature_invalid"), offset
    assert (await account_view(rails, account))["balance_micros"] == 0


async def test_cdp_signature_inside_the_window_is_accepted(rails: httpx.AsyncClient) -> None:
    await cdp_topup(rails, "top_c3")
    payload = cdp_transfer(transaction="0xaaa3", value_micros=2_000_000, nonce="top_c3")
    r = await deliver_cdp(rails, payload, event_id="cdp_evt_3", timestamp=int(time.time()) - 240)
    assert r.json()["status"] == "applied"


async def test_cdp_signature_with_the_wrong_secret_is_refused(rails: httpx.AsyncClient) -> None:
    await cdp_topup(rails, "top_c4")
    payload = cdp_transfer(transaction="0xaaa4", value_micros=2_000_000, nonce="top_c4")
    r = await deliver_cdp(rails, payload, event_id="cdp_evt_4", secret=CDP_SECRET + "x")
    assert code_of(r) == (400, "webhook_signature_invalid")


async def test_cdp_signed_header_values_cannot_be_swapped(rails: httpx.AsyncClient) -> None:
    await cdp_topup(rails, "top_c5")
    body = json.dumps(cdp_transfer(transaction="0xaaa5", value_micros=1, nonce="top_c5")).encode()
    headers = {
        "content-type": "application/json",
        "x-event-id": "cdp_evt_5",
        "x-event-type": "payment.transfer.settled",
    }
    headers["X-Hook0-Signature"] = hook0_header(body, headers)
    headers["x-event-id"] = "cdp_evt_5_replayed"  # a replay under a fresh id must not verify
    r = await rails.post("/v1/payments/webhook/cdp", content=body, headers=headers)
    assert code_of(r) == (400, "webhook_signature_invalid")


async def test_cdp_malformed_signature_header_is_invalid(rails: httpx.AsyncClient) -> None:
    for header in ("garbage", "t=1,h=content-type", "t=x,v1=abc"):
        r = await rails.post(
            "/v1/payments/webhook/cdp", content=b"{}", headers={"X-Hook0-Signature": header}
        )
        assert code_of(r) == (400, "webhook_signature_invalid"), header


# ---------------------------------------------------------------- dedupe and effects


async def test_duplicate_delivery_answers_duplicate_and_changes_nothing(
    rails: httpx.AsyncClient,
) -> None:
    account, body = await funded_for_new_account(rails, "evt_dup")
    assert (await deliver_stripe(rails, body)).json()["status"] == "applied"
    before = (await account_view(rails, account), await ledger_sum(rails, account))
    for _ in range(3):
        r = await deliver_stripe(rails, body)  # re-signed each time, as a processor retry is
        assert r.status_code == 200
        assert r.json()["status"] == "duplicate"
    assert (await account_view(rails, account), await ledger_sum(rails, account)) == before
    assert await count_rows(rails, WebhookEvent) == 1


async def test_same_payment_under_a_new_event_id_credits_once(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    await map_stripe_customer(rails, account, "cus_same")
    first = stripe_funded(
        "evt_same_1", txn_id="ccsbtxn_same", amount_cents=700, customer="cus_same"
    )
    second = stripe_funded(
        "evt_same_2", txn_id="ccsbtxn_same", amount_cents=700, customer="cus_same"
    )
    assert (await deliver_stripe(rails, first)).json()["status"] == "applied"
    assert (await deliver_stripe(rails, second)).json()["status"] == "duplicate"
    assert await ledger_sum(rails, account) == (7_000_000, 7_000_000, 1)


async def test_unknown_event_types_are_acknowledged_as_ignored(rails: httpx.AsyncClient) -> None:
    for event_type in ("charge.refunded", "customer.created", "payment_intent.succeeded"):
        r = await deliver_stripe(rails, stripe_event(f"evt_{event_type}", event_type, {"id": "x"}))
        assert r.status_code == 200
        assert r.json()["status"] == "ignored"
    assert await count_rows(rails, Receipt) == 0


async def test_cash_balance_movement_that_is_not_funding_is_ignored(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails)
    await map_stripe_customer(rails, account, "cus_applied")
    body = stripe_event(
        "evt_applied",
        "customer_cash_balance_transaction.created",
        {
            "id": "ccsbtxn_applied",
            "type": "applied_to_payment",
            "net_amount": -500,
            "currency": "usd",
            "customer": "cus_applied",
        },
    )
    assert (await deliver_stripe(rails, body)).json()["status"] == "ignored"
    assert (await account_view(rails, account))["balance_micros"] == 0


async def test_stripe_funding_with_a_top_up_reference_credits_that_top_up(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails)
    await insert_topup(rails, account, rail="stripe", amount_micros=12_340_000, topup_id="top_s1")
    body = stripe_funded("evt_ref", txn_id="ccsbtxn_ref", amount_cents=1_234, reference="top_s1")
    assert (await deliver_stripe(rails, body)).json()["status"] == "applied"
    assert await account_view(rails, account) == {
        "balance_micros": 12_340_000,
        "lifetime_paid_micros": 12_340_000,
    }
    entry = (await ledger(rails, account))["entries"][0]
    assert (entry["kind"], entry["source"], entry["reference"]) == (
        "credit",
        "stripe",
        "ccsbtxn_ref",
    )


async def test_payment_in_another_currency_is_recorded_and_not_credited(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails)
    await insert_topup(rails, account, rail="stripe", amount_micros=50_000_000, topup_id="top_eur")
    body = stripe_funded(
        "evt_eur", txn_id="ccsbtxn_eur", amount_cents=5_000, currency="eur", reference="top_eur"
    )
    r = await deliver_stripe(rails, body)
    assert r.status_code == 200
    assert r.json()["status"] == "not_credited"
    assert await account_view(rails, account) == {"balance_micros": 0, "lifetime_paid_micros": 0}
    async with service_state(rails).db.read() as session:
        receipt = (await session.execute(select(Receipt))).scalar_one()
    assert (receipt.currency, receipt.amount_minor, receipt.credited) == ("EUR", "50.00", False)
    assert receipt.account_id == account


async def test_xendit_payment_in_rupiah_is_recorded_and_not_credited(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails)
    await insert_topup(rails, account, rail="xendit", amount_micros=5_000_000, topup_id="top_idr")
    payload = xendit_invoice(
        invoice_id="inv_idr", external_id="top_idr", amount=8_500_000, currency="IDR"
    )
    assert (await deliver_xendit(rails, payload)).json()["status"] == "not_credited"
    assert (await account_view(rails, account))["balance_micros"] == 0
    assert await count_rows(rails, Receipt) == 1


async def test_payment_nobody_can_be_credited_with_is_kept_for_reconciliation(
    rails: httpx.AsyncClient,
) -> None:
    body = stripe_funded("evt_orphan", txn_id="ccsbtxn_orphan", amount_cents=100, customer="cus_x")
    assert (await deliver_stripe(rails, body)).json()["status"] == "not_credited"
    async with service_state(rails).db.read() as session:
        receipt = (await session.execute(select(Receipt))).scalar_one()
    assert (receipt.account_id, receipt.credited) == (None, False)


async def test_lifetime_paid_rises_only_with_processor_money(rails: httpx.AsyncClient) -> None:
    account, body = await funded_for_new_account(rails, "evt_life", amount_cents=300)
    await adjust_balance(rails, account, 9_000_000)
    assert await account_view(rails, account) == {
        "balance_micros": 9_000_000,
        "lifetime_paid_micros": 0,
    }
    await deliver_stripe(rails, body)
    assert await account_view(rails, account) == {
        "balance_micros": 12_000_000,
        "lifetime_paid_micros": 3_000_000,
    }
    await rails.post(
        "/v1/outcomes", json={"inference_id": "inf_life", "account_id": account, "cost_micros": 1}
    )
    await rails.post("/v1/charges", json={"inference_id": "inf_life"})
    await adjust_balance(rails, account, 0)
    assert (await account_view(rails, account))["lifetime_paid_micros"] == 3_000_000


# ---------------------------------------------------------------- paying a CDP top-up (no facilitator call)


async def test_paying_a_cdp_top_up_without_x_payment_is_402_with_the_requirements(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails)
    requirements = {"scheme": "exact", "network": "base-sepolia", "maxAmountRequired": "2000000"}
    async with service_state(rails).db.write() as session:
        session.add(
            Topup(
                id="top_pay",
                account_id=account,
                rail="cdp",
                amount_micros=2_000_000,
                status="pending",
                details={"payment_requirements": {"x402Version": 1, "accepts": [requirements]}},
            )
        )
    r = await rails.post("/v1/payments/topup/cdp/top_pay/pay")
    assert code_of(r) == (402, "payment_required")
    assert (r.json()["x402Version"], r.json()["accepts"]) == (1, [requirements])
    r = await rails.post("/v1/payments/topup/cdp/top_pay/pay", headers={"X-PAYMENT": "%%%"})
    assert code_of(r) == (400, "invalid_payment")
    assert (await account_view(rails, account))["balance_micros"] == 0


async def test_paying_a_top_up_of_another_rail_through_cdp_is_404(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    await insert_topup(rails, account, rail="stripe", amount_micros=10_000, topup_id="top_notcdp")
    r = await rails.post("/v1/payments/topup/cdp/top_notcdp/pay")
    assert code_of(r) == (404, "topup_not_found")
