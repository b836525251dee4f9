"""Outbound processor calls: bounded retries that reuse one idempotency key; none on 4xx."""

from __future__ import annotations

import pytest
from rails_support import Stack

from fakes._common.faults import Fault


def _topup(stack: Stack, rail: str, account: str, amount: int = 1_000_000) -> tuple[int, dict]:
    r = stack.client.post(
        f"/v1/payments/topup/{rail}", json={"account_id": account, "amount_micros": amount}
    )
    return r.status_code, r.json()


@pytest.mark.parametrize(
    "fault",
    [
        Fault(path="/v1/customers", method="POST", status=500, first_k=2),
        Fault(path="/v1/customers", method="POST", drop=True, first_k=1),
        Fault(path="/v1/customers", method="POST", timeout=True, timeout_seconds=3.0, first_k=1),
    ],
    ids=["5xx", "dropped-connection", "timeout"],
)
def test_stripe_retries_after_a_fault_reuse_one_idempotency_key_and_create_one_customer(
    stack: Stack, fault: Fault
) -> None:
    stripe = stack.fakes["stripe"]
    rule = stripe.faults.add(fault)
    account = stack.new_account()
    status, body = _topup(stack, "stripe", account)
    assert status == 201, body
    assert stripe.faults.stats()[rule]["fired"] >= 1, "the fault must have forced a retry"
    # a dropped connection never reaches the journal; every call that did carries the one key
    calls = [c for c in stripe.journal.calls(method="POST") if c.path == "/v1/customers"]
    assert {c.idempotency_key for c in calls} == {f"payharness-customer-{account}"}
    created = [c for c in calls if c.status == 200]
    assert len(created) == 1, "the processor sees one customer object"


def test_xendit_invoice_retry_after_5xx_keeps_its_idempotency_key_and_creates_one_invoice(
    stack: Stack,
) -> None:
    xendit = stack.fakes["xendit"]
    xendit.faults.add(Fault(path="/v2/invoices", method="POST", status=503, first_k=2))
    account = stack.new_account()
    status, body = _topup(stack, "xendit", account)
    assert status == 201, body
    calls = [c for c in xendit.journal.calls(method="POST") if c.path == "/v2/invoices"]
    assert [c.status for c in calls] == [503, 503, 200]
    assert len({c.idempotency_key for c in calls}) == 1


def test_a_xendit_invoice_whose_answer_was_lost_is_retried_into_the_same_invoice(
    stack: Stack,
) -> None:
    xendit = stack.fakes["xendit"]
    xendit.faults.add(Fault(path="/v2/invoices", method="POST", lose_answer=True, first_k=1))
    account = stack.new_account()
    status, body = _topup(stack, "xendit", account)
    assert status == 201, body
    calls = [c for c in xendit.journal.calls(method="POST") if c.path == "/v2/invoices"]
    # the first attempt ran at Xendit (its answer was lost); the retry with the same key replays it
    assert len(calls) == 2 and all(200 <= c.status < 300 for c in calls)
    assert len({c.idempotency_key for c in calls}) == 1
    invoices = xendit.processor.invoices.list([("external_id", body["id"])])
    assert [i.id for i in invoices] == [body["processor_ref"]]


def test_a_processor_4xx_is_not_retried_and_answers_a_structured_error(stack: Stack) -> None:
    stripe = stack.fakes["stripe"]
    stripe.faults.add(Fault(path="/v1/customers", method="POST", status=400))
    account = stack.new_account()
    status, body = _topup(stack, "stripe", account)
    assert status == 502
    assert body["error"]["code"] == "processor_error"
    assert body["error"]["details"]["processor_status"] == 400
    calls = [c for c in stripe.journal.calls(method="POST") if c.path == "/v1/customers"]
    assert len(calls) == 1


def test_retries_are_bounded_and_end_in_a_structured_error(stack: Stack) -> None:
    xendit = stack.fakes["xendit"]
    xendit.faults.add(Fault(path="/v2/invoices", method="POST", status=500))
    account = stack.new_account()
    status, body = _topup(stack, "xendit", account)
    assert status == 502 and body["error"]["code"] == "processor_error"
    calls = [c for c in xendit.journal.calls(method="POST") if c.path == "/v2/invoices"]
    assert len(calls) == 4  # the first attempt and three retries
