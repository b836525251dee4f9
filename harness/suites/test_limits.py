"""limits: every boundary of the money paths holds, and every refusal refuses without moving money.

* Charges at balance - 1, balance and balance + 1: the first is `402 insufficient_credit` and moves
  nothing; the others debit exactly once; no balance ever goes below zero.
* Margins at and beyond both clamp ends are charged at the clamped margin, and recorded so.
* Costs of 0 (nothing written), 1 and the largest the contract allows (charged by the formula, or refused
  whole when the wallet cannot cover it); one more than the largest is a validation error.
* An `Idempotency-Key` reused with a different body is refused (`409 idempotency_key_reused`, Stripe's
  rule), on every top-up rail, and the processor sees one object.
* An x402 payment that does not match the top-up's requirements (amount, payTo, network, asset, scheme,
  an expired or not-yet-valid window) never credits, nor does an underpayment a lying facilitator vouches
  for; the matching one then does.
* A reconcile dry run reports a payment missing from the ledger and moves nothing; the real run credits it.
* Paid usage with an unverifiable x402 payment (a zero signature claiming a fortune, an unfunded wallet,
  another recipient) is not served: `402`, no unit of output.
* A paid session that spends the whole balance settles it once, whether answered as JSON, streamed to its
  end or left by its client mid-stream: one debit, never below zero, one settle.
* Sessions of one wallet that overlap (one streaming slowly while others start, some at once) never hold
  more than the balance between them: a session that finds nothing available is `402 insufficient_credit`,
  every unit served is debited, and the debits never pass the balance.
* The smallest payment each rail can make (1 atomic USDC unit = 1 micro; 1 cent on Stripe and Xendit), the
  contract's bound on a top-up (10^15 micro-USD) and that bound less one unit of the rail are each credited
  exactly, once; a payment event stating the bound plus one unit is refused and credits nothing.

The charges are in whole units of the target's declared money grain (`_support.Grain`: micro-USD for the
reference, cents for a service keeping cents behind its profile), so "one short" is one unit short.
"""

from __future__ import annotations

import base64
import copy
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fakes.cdp.payer import X402Payer
from harness.contract import pinned_contract
from harness.suites import _fixtures
from harness.suites._deliveries import Delivery, crediting_delivery, deliver, signed_headers
from harness.suites._generation import generated
from harness.suites._processors import Processors
from harness.suites._streams import stream_usage
from harness.suites._support import Api, Grain, error_code, ruled_out, unique, wait_until
from harness.suites.failures import IdempotencyFailure, MoneyMathFailure, SettleFailure
from harness.suites.plugin import PaymentsOptions
from harness.suites.test_margin_math import Clamp, _require_clamp, clamp

api = _fixtures.api
processors = _fixtures.processors
__all__ = ["clamp"]  # the margin-math suite's probe of the clamp, as this module's fixture too

#: An odd cost, so every margin's markup needs the ceiling.
ODD_COST = 1_000_003


def _largest(path: str, field: str) -> int:
    """The `maximum` the pinned contract gives a field of a POST's JSON body."""
    operation = pinned_contract()["paths"][path]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = pinned_contract()["components"]["schemas"][schema["$ref"].rpartition("/")[2]]
    return int(schema["properties"][field]["maximum"])


def _outcome(api: Api, account: str, cost: int) -> str:
    inference = unique("inf")
    answer = api.call(
        "POST",
        "/v1/outcomes",
        json_body={"inference_id": inference, "account_id": account, "cost_micros": cost},
    )
    api.expect(answer, 201, MoneyMathFailure, f"an outcome of {cost} micros is recorded")
    return inference


def _charge(api: Api, inference: str, margin: int | None = None) -> Any:
    body: dict[str, Any] = {"inference_id": inference}
    if margin is not None:
        body["margin_bps"] = margin
    return api.call("POST", "/v1/charges", json_body=body)


def _money(api: Api, account: str) -> tuple[int, list[int]]:
    return int(api.account(account)["balance_micros"]), [
        int(e["amount_micros"]) for e in api.entries(account, kind="debit")
    ]


# ------------------------------------------------------------------------------------------ charges


@pytest.mark.parametrize("delta", [-1, 0, 1], ids=["balance-1", "balance", "balance+1"])
def test_a_charge_at_the_edge_of_the_balance_debits_once_or_is_refused_whole(
    api: Api, clamp: Clamp, delta: int
) -> None:
    """A wallet one micro short is refused with 402 and nothing moves; exactly enough leaves 0."""
    _require_clamp(api, clamp)
    step = api.grain().step_micros
    cost = ODD_COST * step
    price = api.grain().charge(cost, clamp.effective(None))
    delta *= step
    account = api.funded_account(price + delta)
    answer = _charge(api, _outcome(api, account, cost))
    balance, debits = _money(api, account)
    if delta < 0:
        if answer.status_code != 402 or error_code(answer) != "insufficient_credit":
            api.fail(
                MoneyMathFailure,
                observed=f"a charge of {price} on a balance of {price + delta}: HTTP "
                f"{answer.status_code} {answer.text[:200]}",
                expected="402 insufficient_credit",
            )
        if balance != price + delta or debits:
            api.fail(
                MoneyMathFailure,
                observed=f"after the refused charge: balance {balance}, debits {debits}",
                expected=f"nothing moved: balance {price + delta}, no debit",
            )
        return
    api.expect(
        answer, 200, MoneyMathFailure, f"a charge of {price} on a balance of {price + delta}"
    )
    if balance != delta or debits != [price]:
        api.fail(
            MoneyMathFailure,
            observed=f"balance {balance}, debits {debits}",
            expected=f"one debit of {price}, balance {delta}",
        )


def test_margins_at_and_beyond_both_clamp_ends_are_charged_clamped(api: Api, clamp: Clamp) -> None:
    """min - 1, min, max, max + 1 and the extremes: the debit and the record use the clamped margin."""
    _require_clamp(api, clamp)
    assert clamp.min_bps is not None and clamp.max_bps is not None
    margins = [clamp.min_bps - 1, clamp.min_bps, clamp.max_bps, clamp.max_bps + 1]
    margins += [-1_000_000, 1_000_000]
    grain = api.grain()
    cost = ODD_COST * grain.step_micros
    account = api.funded_account(len(margins) * grain.charge(cost, max(clamp.max_bps, 0)))
    for margin in margins:
        effective = clamp.effective(margin)
        answer = _charge(api, _outcome(api, account, cost), margin)
        result = api.expect(answer, 200, MoneyMathFailure, f"a charge at margin {margin}")
        debit = int(api.entries(account, kind="debit", limit=1)[0]["amount_micros"])
        expected = grain.charge(cost, effective)
        if debit != expected or result.get("margin_bps") != effective:
            api.fail(
                MoneyMathFailure,
                observed=f"margin {margin}: debit {debit}, recorded margin {result.get('margin_bps')}",
                expected=f"the clamped margin {effective}: debit {expected}, recorded {effective}",
            )


#: Small costs and margins inside the clamp where a float factor rounds wrong (ceil(100 * 1.1) = 111).
FLOAT_TRAPS = [(100, 1_000), (1, 1), (3, 3_333), (7, 1_429), (1_000_001, 700)]


def test_small_costs_at_margins_a_float_gets_wrong_are_charged_exactly(
    api: Api, clamp: Clamp
) -> None:
    """Each (cost, margin) of :data:`FLOAT_TRAPS` is debited cost + ceil(cost x margin / 10^4) exactly,
    in integer micros."""
    _require_clamp(api, clamp)
    grain = api.grain()
    account = api.funded_account(10_000_000 * grain.step_micros)
    for units, margin in FLOAT_TRAPS:
        cost = units * grain.step_micros
        expected = grain.charge(cost, clamp.effective(margin))
        api.expect(
            _charge(api, _outcome(api, account, cost), margin), 200, MoneyMathFailure, "a charge"
        )
        debit = int(api.entries(account, kind="debit", limit=1)[0]["amount_micros"])
        if debit != expected:
            api.fail(
                MoneyMathFailure,
                observed=f"cost {cost} at margin {margin}: debit {debit}",
                expected=f"{expected} (integer ceiling, no float factor)",
            )


def test_costs_of_zero_one_and_the_largest_allowed_are_charged_by_the_formula(
    api: Api, clamp: Clamp
) -> None:
    """At the top of the clamp: cost 0 writes nothing; cost 1 and the contract's largest cost are charged
    by the formula, or refused whole when the wallet (at the largest balance) cannot cover them; one more
    than the largest cost is a validation error."""
    _require_clamp(api, clamp)
    assert clamp.max_bps is not None
    grain = api.grain()  # a target declaring its own unit and largest amount is tried at its own
    largest_cost = _largest("/v1/outcomes", "cost_micros")
    largest_balance = grain.amount(_largest("/admin/balance-adjust", "balance_micros"))
    for cost in (0, grain.up(1), grain.amount(largest_cost)):
        account = api.funded_account(largest_balance)
        answer = _charge(api, _outcome(api, account, cost), clamp.max_bps)
        price = grain.charge(cost, clamp.effective(clamp.max_bps))
        balance, debits = _money(api, account)
        if price == 0:
            ok = answer.status_code == 200 and not debits and balance == largest_balance
        elif price <= largest_balance:
            ok = answer.status_code == 200 and debits == [price]
            ok = ok and balance == largest_balance - price
        else:
            ok = answer.status_code == 402 and not debits and balance == largest_balance
        # the answer's own balance_micros is the wallet's balance after the charge
        told = answer.json().get("balance_micros") if answer.status_code == 200 else balance
        if not ok or told != balance:
            api.fail(
                MoneyMathFailure,
                observed=f"cost {cost}: HTTP {answer.status_code}, balance {balance} (answer says "
                f"{told}), debits {debits}",
                expected=f"price {price} on a balance of {largest_balance}: charged once if covered, "
                "else 402 and nothing moved (a zero price writes nothing)",
            )
    account = api.new_account()
    over = api.call(
        "POST",
        "/v1/outcomes",
        json_body={
            "inference_id": unique("inf"),
            "account_id": account,
            "cost_micros": largest_cost + 1,
        },
        optional=True,
    )
    if ruled_out(over):
        return  # past what the target's profile says it takes: its adapter does not even ask it
    api.expect(
        over, 422, MoneyMathFailure, "a cost over the contract's maximum", code="validation_error"
    )


# ------------------------------------------------------------------------------------- idempotency


@pytest.mark.parametrize("rail", ["stripe", "xendit", "cdp"])
def test_an_idempotency_key_reused_with_another_amount_is_refused(
    api: Api, processors: Processors, rail: str
) -> None:
    """The same key with a different amount is 409 idempotency_key_reused; the first top-up stands and
    the processor saw one object."""
    account = api.new_account()
    key = unique("idem")
    first = api.call(
        "POST",
        f"/v1/payments/topup/{rail}",
        json_body={"account_id": account, "amount_micros": 1_000_000},
        headers={"Idempotency-Key": key},
    )
    created = api.expect(first, 201, IdempotencyFailure, f"a {rail} top-up starts")
    mark = processors.mark()
    second = api.call(
        "POST",
        f"/v1/payments/topup/{rail}",
        json_body={"account_id": account, "amount_micros": 2_000_000},
        headers={"Idempotency-Key": key},
    )
    if second.status_code != 409 or error_code(second) != "idempotency_key_reused":
        api.fail(
            IdempotencyFailure,
            observed=f"the key reused with another amount: HTTP {second.status_code} {second.text[:200]}",
            expected="409 idempotency_key_reused (the first top-up was for 1000000 micros)",
        )
    calls = [c for c in processors.calls_since(mark) if c.get("method") == "POST"]
    if calls:
        api.fail(
            IdempotencyFailure,
            observed=f"the refused reuse called the processor: {[c['path'] for c in calls]}",
            expected="no processor call for a refused request",
            event_ids=[str(created["id"])],
        )


def test_an_idempotency_key_belongs_to_its_account(api: Api) -> None:
    """Another account sending the same Idempotency-Key gets its own top-up, never the first account's
    (a key is scoped to who sent it, as Stripe scopes keys to an account)."""
    key = unique("idem")
    first, second = api.new_account(), api.new_account()
    created = []
    for account in (first, second):
        answer = api.call(
            "POST",
            "/v1/payments/topup/stripe",
            json_body={"account_id": account, "amount_micros": 1_000_000},
            headers={"Idempotency-Key": key},
        )
        created.append(api.expect(answer, 201, IdempotencyFailure, "a top-up with the shared key"))
    if created[1].get("account_id") != second or created[1].get("id") == created[0].get("id"):
        api.fail(
            IdempotencyFailure,
            observed=f"the second account got top-up {created[1].get('id')} of {created[1].get('account_id')}",
            expected=f"a new top-up of {second}: a key never reaches another account's top-up",
        )


# ------------------------------------------------------------------------------------------- x402


def _cdp_topup(api: Api, amount: int) -> tuple[str, str, dict[str, Any]]:
    account = api.new_account()
    answer = api.call(
        "POST", "/v1/payments/topup/cdp", json_body={"account_id": account, "amount_micros": amount}
    )
    topup = api.expect(answer, 201, SettleFailure, "a CDP top-up starts")
    return account, str(topup["id"]), dict(topup["details"]["payment_requirements"]["accepts"][0])


def _encoded(payload: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _mismatched(payer: X402Payer, req: dict[str, Any], how: str) -> str:
    """An X-PAYMENT signed by a funded wallet that differs from `req` in one way."""
    amount = int(req["maxAmountRequired"])
    now = int(payer.now())
    if how == "amount":
        return payer.x_payment(req, value_atomic=amount - 1)
    if how == "payTo":
        return payer.x_payment(req, pay_to="0x" + secrets.token_hex(20))
    if how == "network":
        other = "base" if req["network"] != "base" else "base-sepolia"
        return payer.x_payment({**req, "network": other})
    if how == "asset":
        return payer.x_payment({**req, "asset": "0x" + secrets.token_hex(20)})
    if how == "scheme":
        return _encoded({**payer.payment_payload(req), "scheme": "upto"})
    if how == "expired":
        return payer.x_payment(req, valid_after=now - 7200, valid_before=now - 3600)
    return payer.x_payment(req, valid_after=now + 3600, valid_before=now + 7200)


X402_MISMATCHES = [
    "amount",
    "payTo",
    "network",
    "asset",
    "scheme",
    "expired",
    "not-yet-valid",
    "amount-vouched-for-by-the-facilitator",
]


@contextmanager
def _vouching_facilitator(processors: Processors, payer: X402Payer, network: str) -> Iterator[None]:
    """A facilitator that wrongly says yes: `/verify` answers valid and `/settle` answers settled, in the
    x402 wire shapes, whatever it is sent (a facilitator bug, or a man in the middle). A service that
    takes its word for the amount credits an underpayment; one that compares the authorised value with
    its own requirements does not."""
    verified = {"isValid": True, "payer": payer.address}
    settled = {
        "success": True,
        "payer": payer.address,
        "transaction": "0x" + secrets.token_hex(32),
        "network": network,
    }
    with (
        processors.fault("cdp", route="verify", status=200, body=verified),
        processors.fault("cdp", route="settle", status=200, body=settled),
    ):
        yield


@pytest.mark.parametrize("how", X402_MISMATCHES)
def test_an_x402_payment_that_does_not_match_the_requirements_never_credits(
    api: Api, processors: Processors, how: str
) -> None:
    """`/pay` with a payment differing in `how` is refused (4xx) and credits nothing, even when the
    facilitator wrongly vouches for an underpayment; the matching payment for the same top-up then
    credits it once."""
    account, topup, req = _cdp_topup(api, 1_000_000)
    funded = processors.config("cdp")["funded_accounts"][0]
    payer = X402Payer(private_key=str(funded["private_key"]))
    url = f"/v1/payments/topup/cdp/{topup}/pay"
    if how == "amount-vouched-for-by-the-facilitator":
        with _vouching_facilitator(processors, payer, str(req["network"])):
            answer = api.call("POST", url, headers={"X-PAYMENT": _mismatched(payer, req, "amount")})
    else:
        answer = api.call("POST", url, headers={"X-PAYMENT": _mismatched(payer, req, how)})
    state = api.account(account)
    refusal = (answer.status_code, error_code(answer))
    if (
        refusal not in ((402, "payment_declined"), (400, "invalid_payment"))
        or state["balance_micros"]
        or state["lifetime_paid_micros"]
    ):
        api.fail(
            SettleFailure,
            observed=f"a payment with the wrong {how}: HTTP {refusal}, balance "
            f"{state['balance_micros']}, lifetime paid {state['lifetime_paid_micros']}",
            expected="refused with 402 payment_declined (400 invalid_payment when it cannot be read) "
            "and nothing credited",
        )
    paid = api.call("POST", url, headers={"X-PAYMENT": payer.x_payment(req)})
    api.expect(paid, 200, SettleFailure, "the matching payment for the same top-up settles")
    if api.account(account)["balance_micros"] != 1_000_000:
        api.fail(
            SettleFailure,
            observed=f"balance {api.account(account)['balance_micros']} after the matching payment",
            expected="the top-up's 1000000 micros credited once",
        )


def test_an_x402_top_up_credits_only_what_a_matching_payment_paid(
    api: Api, processors: Processors, payments_options: PaymentsOptions
) -> None:
    """Generated payments (any value around the top-up's amount, to the right or another wallet, or to the
    right one through a facilitator that vouches for anything): an underpaid or misdirected payment
    credits nothing and is answered 402 payment_declined; the exact amount credits exactly it; an overpayment to the right wallet is either
    declined or credited for what was actually paid (the x402 `exact` scheme lets a payer authorise more
    than required), never for less than it took."""
    funded = processors.config("cdp")["funded_accounts"][0]
    payer = X402Payer(private_key=str(funded["private_key"]))

    @generated(payments_options, at_least=3)
    @given(
        value=st.integers(min_value=1, max_value=2_000_000),
        to=st.sampled_from(["payTo", "another-wallet", "payTo-vouched-for"]),
    )
    @example(value=999_999, to="payTo-vouched-for")
    def check(value: int, to: str) -> None:
        account, topup, req = _cdp_topup(api, 1_000_000)
        pay_to = "0x" + secrets.token_hex(20) if to == "another-wallet" else None
        header = payer.x_payment(req, value_atomic=value, pay_to=pay_to)
        url = f"/v1/payments/topup/cdp/{topup}/pay"
        if to == "payTo-vouched-for":
            with _vouching_facilitator(processors, payer, str(req["network"])):
                answer = api.call("POST", url, headers={"X-PAYMENT": header})
        else:
            answer = api.call("POST", url, headers={"X-PAYMENT": header})
        balance = api.account(account)["balance_micros"]
        refusal = (answer.status_code, error_code(answer))
        if balance == 0 and refusal != (402, "payment_declined"):
            api.fail(
                SettleFailure,
                observed=f"a payment of {value} to {to}, not credited, answered HTTP {refusal}",
                expected="402 payment_declined for a payment the top-up does not take",
            )
        if to == "another-wallet" or value < 1_000_000:
            allowed = {0}
        else:
            allowed = {value} | ({0} if value > 1_000_000 else set())
        if balance not in allowed:
            api.fail(
                SettleFailure,
                observed=f"a payment of {value} to {to}: balance {balance}",
                expected=f"a balance in {sorted(allowed)}",
            )

    check()


# --------------------------------------------------------------------------------------- reconcile


def _missing_payment(api: Api, processors: Processors, rail: str, account: str) -> tuple[str, int]:
    """A payment made at the processor while its webhooks are held: its processor ref and micros."""
    if rail == "stripe":
        event, _ = processors.held_stripe_funding(account, 700)
        return str(event["data"]["object"]["id"]), 7_000_000
    answer = api.call(
        "POST",
        "/v1/payments/topup/xendit",
        json_body={"account_id": account, "amount_micros": 7_000_000},
    )
    topup = api.expect(answer, 201, IdempotencyFailure, "a Xendit top-up starts")
    invoice = processors.xendit_pay_invoice(str(topup["processor_ref"]))
    return str(invoice["id"]), 7_000_000


@pytest.mark.parametrize("rail", ["stripe", "xendit"])
def test_a_reconcile_dry_run_moves_nothing_while_a_payment_is_missing(
    api: Api, processors: Processors, rail: str
) -> None:
    """A payment whose webhook is held: the dry run reports it missing and credits nothing; the real run
    credits it; the late webhook then credits nothing more."""
    account = api.new_account()
    headers = api.admin_headers()
    url = f"/admin/reconcile/{rail}"
    with processors.delivery(rail, "held") as held:
        ref, amount = _missing_payment(api, processors, rail, account)
        dry = api.call("POST", url, params={"dry_run": "true"}, headers=headers)
        report = api.expect(dry, 200, IdempotencyFailure, "a reconcile dry run")
        state = api.account(account)
        missing = [m for m in report.get("mismatches", []) if m.get("processor_ref") == ref]
        if state["balance_micros"] or api.entries(account) or not missing:
            api.fail(
                IdempotencyFailure,
                observed=f"dry run: balance {state['balance_micros']}, mismatches for {ref}: {missing}",
                expected="the missing payment reported (missing_in_ledger) and nothing credited",
                event_ids=[ref],
            )
        real = api.call("POST", url, params={"dry_run": "false"}, headers=headers)
        api.expect(real, 200, IdempotencyFailure, "a reconcile run")
        held.release()
        processors.drain(rail)
    credits = [e["amount_micros"] for e in api.entries(account, kind="credit")]
    if credits != [amount] or api.account(account)["balance_micros"] != amount:
        api.fail(
            IdempotencyFailure,
            observed=f"after the real run and the late webhook: credits {credits}",
            expected=f"the missing payment credited exactly once ({amount} micros)",
            event_ids=[ref],
        )


def test_a_dry_run_changes_nothing_a_second_dry_run_would_see(
    api: Api, processors: Processors
) -> None:
    """Two dry runs in a row while a payment is missing: both report it missing and unfixed (a dry run
    that quietly repaired it would make the second report disagree with the first)."""
    account = api.new_account()
    with processors.delivery("stripe", "held") as held:
        ref, _ = _missing_payment(api, processors, "stripe", account)
        reports = []
        for _ in range(2):
            dry = api.call(
                "POST",
                "/admin/reconcile/stripe",
                params={"dry_run": "true"},
                headers=api.admin_headers(),
            )
            body = api.expect(dry, 200, IdempotencyFailure, "a reconcile dry run")
            reports.append([m for m in body.get("mismatches", []) if m.get("processor_ref") == ref])
        held.release()
        processors.drain("stripe")
    if any(len(r) != 1 or r[0].get("fixed") for r in reports):
        api.fail(
            IdempotencyFailure,
            observed=f"dry-run reports for {ref}: {reports}",
            expected="both dry runs report the payment missing_in_ledger, fixed false",
            event_ids=[ref],
        )


# ------------------------------------------------------------------------------------- paid usage


def _forged_usage_payments(processors: Processors, req: dict[str, Any]) -> dict[str, str]:
    funded = processors.config("cdp")["funded_accounts"][0]
    payer = X402Payer(private_key=str(funded["private_key"]))
    claim = {**req, "maxAmountRequired": str(10**14)}
    zero = payer.payment_payload(claim, value_atomic=10**14)
    zero["payload"]["signature"] = "0x" + "00" * 65
    unfunded = X402Payer(private_key="0x" + secrets.token_hex(32))
    return {
        "zero-signature-claiming-a-fortune": _encoded(zero),
        "unfunded-wallet": unfunded.x_payment(claim, value_atomic=10**14),
        "another-recipient": payer.x_payment(
            {**req, "maxAmountRequired": "3000"}, pay_to="0x" + secrets.token_hex(20)
        ),
    }


USAGE_FORGERIES = ["zero-signature-claiming-a-fortune", "unfunded-wallet", "another-recipient"]


@pytest.mark.parametrize("forgery", USAGE_FORGERIES)
def test_paid_usage_with_an_unverifiable_payment_is_not_served(
    api: Api, processors: Processors, forgery: str
) -> None:
    """Usage paid by a forged, unfunded or misdirected x402 payment gets 402 and no output."""
    _, _, req = _cdp_topup(api, 1)
    header = _forged_usage_payments(processors, req)[forgery]
    answer = api.call(
        "POST",
        "/v1/usage",
        json_body={"charges_micros": [1_000, 1_000, 1_000]},
        headers={"X-PAYMENT": header},
    )
    served = answer.json().get("output") if answer.status_code == 200 else None
    if answer.status_code != 402 or served:
        api.fail(
            SettleFailure,
            observed=f"usage paid by {forgery}: HTTP {answer.status_code}, output {served}",
            expected="402 and no unit served: a payment is verified before the first unit",
        )


@pytest.mark.parametrize("ending", ["buffered", "streamed", "hung-up"])
def test_a_session_spending_the_whole_balance_settles_it_once_however_it_ends(
    api: Api, ending: str
) -> None:
    """300 of credit and three units of 100, answered as JSON, streamed to the last event (at the pace
    asked for), or left by a client after the first event: one debit of what was spent (all 300, or at
    least the first unit after a hang-up), the balance is the rest and never below zero, and one settle
    attempt, counted settled."""
    api.lacking("paid_usage", "paid usage sessions")
    account = api.funded_account(300)
    before = api.settle_counts()
    body = {"account_id": account, "charges_micros": [100, 100, 100]}
    if ending == "buffered":
        status = api.call("POST", "/v1/usage", json_body=body).status_code
    else:
        # over a socket the units are paced, so a hang-up lands before the last one is produced; in
        # process a few milliseconds still make the session hold its cap for the paced stream's length
        delay = 5 if api.target.asgi_app is not None else 150
        streamed = stream_usage(
            api,
            {**body, "chunk_delay_ms": delay},
            hang_up_after_first_event=ending == "hung-up",
        )
        status = streamed.status
        times = streamed.unit_times()
        # the pause comes after each unit, so the third is produced two pauses after the first; seen from the
        # client the first can arrive late (read buffering) and squeeze the span a little (299.5 ms for 300
        # in CI), so the bound is half the pace asked for, still far above an unpaced stream's few ms
        if ending == "streamed" and (len(times) < 2 or times[-1] - times[0] < delay / 1000):
            api.fail(
                SettleFailure,
                observed=f"three units at chunk_delay_ms {delay} streamed in "
                f"{(times[-1] - times[0]) * 1000 if times else 0:.1f} ms ({len(times)} chunks)",
                expected=f"at least {delay} ms (half of two {delay} ms pauses) from the first unit to the "
                "last: the pace asked for",
            )

    def attempts() -> float:
        after = api.settle_counts()
        return sum(after[k] - before[k] for k in ("settled", "failed", "unconfirmed"))

    # a hung-up session settles once the target notices the client left: shortly after
    wait_until(attempts)
    debits = [d["amount_micros"] for d in api.entries(account, kind="debit")]
    balance = api.account(account)["balance_micros"]
    after = api.settle_counts()
    delta = {k: after[k] - before[k] for k in after}
    spent = debits[0] if len(debits) == 1 else None
    whole = spent == 300 if ending != "hung-up" else spent in (100, 200, 300)
    if status != 200 or not whole or balance != 300 - (spent or 0):
        api.fail(
            SettleFailure,
            observed=f"{ending}: HTTP {status}, debits {debits}, balance {balance}",
            expected=(
                "HTTP 200 and exactly one debit of what was spent ("
                + ("all 300" if ending != "hung-up" else "100 to 300 after a hang-up")
                + "), the balance 300 less that debit"
            ),
        )
    if delta["settled"] != 1 or attempts() != 1:
        api.fail(
            SettleFailure,
            observed=f"{ending}: settle outcomes grew by {delta}",
            expected="exactly one settle attempt for the session, counted settled",
        )


#: A wallet, the first session's hold on it, and what each later session wants: the later ones find
#: BALANCE - HOLD available between them, so at most one of them can be served.
OVERLAP_BALANCE, OVERLAP_UNIT = 300, 100
OVERLAP_HOLD = 2 * OVERLAP_UNIT
OVERLAPPING = 4


def _served(answer: Any) -> int:
    """What a buffered usage answer says was served (and must be paid): its `spent_micros`, 0 refused."""
    return int(answer.json().get("spent_micros") or 0) if answer.status_code == 200 else 0


def test_overlapping_sessions_of_one_wallet_never_hold_or_spend_more_than_its_balance(
    api: Api,
) -> None:
    """A session streams slowly holding 200 of a 300 wallet; while it is open another session, then four at
    once, ask for 100 each: at most 100 more is served (the others get `402 insufficient_credit`), every unit
    served is debited, the debits never pass 300 and the balance never goes below zero.

    A hold that is not counted (or lapses at once) lets every session reserve the whole balance: the later
    ones are served, the first one's settle then finds the money gone, and units go out unpaid."""
    api.lacking("paid_usage", "paid usage sessions")
    account = api.funded_account(OVERLAP_BALANCE)
    # over a socket the units are paced, so the first session is still open while the others run
    delay = 0 if api.target.asgi_app is not None else 1000
    later: list[Any] = []
    open_while_later_ran: list[bool] = []

    def start_the_others() -> None:
        # runs between the first session's first and second unit: its hold is in place
        body = {"account_id": account, "charges_micros": [OVERLAP_UNIT]}
        later.append(api.call("POST", "/v1/usage", json_body=body))
        requests = [api.build("POST", "/v1/usage", json_body=body) for _ in range(OVERLAPPING)]
        later.extend(api.concurrently(requests))
        open_while_later_ran.append(not api.entries(account, kind="debit"))

    first = stream_usage(
        api,
        {
            "account_id": account,
            "charges_micros": [OVERLAP_UNIT, OVERLAP_UNIT],
            "chunk_delay_ms": delay,
        },
        on_first_event=start_the_others,
    )
    streamed = [d for name, d in first.events if name == "message" and "unit" in d]
    served = [len(streamed) * OVERLAP_UNIT] + [_served(a) for a in later]
    debits = [int(d["amount_micros"]) for d in api.entries(account, kind="debit")]
    balance = int(api.account(account)["balance_micros"])
    refusals = [
        f"{a.status_code} {error_code(a)}"
        for a in later
        if a.status_code != 200 and (a.status_code, error_code(a)) != (402, "insufficient_credit")
    ]
    seen = (
        f"the first session served {served[0]} (HTTP {first.status}); the later ones answered "
        f"{[a.status_code for a in later]} serving {served[1:]}; debits {debits}, balance {balance}"
    )
    if sum(served) != sum(debits) or sum(debits) > OVERLAP_BALANCE or balance < 0:
        api.fail(
            SettleFailure,
            observed=seen,
            expected=f"every unit served debited (served == debited), debits at most {OVERLAP_BALANCE}, "
            f"balance {OVERLAP_BALANCE} less the debits and never below zero",
        )
    if refusals:
        api.fail(
            SettleFailure,
            observed=f"{seen}; refusals {refusals}",
            expected="a session that cannot reserve is refused 402 insufficient_credit",
        )
    if open_while_later_ran == [True] and (
        served[0] != OVERLAP_HOLD or sum(served[1:]) > OVERLAP_BALANCE - OVERLAP_HOLD
    ):
        api.fail(
            SettleFailure,
            observed=seen,
            expected=f"the first session, open while the others ran, holds {OVERLAP_HOLD} and is served "
            f"it; the others share the {OVERLAP_BALANCE - OVERLAP_HOLD} left (402 once it is held)",
        )


# ------------------------------------------------------------------------------------------ credits

#: The smallest payment each rail can make: 1 atomic unit of USDC (1 micro), 1 US cent.
SMALLEST_MICROS = {"cdp": 1, "stripe": 10_000, "xendit": 10_000}
#: The largest single payment a target must credit: the contract's bound on a top-up (10^15 micro-USD, one
#: billion USD). A top-up opened for it must be creditable when it is paid; one unit past it is refused.
LARGEST_PAYMENT_MICROS = 10**15
#: The sizes tried: the rail's smallest payment, and the bound less one unit of the rail, the bound itself
#: and the bound plus one unit (a payment event stating it, for a top-up opened at the bound).
SIZES = ("smallest", "bound-less-one", "bound", "bound-plus-one")


def _payment_size(rail: str, size: str, grain: Grain) -> tuple[int, int]:
    """The top-up's amount and the amount the processor's event states, in micros (at the target's own
    smallest top-up and largest amount, when it declares them)."""
    unit, bound = SMALLEST_MICROS[rail], grain.cap(LARGEST_PAYMENT_MICROS)
    smallest = max(unit, grain.min_topup_micros)
    return {
        "smallest": (smallest, smallest),
        "bound-less-one": (bound - unit, bound - unit),
        "bound": (bound, bound),
        "bound-plus-one": (bound, bound + unit),
    }[size]


def _stating(delivery: Delivery, micros: int) -> Delivery:
    """The delivery's event stating `micros` in its rail's own amount convention."""
    if micros == delivery.amount_micros:
        return delivery
    event = copy.deepcopy(delivery.event)
    if delivery.rail == "stripe":
        event["data"]["object"]["net_amount"] = micros // 10_000
    elif delivery.rail == "xendit":
        event["amount"] = event["paid_amount"] = float(Decimal(micros) / 1_000_000)
    else:
        event["data"]["value"] = str(micros)
    return delivery.with_event(event)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("rail", ["stripe", "xendit", "cdp"])
def test_the_smallest_and_largest_payment_on_every_rail_is_credited_exactly_once(
    api: Api, processors: Processors, rail: str, size: str
) -> None:
    """A top-up of the rail's smallest payable amount, of the contract's bound less one unit of the rail,
    or of the bound itself, reported paid by its processor's validly signed event, twice: both
    acknowledged, one credit of exactly the amount. The same event stating the bound plus one unit is out
    of range: `400 invalid_payload` or a 200 no-op, twice, and nothing credited."""
    grain = api.grain()
    opened, stated = _payment_size(rail, size, grain)
    delivery = _stating(crediting_delivery(api, processors, rail, opened), stated)
    answers = [deliver(processors, delivery, signed_headers(delivery)) for _ in range(2)]
    state = api.account(delivery.account)
    credits = [int(e["amount_micros"]) for e in api.entries(delivery.account, kind="credit")]
    statuses = [a.status_code for a in answers]
    if stated > grain.cap(LARGEST_PAYMENT_MICROS):
        refused = all(
            a.status_code == 200 or (a.status_code == 400 and error_code(a) == "invalid_payload")
            for a in answers
        )
        wrong = not refused or credits or int(state["balance_micros"])
        expected = "400 invalid_payload or a 200 no-op, and nothing credited"
    else:
        wrong = (
            statuses != [200, 200]
            or credits != [stated]
            or int(state["balance_micros"]) != stated
            or int(state["lifetime_paid_micros"]) != stated
        )
        expected = f"both acknowledged (200) and exactly one credit of {stated} micros"
    if wrong:
        api.fail(
            MoneyMathFailure,
            observed=f"{rail} payment of {stated} micros ({size}) delivered twice: HTTP {statuses}, "
            f"credits {credits}, balance {state['balance_micros']}, lifetime paid "
            f"{state['lifetime_paid_micros']}",
            expected=expected,
            event_ids=[delivery.event_id],
        )


# -- refusals that guard money, seen from a second angle (a defect should never have one catch only) --------


def test_a_second_outcome_for_one_inference_is_refused_and_the_first_cost_is_charged(
    api: Api,
) -> None:
    """`POST /v1/outcomes` twice for one inference: the second is `409 duplicate_outcome`, and the charge
    is priced on the first cost (an overwrite would make the charged amount whatever came last)."""
    account = api.funded_account(10_000_000)
    cost = api.grain().up(1_000)  # a cost the target can hold (a whole cent for a service in cents)
    inference = _outcome(api, account, cost)
    again = api.call(
        "POST",
        "/v1/outcomes",
        json_body={"inference_id": inference, "account_id": account, "cost_micros": 900_000},
    )
    api.expect(
        again, 409, MoneyMathFailure, "a second outcome for one inference", code="duplicate_outcome"
    )
    charged = api.expect(_charge(api, inference, 0), 200, MoneyMathFailure, "the charge")
    balance, debits = _money(api, account)
    if debits != [cost] or balance != 10_000_000 - cost:
        api.fail(
            MoneyMathFailure,
            observed=f"charge {charged}; debits {debits}, balance {balance}",
            expected=f"one debit of the first outcome's {cost:,} micros (margin 0), balance "
            f"{10_000_000 - cost:,}",
        )


def test_a_delete_of_an_account_outside_the_test_cohort_keeps_it_and_its_money(api: Api) -> None:
    """Reaping is for test-cohort accounts only: a real, funded account answers `409 not_test_cohort` and
    keeps its balance and ledger."""
    account = api.funded_account(2_500_000, cohort=False)
    before = (api.account(account), api.entries(account))
    refused = api.call("DELETE", f"/v1/accounts/{account}")
    after = api.call("GET", f"/v1/accounts/{account}")
    if (
        refused.status_code != 409
        or error_code(refused) != "not_test_cohort"
        or after.status_code != 200
        or (after.json(), api.entries(account)) != before
    ):
        api.fail(
            MoneyMathFailure,
            observed=f"DELETE → {refused.status_code} {error_code(refused)}; then GET → {after.status_code}",
            expected="409 not_test_cohort, and the account with its 2,500,000 micros and ledger unchanged",
        )


@pytest.mark.parametrize("rail", ["paypal", "Stripe", "stripe ", "xendit2"])
def test_a_webhook_to_a_rail_that_does_not_exist_is_unknown_rail_whatever_its_headers(
    api: Api, rail: str
) -> None:
    """The rail is judged before anything else: an unknown (or misspelt) rail is `404 unknown_rail`, with
    or without a signature header, never a signature or payload error."""
    for headers in ({}, {"Stripe-Signature": "t=1,v1=00"}, {"x-callback-token": "x"}):
        answer = api.call("POST", f"/v1/payments/webhook/{rail}", content=b"{}", headers=headers)
        if answer.status_code != 404 or error_code(answer) != "unknown_rail":
            api.fail(
                MoneyMathFailure,
                observed=f"rail {rail!r} with headers {sorted(headers)}: HTTP {answer.status_code} "
                f"{error_code(answer)}",
                expected="404 unknown_rail before any signature or payload check",
            )
