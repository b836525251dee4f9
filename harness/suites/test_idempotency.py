"""idempotency: every payment moves money exactly once, however often and in whatever order it is reported.

Inbound, a processor may deliver one event twice, concurrently, re-signed later with a fresh timestamp, or
interleaved with others (PROCESSORS.md 4: "Duplicates are expected by design", ordering "not guaranteed"),
and may report one payment through two different events (an x402 `/pay` and the facilitator's settlement
webhook; a Xendit PAID then SETTLED callback). Each must credit once. A charge repeated for one inference
debits once, and one inference has one outcome (PRIOR_ART.md §1 defect 6: duplicate outcome rows gave
arbitrary money). Outbound, a top-up repeated with one client `Idempotency-Key` creates one processor object,
and after a 5xx, a timeout, a dropped connection or an answer lost after the processor did the work the
target's retries carry one idempotency key so the processor sees one object. Any permutation of a set of
events converges to the same ledger and tier.
Reconciliation completes with a result, never an exception (defect 10).

Truth surfaces: the ledger and balances of the target, and the fakes' journals (what the processor saw).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import Phase, given, seed, settings
from hypothesis import strategies as st

from harness.suites import _fixtures
from harness.suites._deliveries import CDP_SETTLED
from harness.suites._processors import (
    STRIPE_FUNDED_EVENT,
    Processors,
    stripe_event_body,
    stripe_funded,
    stripe_invoice_paid,
    stripe_subscription_deleted,
)
from harness.suites._support import (
    Api,
    error_code,
    not_applicable,
    require_live,
    unique,
    wait_until,
)
from harness.suites.failures import IdempotencyFailure
from harness.suites.plugin import PaymentsOptions
from harness.target import Target

# the live suites' shared fixtures (harness/suites/_fixtures.py)
api = _fixtures.api
processors = _fixtures.processors


#: Concurrent copies of one delivery or request: enough to race any check-then-insert.
CONCURRENCY = 6


def _expect_credited_once(api: Api, account: str, amount: int, event_ids: list[str]) -> None:
    """Balance and lifetime paid equal one credit of `amount`, written as one ledger entry."""
    state = api.account(account)
    credits = [c["amount_micros"] for c in api.entries(account, kind="credit")]
    if (
        credits != [amount]
        or state["balance_micros"] != amount
        or state["lifetime_paid_micros"] != amount
    ):
        api.fail(
            IdempotencyFailure,
            observed=(
                f"credits {credits}, balance {state['balance_micros']}, "
                f"lifetime paid {state['lifetime_paid_micros']}"
            ),
            expected=f"exactly one credit of {amount} micros (balance and lifetime paid {amount})",
            event_ids=event_ids,
        )


# ---------------------------------------------------------------------------------------- inbound


def test_a_webhook_the_processor_delivers_twice_credits_once(
    api: Api, processors: Processors
) -> None:
    """Stripe delivers every event twice: one credit."""
    account = api.new_account()
    topup = processors.stripe_topup(account, 5_000_000)
    with processors.delivery("stripe", "duplicated"):
        txn = processors.stripe_fund(
            str(topup["details"]["customer"]), 500, reference=str(topup["id"])
        )
        processors.drain("stripe")
    event = processors.stripe_event_for(STRIPE_FUNDED_EVENT, str(txn["id"]))
    _expect_credited_once(api, account, 5_000_000, [str(event["id"])])


def test_concurrent_deliveries_of_one_event_credit_once(api: Api, processors: Processors) -> None:
    """The same signed event delivered N times at once (and then by the processor itself): one credit."""
    account = api.new_account()
    with processors.delivery("stripe", "held") as stripe:
        event, _ = processors.held_stripe_funding(account, 300)
        body = stripe_event_body(event)
        headers = processors.signed("stripe", body)
        request = api.build("POST", "/v1/payments/webhook/stripe", content=body, headers=headers)
        answers = api.concurrently([request] * CONCURRENCY)
        stripe.release()
        processors.drain("stripe")
    refused = [r.status_code for r in answers if 400 <= r.status_code < 500]
    if refused:
        api.fail(
            IdempotencyFailure,
            observed=f"validly signed duplicates answered {refused}",
            expected="a duplicate is acknowledged (2xx) or retried (5xx), never refused as invalid",
            event_ids=[str(event["id"])],
        )
    _expect_credited_once(api, account, 3_000_000, [str(event["id"])])


def test_a_replay_re_signed_with_a_fresh_timestamp_credits_once(
    api: Api, processors: Processors
) -> None:
    """A delivered event, replayed later under a fresh signature: acknowledged, not credited again."""
    account = api.new_account()
    topup = processors.stripe_topup(account, 2_000_000)
    txn = processors.stripe_fund(str(topup["details"]["customer"]), 200, reference=str(topup["id"]))
    processors.drain("stripe")
    event = processors.stripe_event_for(STRIPE_FUNDED_EVENT, str(txn["id"]))
    body = stripe_event_body(event)
    replay = processors.deliver(
        "stripe", body, processors.signed("stripe", body, timestamp=int(time.time()) + 30)
    )
    if not 200 <= replay.status_code < 300:
        api.fail(
            IdempotencyFailure,
            observed=f"the re-signed replay answered HTTP {replay.status_code} {replay.text[:200]}",
            expected="a validly signed duplicate is acknowledged with 2xx (else the processor retries)",
            event_ids=[str(event["id"])],
        )
    _expect_credited_once(api, account, 2_000_000, [str(event["id"])])


def test_interleaved_events_credit_each_payment_once(api: Api, processors: Processors) -> None:
    """Two payments' events delivered A, B, A, B, A (re-signed), then by the processor: A + B credited."""
    account = api.new_account()
    with processors.delivery("stripe", "held") as stripe:
        first, _ = processors.held_stripe_funding(account, 300)
        second, _ = processors.held_stripe_funding(account, 200)
        for event in (first, second, first, second, first):
            body = stripe_event_body(event)
            processors.deliver("stripe", body, processors.signed("stripe", body))
        stripe.release()
        processors.drain("stripe")
    state = api.account(account)
    credits = sorted(c["amount_micros"] for c in api.entries(account, kind="credit"))
    if credits != [2_000_000, 3_000_000] or state["balance_micros"] != 5_000_000:
        api.fail(
            IdempotencyFailure,
            observed=f"credits {credits}, balance {state['balance_micros']}",
            expected="one credit per payment: 3000000 and 2000000, balance 5000000",
            event_ids=[str(first["id"]), str(second["id"])],
        )


def test_an_x402_payment_and_its_settlement_webhook_credit_once(
    api: Api, processors: Processors
) -> None:
    """The target credits a CDP top-up at `/pay`; the facilitator's settlement webhook then reports the
    same payment again: one credit."""
    account = api.new_account()
    response = api.call(
        "POST",
        "/v1/payments/topup/cdp",
        json_body={"account_id": account, "amount_micros": 1_500_000},
    )
    topup = api.expect(response, 201, IdempotencyFailure, "a CDP top-up starts")
    requirements = topup["details"]["payment_requirements"]["accepts"][0]
    payment = processors.x402_payment(requirements, 1_500_000)
    paid = api.call(
        "POST",
        f"/v1/payments/topup/cdp/{topup['id']}/pay",
        headers={"X-PAYMENT": payment.header},
    )
    api.expect(paid, 200, IdempotencyFailure, "the x402 payment settles and is credited")
    processors.drain("cdp")
    _expect_credited_once(api, account, 1_500_000, [f"nonce {payment.nonce}"])


#: How long the facilitator holds its answer to the target's retried settle: the time the suite has to
#: deliver an earlier report of the payment while `/pay` is still running.
PAY_HELD_SECONDS = 3.0


def _cdp_report(settlement: dict[str, Any], event_id: str, *, with_nonce: bool) -> bytes:
    """A settlement event in the CDP fake's shape (fakes/cdp/webhooks.py) for a settled transfer; without
    the nonce it names only the transaction, as a report of a transfer the target cannot attribute."""
    data = {
        key: settlement[key]
        for key in ("transaction", "network", "payer", "value", "asset", "nonce")
        if with_nonce or key != "nonce"
    }
    settled = time.gmtime(float(settlement["settledAt"]))
    event = {
        "eventId": event_id,
        "eventType": CDP_SETTLED,
        "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", settled),
        "data": {**data, "from": settlement["payer"], "to": settlement["payTo"]},
    }
    return json.dumps(event, separators=(",", ":")).encode()


def _reconcile_cdp(api: Api) -> dict[str, Any]:
    response = api.call(
        "POST", "/admin/reconcile/cdp", params={"dry_run": "false"}, headers=api.admin_headers()
    )
    if response.status_code in (401, 403):
        pytest.skip(f"{api.target.name} refuses the admin secret the harness sends for reconcile")
    return dict(api.expect(response, 200, IdempotencyFailure, "reconcile cdp answers a result"))


@pytest.mark.parametrize("first_report", ["settlement-webhook", "transfer-without-nonce"])
def test_a_report_landing_while_pay_still_runs_credits_the_top_up_once(
    api: Api, processors: Processors, first_report: str
) -> None:
    """The facilitator settles an x402 top-up but its answer to `/pay` is lost, and it holds the answer to
    the target's retry; meanwhile the payment is reported first by the facilitator's settlement webhook
    (naming the authorisation nonce `/pay` sent: it credits the top-up's account as it lands), or by a
    report naming only the transaction (the target cannot attribute it yet: `/pay` must then credit what
    that report recorded). Either way the top-up is credited once, exactly what was paid; the redelivered
    webhook and two reconciles move nothing."""
    amount = 1_250_000
    account = api.new_account()
    response = api.call(
        "POST", "/v1/payments/topup/cdp", json_body={"account_id": account, "amount_micros": amount}
    )
    topup = api.expect(response, 201, IdempotencyFailure, "a CDP top-up starts")
    payment = processors.x402_payment(
        topup["details"]["payment_requirements"]["accepts"][0], amount
    )
    url = f"/v1/payments/topup/cdp/{topup['id']}/pay"
    ids = [f"nonce {payment.nonce}"]
    with (
        processors.delivery("cdp", "held") as held,
        processors.fault("cdp", route="settle", lose_answer=True, first_k=1),
        processors.fault("cdp", route="settle", latency_seconds=PAY_HELD_SECONDS, first_k=2),
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        pay = pool.submit(api.call, "POST", url, headers={"X-PAYMENT": payment.header})
        settlement = wait_until(lambda: processors.cdp_settlement(payment.nonce))
        webhooks = wait_until(lambda: held.deliveries()["held"])
        if settlement is None or not webhooks:
            api.fail(
                IdempotencyFailure,
                observed=f"/pay: the facilitator settled {settlement}, held webhooks {webhooks}",
                expected="the target settles the payment at the facilitator (its webhook held)",
                event_ids=ids,
            )
        ids.append(str(settlement["transaction"]))
        if first_report == "settlement-webhook":
            held.release()
            processors.drain("cdp")
        else:
            body = _cdp_report(settlement, unique("evt"), with_nonce=False)
            headers = processors.signed(
                "cdp", body, event_id=json.loads(body)["eventId"], event_type=CDP_SETTLED
            )
            api.expect(
                processors.deliver("cdp", body, headers),
                200,
                IdempotencyFailure,
                "a validly signed report of the transfer is acknowledged",
            )
        landed, running = api.account(account), not pay.done()
        paid = pay.result(timeout=60)
        held.release()
        processors.drain("cdp")
    if paid.status_code != 200 and paid.status_code < 500:
        api.fail(
            IdempotencyFailure,
            observed=f"/pay answered {paid.status_code} {paid.text[:200]}",
            expected="200 (or a 5xx while the facilitator failed): the payment did settle",
            event_ids=ids,
        )
    if first_report == "settlement-webhook" and running and landed["balance_micros"] != amount:
        api.fail(
            IdempotencyFailure,
            observed=f"balance {landed['balance_micros']} once the settlement webhook naming nonce "
            f"{payment.nonce} was acknowledged, while /pay was still running",
            expected=f"the top-up's account credited {amount} by the webhook, found by the nonce /pay sent",
            event_ids=ids,
        )
    _expect_credited_once(api, account, amount, ids)
    again = _cdp_report(settlement, str(webhooks[0]), with_nonce=True)
    headers = processors.signed("cdp", again, event_id=str(webhooks[0]), event_type=CDP_SETTLED)
    api.expect(
        processors.deliver("cdp", again, headers),
        200,
        IdempotencyFailure,
        "the settlement webhook redelivered is acknowledged",
    )
    reports = [_reconcile_cdp(api) for _ in range(2)]
    fixed = [m for r in reports for m in r.get("mismatches", []) if m.get("fixed")]
    if fixed:
        api.fail(
            IdempotencyFailure,
            observed=f"reconcile cdp after the payment was credited fixed {fixed}",
            expected="nothing to fix: the payment is credited",
            event_ids=ids,
        )
    _expect_credited_once(api, account, amount, ids)


def test_a_xendit_invoice_reported_paid_then_settled_credits_once(
    api: Api, processors: Processors
) -> None:
    """Xendit's PAID callback, then a SETTLED callback for the same invoice: one credit.

    SETTLED as a status is UNVERIFIED (PROCESSORS.md 2.3); the point is one payment under two event ids.
    """
    account = api.new_account()
    response = api.call(
        "POST",
        "/v1/payments/topup/xendit",
        json_body={"account_id": account, "amount_micros": 4_000_000},
    )
    topup = api.expect(response, 201, IdempotencyFailure, "a Xendit top-up starts")
    invoice = processors.xendit_pay_invoice(str(topup["processor_ref"]))
    processors.drain("xendit")
    settled = {
        key: invoice[key]
        for key in ("id", "external_id", "user_id", "amount", "paid_amount", "currency", "created")
        if key in invoice
    } | {"status": "SETTLED", "updated": invoice.get("updated")}
    body = json.dumps(settled, separators=(",", ":")).encode()
    answer = processors.deliver("xendit", body, processors.signed("xendit", body))
    if not 200 <= answer.status_code < 300:
        api.fail(
            IdempotencyFailure,
            observed=f"the SETTLED callback answered HTTP {answer.status_code} {answer.text[:200]}",
            expected="a valid callback for an already credited invoice is acknowledged with 2xx",
            event_ids=[f"invoice {invoice['id']}"],
        )
    _expect_credited_once(api, account, 4_000_000, [f"invoice {invoice['id']}"])


def test_a_payment_in_another_currency_is_recorded_but_not_credited(
    api: Api, processors: Processors
) -> None:
    """A EUR bank transfer to a USD wallet credits nothing (DESIGN.md Money: USD is the only currency)."""
    account = api.new_account()
    topup = processors.stripe_topup(account, 1_000_000)
    processors.stripe_fund(
        str(topup["details"]["customer"]), 100, reference=str(topup["id"]), currency="eur"
    )
    processors.drain("stripe")
    state = api.account(account)
    if (
        state["balance_micros"]
        or state["lifetime_paid_micros"]
        or api.entries(account, kind="credit")
    ):
        api.fail(
            IdempotencyFailure,
            observed=f"balance {state['balance_micros']}, lifetime paid {state['lifetime_paid_micros']}",
            expected="a payment in another currency is not credited to the USD wallet",
        )


def test_the_balance_is_the_sum_of_the_ledger_and_adjustments_never_count_as_paid(
    api: Api, processors: Processors
) -> None:
    """A real payment raises lifetime paid; admin adjustments move the balance only; every entry is > 0
    and the balance equals the sum of the signed entries (PRIOR_ART.md §4, DESIGN.md Money)."""
    account = api.new_account()
    topup = processors.stripe_topup(account, 1_000_000)
    processors.stripe_fund(str(topup["details"]["customer"]), 100, reference=str(topup["id"]))
    processors.drain("stripe")
    api.set_balance(account, 5_000_000)
    api.set_balance(account, 3_000_000)
    state, entries = api.account(account), api.entries(account)
    signed = sum(int(e["signed_amount_micros"]) for e in entries)
    amounts = [int(e["amount_micros"]) for e in entries]
    if (
        state["balance_micros"] != 3_000_000
        or state["lifetime_paid_micros"] != 1_000_000
        or signed != state["balance_micros"]
        or min(amounts, default=1) <= 0
    ):
        api.fail(
            IdempotencyFailure,
            observed=(
                f"balance {state['balance_micros']}, lifetime paid {state['lifetime_paid_micros']}, "
                f"signed ledger sum {signed}, entry amounts {amounts}"
            ),
            expected=(
                "balance 3000000 = the sum of the signed entries, lifetime paid 1000000 (only the real "
                "payment), every entry amount > 0"
            ),
        )


# ---------------------------------------------------------------------------------------- charges


def test_a_charge_repeated_for_one_inference_debits_once(api: Api) -> None:
    """One inference charged three times in a row and six times at once: one debit, one result; the
    first answer is not a replay (`replayed` false), every repeat is (`replayed` true)."""
    account = api.funded_account(100_000)
    inference = unique("inf")
    cost = api.grain().up(1_000)  # a cost the target can hold (a whole cent for a service in cents)
    recorded = api.call(
        "POST",
        "/v1/outcomes",
        json_body={"inference_id": inference, "account_id": account, "cost_micros": cost},
    )
    api.expect(recorded, 201, IdempotencyFailure, "the outcome is recorded")
    charge = {"inference_id": inference, "margin_bps": 2_000}
    results = [
        api.expect(
            api.call("POST", "/v1/charges", json_body=charge), 200, IdempotencyFailure, "a charge"
        )
        for _ in range(3)
    ]
    answers = api.concurrently([api.build("POST", "/v1/charges", json_body=charge)] * CONCURRENCY)
    results += [a.json() for a in answers if a.status_code == 200]
    debits = [e["amount_micros"] for e in api.entries(account) if e["kind"] == "debit"]
    entry_ids = {r.get("ledger_entry_id") for r in results}
    amounts = {r.get("charged_micros") for r in results}
    if (
        len(debits) != 1
        or len(entry_ids) != 1
        or len(amounts) != 1
        or len(results) != 3 + CONCURRENCY
    ):
        api.fail(
            IdempotencyFailure,
            observed=(
                f"debits {debits}; {len(results)} of {3 + CONCURRENCY} charges answered 200 with "
                f"ledger entries {sorted(map(str, entry_ids))} and amounts {sorted(map(str, amounts))}"
            ),
            expected="every repeat answers 200 with the same result, and the ledger holds one debit",
            event_ids=[f"inference {inference}"],
        )
    replayed = [r.get("replayed") for r in results]
    if replayed != [False] + [True] * (len(results) - 1):
        api.fail(
            IdempotencyFailure,
            observed=f"replayed, in answer order (three in a row, then the concurrent ones): {replayed}",
            expected="false for the first charge, true for every repeat",
            event_ids=[f"inference {inference}"],
        )
    if api.account(account)["balance_micros"] != 100_000 - debits[0]:
        api.fail(
            IdempotencyFailure,
            observed=f"balance {api.account(account)['balance_micros']} after one debit of {debits[0]}",
            expected=f"balance {100_000 - debits[0]}",
        )


def test_a_second_outcome_for_one_inference_is_refused(api: Api) -> None:
    """Two outcomes for one inference would make its price arbitrary: the second is 409, the first holds;
    sent at once, one is recorded and every other is 409 `duplicate_outcome`."""
    account = api.funded_account(100_000)
    inference = unique("inf")
    cost = api.grain().up(1_000)  # a cost the target can hold (a whole cent for a service in cents)
    first = api.call(
        "POST",
        "/v1/outcomes",
        json_body={"inference_id": inference, "account_id": account, "cost_micros": cost},
    )
    api.expect(first, 201, IdempotencyFailure, "the first outcome is recorded")
    again = api.call(
        "POST",
        "/v1/outcomes",
        json_body={"inference_id": inference, "account_id": account, "cost_micros": 50_000},
    )
    api.expect(
        again, 409, IdempotencyFailure, "a second outcome is refused", code="duplicate_outcome"
    )
    result = api.expect(
        api.call("POST", "/v1/charges", json_body={"inference_id": inference}),
        200,
        IdempotencyFailure,
        "the charge",
    )
    if result.get("cost_micros") != cost:
        api.fail(
            IdempotencyFailure,
            observed=f"the charge priced cost_micros {result.get('cost_micros')}",
            expected=f"the cost of the one recorded outcome: {cost}",
        )
    # at once: the race a unique key settles (PostgreSQL lets both reach the insert), with the same answer
    racing = unique("inf")
    outcome = {"inference_id": racing, "account_id": account, "cost_micros": cost}
    answers = api.concurrently([api.build("POST", "/v1/outcomes", json_body=outcome)] * CONCURRENCY)
    statuses = sorted((a.status_code, error_code(a) or "") for a in answers)
    if statuses != [(201, "")] + [(409, "duplicate_outcome")] * (CONCURRENCY - 1):
        api.fail(
            IdempotencyFailure,
            observed=f"{CONCURRENCY} outcomes for one inference at once: {statuses}",
            expected=f"one 201, and {CONCURRENCY - 1} times 409 duplicate_outcome",
        )


# ---------------------------------------------------------------------------------------- outbound


def _at(call: dict[str, Any], path: str) -> bool:
    """Whether a journaled processor call went to `path` (a trailing slash, as xendit-python sends
    `/v2/invoices/`, is the same route)."""
    return str(call["path"]).rstrip("/") == path.rstrip("/")


def _processor_objects(
    processors: Processors, mark: dict[str, int], rail: str, path: str
) -> tuple[list[dict[str, Any]], set[str | None]]:
    calls = [c for c in processors.calls_since(mark, rail, method="POST") if _at(c, path)]
    return [c for c in calls if 200 <= int(c["status"]) < 300], {
        c["idempotency_key"] for c in calls
    }


@pytest.mark.parametrize(
    ("rail", "path"),
    [("xendit", "/v2/invoices"), ("stripe", "/v1/customers")],
    ids=["xendit-invoice", "stripe-customer"],
)
def test_a_top_up_repeated_with_one_idempotency_key_creates_one_processor_object(
    api: Api, processors: Processors, rail: str, path: str
) -> None:
    """Three repeats and six concurrent repeats of one top-up under one client key: one top-up, one
    processor object. At Stripe the object is the account's customer: a later, different top-up of the
    same account reuses it rather than asking Stripe for it again (an idempotency key there lives only a
    day, after which the account would get a second customer)."""
    account = api.new_account()
    key = unique("client-key")
    body = {"account_id": account, "amount_micros": 1_000_000}
    headers = {"Idempotency-Key": key}
    mark = processors.mark()
    answers = [
        api.call("POST", f"/v1/payments/topup/{rail}", json_body=body, headers=headers)
        for _ in range(3)
    ]
    answers += api.concurrently(
        [api.build("POST", f"/v1/payments/topup/{rail}", json_body=body, headers=headers)]
        * CONCURRENCY
    )
    ids = {a.json().get("id") for a in answers if a.status_code in (200, 201)}
    statuses = sorted(a.status_code for a in answers)
    if rail == "stripe":
        later = {"account_id": account, "amount_micros": 2_000_000}
        statuses.append(api.call("POST", "/v1/payments/topup/stripe", json_body=later).status_code)
    created, _ = _processor_objects(processors, mark, rail, path)
    # the same key with the same body is never "reused": at worst a concurrent repeat is told to retry
    reused = [a.status_code for a in answers if error_code(a) == "idempotency_key_reused"]
    if reused or len(ids) != 1 or len(created) != 1 or any(s >= 500 for s in statuses):
        api.fail(
            IdempotencyFailure,
            observed=(
                f"answers {statuses} ({len(reused)} idempotency_key_reused), top-up ids "
                f"{sorted(map(str, ids))}, "
                f"{len(created)} {rail} object(s) created at {path}"
            ),
            expected=f"one top-up id for the key {key!r} and one {rail} object at the processor",
        )


@pytest.fixture(scope="module")
def impatient(target: Target) -> Iterator[Target | None]:
    """The target rebuilt with a short outbound timeout (None when it cannot be rebuilt): a processor
    timeout is then a fault of one second, not of the target's production timeout."""
    if not target.capabilities.live or not target.capabilities.rebuildable:
        yield None
        return
    rebuilt = target.rebuild(outbound_timeout_seconds=0.25)
    try:
        yield rebuilt
    finally:
        rebuilt.close()


#: The longest outbound timeout a running target may declare for the suite to hold a processor past it.
LONGEST_WAITED_TIMEOUT_SECONDS = 2.0
_FAULTS: dict[str, dict[str, Any]] = {
    "5xx": {"status": 503, "first_k": 2},
    "dropped-connection": {"drop": True, "first_k": 1},
    "timeout": {"timeout": True, "timeout_seconds": 0.75, "first_k": 1},
}


@pytest.mark.parametrize("fault", list(_FAULTS))
@pytest.mark.parametrize(
    ("rail", "path"),
    [("xendit", "/v2/invoices"), ("stripe", "/v1/customers")],
    ids=["xendit-invoice", "stripe-customer"],
)
def test_retries_after_a_processor_fault_reuse_one_idempotency_key(
    target: Target,
    impatient: Target | None,
    payments_options: PaymentsOptions,
    rail: str,
    path: str,
    fault: str,
) -> None:
    """After a 5xx, a dropped connection or a timeout, every retry carries the first attempt's key and the
    processor ends with exactly one object."""
    require_live(target)
    chosen = target if fault != "timeout" or impatient is None else impatient
    with Api(chosen, seed=payments_options.seed) as api:
        processors = Processors(api)
        try:
            faulted = dict(_FAULTS[fault])
            if fault == "timeout" and impatient is None:
                # a running service: its processor is held past the timeout it declares, if short
                declared = api.outbound_timeout()
                if declared is None or declared > LONGEST_WAITED_TIMEOUT_SECONDS:
                    not_applicable(
                        f"{target.name} cannot be rebuilt with a short outbound timeout and declares "
                        f"none of at most {LONGEST_WAITED_TIMEOUT_SECONDS:g} s (its profile's "
                        "outbound_timeout_seconds): a processor timeout longer than that is not a gate "
                        "check"
                    )
                faulted["timeout_seconds"] = declared + 0.5
            account = api.new_account()
            mark = processors.mark()
            with processors.fault(rail, path=path, method="POST", **faulted) as rule:
                response = api.call(
                    "POST",
                    f"/v1/payments/topup/{rail}",
                    json_body={"account_id": account, "amount_micros": 1_000_000},
                )
                fired = processors.fault_stats(rail, rule)["fired"]
            created, keys = _processor_objects(processors, mark, rail, path)
            if response.status_code != 201 or fired < 1:
                api.fail(
                    IdempotencyFailure,
                    observed=f"HTTP {response.status_code} {response.text[:200]} (the fault fired {fired} time(s))",
                    expected="the top-up succeeds after the target retried past the fault",
                )
            if len(keys) != 1 or None in keys or len(created) != 1:
                api.fail(
                    IdempotencyFailure,
                    observed=(
                        f"{rail} saw idempotency keys {sorted(map(str, keys))} and created "
                        f"{len(created)} object(s) at {path}"
                    ),
                    expected="one idempotency key on every attempt, and one object at the processor",
                )
        finally:
            processors.close()


@pytest.mark.parametrize(
    ("rail", "path"),
    [("xendit", "/v2/invoices"), ("stripe", "/v1/customers")],
    ids=["xendit-invoice", "stripe-customer"],
)
def test_a_top_up_whose_answer_was_lost_leaves_one_object_at_the_processor(
    api: Api, processors: Processors, rail: str, path: str
) -> None:
    """The processor creates the object, then the connection drops before its answer arrives (the failure
    idempotency keys exist for): the target cannot tell it happened, retries, and the processor must see
    that retry as the same request. Counted at the processor, whatever keys were sent: one object."""
    account = api.new_account()
    with processors.fault(rail, path=path, method="POST", lose_answer=True, first_k=1) as rule:
        response = api.call(
            "POST",
            f"/v1/payments/topup/{rail}",
            json_body={"account_id": account, "amount_micros": 1_000_000},
        )
        fired = processors.fault_stats(rail, rule)["fired"]
    if response.status_code != 201 or fired != 1:
        api.fail(
            IdempotencyFailure,
            observed=f"HTTP {response.status_code} {response.text[:200]} (the answer was lost {fired} time(s))",
            expected="the top-up succeeds: the target retries past an answer lost after the work was done",
        )
    topup = response.json()
    if rail == "xendit":
        kept = topup.get("processor_ref")
        objects = processors.xendit_invoices_like(str(kept))
    else:
        objects = processors.stripe_customers_of(account)
        kept = (topup.get("details") or {}).get("customer")
        if not objects:
            not_applicable(
                f"{api.target.name} tags no Stripe customer with metadata.{api.account_key()}, so the customers "
                "one top-up made cannot be told from others; the Xendit case checks a lost answer"
            )
    refs = sorted(str(o.get("id")) for o in objects)
    # the object the target keeps, where its answer names one (the contract does not pin the Stripe one)
    if len(refs) != 1 or (kept is not None and refs != [str(kept)]):
        api.fail(
            IdempotencyFailure,
            observed=(
                f"{rail} holds {len(refs)} object(s) for the top-up {topup.get('id')}: {refs}; the target "
                f"keeps {kept}"
            ),
            expected=(
                f"exactly one {rail} object, the one the target keeps: a retry after a lost answer is the "
                "same request to the processor (one idempotency key), never a second object"
            ),
        )


def test_a_processor_that_keeps_failing_gets_a_structured_error_after_bounded_retries(
    api: Api, processors: Processors
) -> None:
    """Xendit answers 500 to every invoice: a structured 502/504 processor_error, a bounded number of
    attempts, and no top-up money."""
    account = api.new_account()
    mark = processors.mark()
    with processors.fault("xendit", path="/v2/invoices", method="POST", status=500):
        response = api.call(
            "POST",
            "/v1/payments/topup/xendit",
            json_body={"account_id": account, "amount_micros": 1_000_000},
        )
    attempts = len(
        [c for c in processors.calls_since(mark, "xendit", method="POST") if _at(c, "/v2/invoices")]
    )
    if response.status_code not in (502, 504) or error_code(response) != "processor_error":
        api.fail(
            IdempotencyFailure,
            observed=f"HTTP {response.status_code} {response.text[:200]}",
            expected="HTTP 502 or 504 with error code processor_error (never an unhandled 500)",
        )
    if not 1 <= attempts <= 10 or api.account(account)["balance_micros"] != 0:
        api.fail(
            IdempotencyFailure,
            observed=f"{attempts} attempts at the processor, balance {api.account(account)['balance_micros']}",
            expected="a bounded number of attempts (1..10) and no credit",
        )


def test_reconcile_completes_and_finds_exactly_once_credits_in_agreement(
    api: Api, processors: Processors
) -> None:
    """After a payment credited once, reconciling each rail answers a result (never an error), and
    that payment is not among its mismatches."""
    account = api.new_account()
    topup = processors.stripe_topup(account, 1_000_000)
    txn = processors.stripe_fund(str(topup["details"]["customer"]), 100, reference=str(topup["id"]))
    processors.drain("stripe")
    _expect_credited_once(api, account, 1_000_000, [])
    for rail in ("stripe", "xendit", "cdp"):
        response = api.call(
            "POST",
            f"/admin/reconcile/{rail}",
            params={"dry_run": "true"},
            headers=api.admin_headers(),
        )
        if response.status_code in (401, 403):
            pytest.skip(
                f"{api.target.name} refuses the admin secret the harness sends for reconcile: start "
                "the service and the gate with the same ADMIN_SECRET (`payharness fakes` prints one)"
            )
        body = api.expect(response, 200, IdempotencyFailure, f"reconcile {rail} answers a result")
        status = body.get("status")
        ours = [m for m in body.get("mismatches", []) if m.get("processor_ref") == txn["id"]]
        if status not in ("ok", "mismatch", "unsupported", "not_configured") or ours:
            api.fail(
                IdempotencyFailure,
                observed=f"reconcile {rail}: status {status!r}, message {body.get('message')!r}, ours {ours}",
                expected="a completed reconciliation (never status error) that agrees on the credited payment",
            )


# ---------------------------------------------------------------------------------------- order

#: A Stripe funding that, with the 3 USD one beside it, makes the contract's bound on an amount (10^15
#: micro-USD): the largest payment the contract lets a top-up ask for, less 3 USD.
LARGE_FUNDING_CENTS = 10**15 // 10_000 - 300


def test_any_order_of_a_set_of_events_converges_to_the_same_ledger_and_tier(
    api: Api, processors: Processors, payments_options: PaymentsOptions
) -> None:
    """Two fundings (one duplicated), a team plan paid then canceled, a pro plan paid twice: in every
    order, each funding credited once and the tier is pro. The second funding is as large as the
    contract allows with the first (together the contract's bound on an amount, 10^15 micro-USD): money
    that large is as exactly-once as any."""

    # a target declaring a smaller largest amount (a service behind its profile) gets the largest it takes
    large_cents = min(LARGE_FUNDING_CENTS, api.grain().cap(10**15) // 10_000)

    @settings(
        max_examples=max(2, payments_options.examples),
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        report_multiple_bugs=False,
    )
    @seed(payments_options.seed)
    @given(order=st.permutations(range(7)))
    def check(order: list[int]) -> None:
        account = api.new_account(cohort=True)
        customer = str(processors.stripe_topup(account, 1_000_000)["details"]["customer"])
        tag, key = unique("perm"), api.account_key()
        team, pro = f"sub_team_{tag}", f"sub_pro_{tag}"
        events = [
            stripe_funded(customer=customer, txn_ref=f"ccsbtxn_a_{tag}", amount_cents=300),
            stripe_funded(customer=customer, txn_ref=f"ccsbtxn_b_{tag}", amount_cents=large_cents),
            stripe_invoice_paid(
                account_id=account,
                plan="team",
                subscription_ref=team,
                invoice_ref=f"in_t_{tag}",
                amount_cents=10_000,
                account_key=key,
            ),
            stripe_subscription_deleted(subscription_ref=team, event_ref=f"del_{tag}"),
            stripe_invoice_paid(
                account_id=account,
                plan="pro",
                subscription_ref=pro,
                invoice_ref=f"in_p_{tag}",
                amount_cents=2_000,
                account_key=key,
            ),
        ]
        events += [events[0], events[4]]  # the same events again (same event ids)
        for index in order:
            body = stripe_event_body(events[index])
            answer = processors.deliver("stripe", body, processors.signed("stripe", body))
            if not 200 <= answer.status_code < 300:
                api.fail(
                    IdempotencyFailure,
                    observed=f"event {events[index]['id']} answered HTTP {answer.status_code}",
                    expected="every validly signed event acknowledged with 2xx",
                    event_ids=[str(events[i]["id"]) for i in order],
                )
        state = api.account(account)
        credits = sorted(c["amount_micros"] for c in api.entries(account, kind="credit"))
        tier = api.billing(account)["plan_tier"]
        large = large_cents * 10_000
        if (
            credits != [3_000_000, large]
            or state["balance_micros"] != 3_000_000 + large
            or tier != "pro"
        ):
            api.fail(
                IdempotencyFailure,
                observed=f"order {order}: credits {credits}, balance {state['balance_micros']}, tier {tier!r}",
                expected=f"credits [3000000, {large}], balance {3_000_000 + large} and tier 'pro' in "
                "every order",
                event_ids=[str(events[i]["id"]) for i in order],
            )
        api.call("DELETE", f"/v1/accounts/{account}")

    check()
