"""The stateful suite's model of the payments contract, checked on its own (pure Python, no target).

If the model were wrong the suite would either miss defects or fail correct services, so its rules are
held to properties here: money is conserved, charges follow the clamped formula exactly, a payment is
credited once however often and by however many events it is reported, refused deliveries change nothing,
and an ended subscription never comes back.
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition

from harness.suites._support import Grain
from harness.suites.model import Clamp, PaymentsModel, charge_for
from harness.suites.model import events as ev

CLAMP = Clamp(min_bps=0, max_bps=10_000, default_bps=2_000)
MARGINS = st.none() | st.integers(-1_000_000, 1_000_000)


def _model_with(balance: int = 0) -> tuple[PaymentsModel, str]:
    model = PaymentsModel(clamp=CLAMP)
    model.create_account("acct_1")
    if balance:
        model.adjusted("acct_1", balance)
    return model, "acct_1"


@given(cost=st.integers(0, 10**15), margin=st.integers(0, 1_000_000))
def test_the_charge_is_the_exact_ceiling_of_cost_times_margin(cost: int, margin: int) -> None:
    assert charge_for(cost, margin) == cost + ceil(Fraction(cost * margin, 10_000))


def test_the_model_charges_in_the_targets_unit_when_it_keeps_cents() -> None:
    # 1 cent at 1,234 bps: 1 + ceil(0.1234) = 2 cents, where the contract's micro-USD give 11,234
    assert (charge_for(10_000, 1_234, 10_000), charge_for(10_000, 1_234)) == (20_000, 11_234)


@given(requested=MARGINS, low=st.integers(0, 5_000), width=st.integers(0, 20_000))
def test_the_effective_margin_always_lies_inside_the_clamp(
    requested: int | None, low: int, width: int
) -> None:
    clamp = Clamp(min_bps=low, max_bps=low + width, default_bps=low)
    assert low <= clamp.effective(requested) <= low + width


@given(cost=st.integers(1, 10**12), margin=MARGINS, extra=st.integers(-1, 1))
def test_a_charge_succeeds_exactly_when_the_balance_covers_it(
    cost: int, margin: int | None, extra: int
) -> None:
    charged = charge_for(cost, CLAMP.effective(margin))
    model, account = _model_with(max(charged + extra, 0))
    model.outcome_recorded("inf", account, cost)
    (answer,) = model.expect_charge("inf", margin)
    if charged + extra >= charged:
        assert answer.status == 200 and answer.fields["charged_micros"] == charged
        model.charged("inf", margin)
        assert model.wallets[account].balance_micros == charged + extra - charged
        (replay,) = model.expect_charge("inf", 1)
        assert replay.fields["replayed"] is True and replay.fields["charged_micros"] == charged
    else:
        assert (answer.status, answer.code) == (402, "insufficient_credit")


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("credit"), st.integers(1, 10**9)),
        st.tuples(st.just("adjust"), st.integers(0, 10**9)),
        st.tuples(st.just("charge"), st.integers(0, 10**9)),
        st.tuples(st.just("usage"), st.lists(st.integers(0, 10**8), max_size=5)),
    ),
    max_size=30,
)


@given(ops=OPS)
def test_money_is_conserved_and_the_balance_never_goes_below_zero(
    ops: list[tuple[str, object]],
) -> None:
    model, account = _model_with()
    model.topup_started("top_1", account, "xendit", 1, None)
    wallet = model.wallets[account]
    for index, (op, value) in enumerate(ops):
        if op == "credit":
            assert isinstance(value, int)
            model.processor_payment(ev.Payment("xendit", f"inv_{index}", value, "top_1"))
        elif op == "adjust":
            assert isinstance(value, int)
            model.adjusted(account, value)
        elif op == "charge":
            assert isinstance(value, int)
            model.outcome_recorded(f"inf_{index}", account, value)
            if model.expect_charge(f"inf_{index}", None)[0].status == 200:
                model.charged(f"inf_{index}", None)
        else:
            assert isinstance(value, list)
            answers, spent = model.expect_usage(account, value)
            if answers[0].status == 200 or answers[0].code == "insufficient_credit":
                model.settled(account, spent)
        assert wallet.balance_micros == sum(e.signed_micros for e in wallet.entries) >= 0
        assert all(e.amount_micros > 0 for e in wallet.entries)
        credits = sum(e.amount_micros for e in wallet.entries if e.kind == "credit")
        assert wallet.lifetime_paid_micros == credits  # adjustments never count as paid


@given(times=st.integers(1, 4), cents=st.integers(1, 10**6))
def test_a_payment_is_credited_once_however_often_and_by_whatever_events_it_is_reported(
    times: int, cents: int
) -> None:
    model, account = _model_with()
    model.customer_known("cus_1", account)
    event = ev.stripe_funded("txn_1", customer="cus_1", topup=None, cents=cents)
    statuses = []
    for index in range(times):
        for candidate in (event, ev.reported_again(event, f"again_{index}")):
            (answer,) = model.expect_delivery(candidate, "valid")
            statuses.append(answer.fields["status"])
            model.delivered(candidate, answer)
    assert statuses[0] == "applied" and set(statuses[1:]) <= {"duplicate"}
    assert model.wallets[account].balance_micros == cents * 10_000
    assert model.wallets[account].lifetime_paid_micros == cents * 10_000


@given(auth=st.sampled_from(["missing", "forged"]), kind=st.sampled_from(["funded", "paid"]))
def test_a_refused_delivery_is_refused_before_its_body_and_changes_nothing(
    auth: str, kind: str
) -> None:
    model, account = _model_with()
    model.customer_known("cus_1", account)
    event = (
        ev.stripe_funded("txn_1", customer="cus_1", topup=None, cents=100)
        if kind == "funded"
        else ev.stripe_invoice_paid("in_1", sub_ref="sub_1", account_id=account, plan="team")
    )
    code = "missing_signature_header" if auth == "missing" else "webhook_signature_invalid"
    assert [(a.status, a.code) for a in model.expect_delivery(event, auth)] == [(400, code)]
    assert model.expect_delivery(event, auth, malformed=True)[0].code == code
    wallet = model.wallets[account]
    assert (wallet.balance_micros, wallet.plan_tier) == (0, "free")


def test_an_ended_subscription_never_comes_back_whatever_the_order() -> None:
    for order in ((0, 1), (1, 0)):
        model, account = _model_with()
        paid = ev.xendit_cycle("recy_1", plan_ref="repl_1", account_id=account, plan="team")
        ended = ev.xendit_plan("end_1", plan_ref="repl_1")
        for event in (paid, ended) if order == (0, 1) else (ended, paid):
            (answer,) = model.expect_delivery(event, "valid")
            model.delivered(event, answer)
        assert model.wallets[account].plan_tier == "free", order


def test_the_tier_is_the_best_active_plan() -> None:
    model, account = _model_with()
    for sub, plan in (("s1", "pro"), ("s2", "team")):
        event = ev.stripe_invoice_paid(f"in_{sub}", sub_ref=sub, account_id=account, plan=plan)
        model.delivered(event, model.expect_delivery(event, "valid")[0])
    assert model.wallets[account].plan_tier == "team"
    end = ev.stripe_subscription_ended("e2", sub_ref="s2")
    model.delivered(end, model.expect_delivery(end, "valid")[0])
    assert model.wallets[account].plan_tier == "pro"


@given(currency=st.sampled_from(["jpy", "idr", "eur"]), cents=st.integers(-(10**6), 10**13))
def test_money_in_another_currency_or_out_of_range_is_never_credited(
    currency: str, cents: int
) -> None:
    model, account = _model_with()
    model.customer_known("cus_1", account)
    for event in (
        ev.stripe_funded("txn_1", customer="cus_1", topup=None, cents=cents, currency=currency),
        ev.stripe_funded("txn_2", customer="cus_1", topup=None, cents=min(cents, 0)),
        ev.stripe_funded("txn_3", customer="cus_1", topup=None, cents=10**11 + 1 + abs(cents)),
    ):
        for answer in model.expect_delivery(event, "valid"):
            assert answer.fields.get("status") != "applied"
            model.delivered(event, answer)
    assert model.wallets[account].balance_micros == 0


def test_an_idempotency_key_replays_the_same_body_and_refuses_another() -> None:
    model, account = _model_with()
    assert model.expect_topup(account, "stripe", 1_000_000, "k")[0].status == 201
    model.topup_started("top_1", account, "stripe", 1_000_000, "k")
    assert model.expect_topup(account, "stripe", 1_000_000, "k")[0].fields["id"] == "top_1"
    assert model.expect_topup(account, "stripe", 2_000_000, "k")[0].code == "idempotency_key_reused"
    assert model.expect_topup(account, "stripe", 1_000_001, None)[0].code == "validation_error"
    assert model.expect_topup("acct_none", "cdp", 1, None)[0].code == "account_not_found"


def test_a_target_that_makes_the_replay_inconsistent_still_fails_with_its_first_divergence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Shrinking replays a sequence; a target whose state leaks between sequences answers differently and
    hypothesis calls the generation flaky. The divergence seen first is the finding, not that error."""
    from harness.suites.model import machine, observe

    def flaky_run(machine_class: type[machine.PaymentsMachine], settings: object) -> None:
        seen = observe.Observer(_StubApi(), machine_class.divergences)  # type: ignore[arg-type]
        seen.diverged("a charge: HTTP 200", "a charge: HTTP 402 insufficient_funds")
        seen.diverged("the replay: HTTP 201", "HTTP 200")
        raise FlakyStrategyDefinition("Inconsistent data generation!")

    monkeypatch.setattr(machine, "run_state_machine_as_test", flaky_run)
    with pytest.raises(observe.ModelDivergence) as caught:
        machine.run(_StubApi(), None, CLAMP, seed_value=1, examples=1, depth=1)  # type: ignore[arg-type]
    assert "a charge: HTTP 200" in str(caught.value)
    assert isinstance(caught.value.__cause__, FlakyStrategyDefinition)
    assert any("not shrunk" in note for note in caught.value.__notes__)


class _StubApi:
    seed = 1

    def reproduce(self) -> list[str]:
        return ["POST /v1/charges → 200"]

    def grain(self) -> Grain:
        return Grain()

    def lacked(self) -> frozenset[str]:
        return frozenset()
