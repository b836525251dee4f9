"""margin-math: the debit is the contract's formula exactly, in integer micros, and the record agrees.

The contract (DESIGN.md, "Money"): ``charged = cost + ceil(cost * margin_bps / 10_000)`` with ``margin_bps``
clamped to the target's configured ``[min, max]``; the **effective** margin is what the charge records
(PRIOR_ART.md §1 defect 4); a zero cost writes nothing (defect 5: ledger amounts are > 0); a charge is never
below cost and grows with cost. Every expectation here is computed with Python integers, so a target that
rounds through floats anywhere is caught.

The clamp bounds are configuration, not contract, so they are read from the money the target moves: the
debit for a cost of exactly 1 USD at a margin far below and far above any sane range gives each bound to the
basis point (1 USD * 1 bp = 100 micros, no rounding). Hypothesis then draws costs from 0 to 10^14 micros and
margins below, inside and above the clamp, with the run's seed.

A target whose status declares a coarser money grain (a service keeping whole cents, behind its profile's
contract adapter) is held to the same formula in its own unit: costs are whole units, the markup is rounded
up to a whole unit, and amounts stay within the largest it declares (`_support.Grain`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import Phase, example, given, seed, settings
from hypothesis import strategies as st

from harness.suites import _fixtures
from harness.suites._support import Api, Grain, require_live, unique
from harness.suites.failures import MoneyMathFailure
from harness.suites.plugin import PaymentsOptions
from harness.target import Target

# the live suites' shared fixtures (harness/suites/_fixtures.py)
api = _fixtures.api


#: The contract's margin bound (`ChargeCreate.margin_bps`): far outside any configured clamp.
EXTREME_BPS = 1_000_000
#: A cost of 1 USD: its debit at margin m is 1_000_000 + 100 * m exactly.
PROBE_COST_MICROS = 1_000_000
#: The wallet the generated charges are drawn from, refilled before a charge could exceed it.
WALLET_MICROS = 10**15
#: The largest generated cost (10^8 USD): far past any float's exact integer range once multiplied.
MAX_COST_MICROS = 10**14
#: Costs whose exact results sit on or next to an integer: where float arithmetic goes wrong.
EDGE_COSTS = (0, 1, 3, 7, 30, 99, 100, 101, 9_999, 10_000, 123_456_789, 10**12 + 1, MAX_COST_MICROS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Clamp:
    """The target's margin clamp and default, as its money shows them (None: not derivable)."""

    min_bps: int | None
    max_bps: int | None
    default_bps: int | None
    evidence: str

    def effective(self, requested: int | None) -> int:
        """The margin the contract says applies to `requested` (None: the default)."""
        assert self.min_bps is not None and self.max_bps is not None
        assert self.default_bps is not None
        margin = self.default_bps if requested is None else requested
        return max(self.min_bps, min(self.max_bps, margin))


def _charge(api: Api, account: str, cost: int, margin: int | None) -> tuple[Any, str]:
    """Record an outcome of `cost` and charge it at `margin`; the ChargeResult and the inference id."""
    inference = unique("inf")
    recorded = api.call(
        "POST",
        "/v1/outcomes",
        json_body={"inference_id": inference, "account_id": account, "cost_micros": cost},
    )
    api.expect(recorded, 201, MoneyMathFailure, "an outcome is recorded")
    body: dict[str, Any] = {"inference_id": inference}
    if margin is not None:
        body["margin_bps"] = margin
    result = api.expect(
        api.call("POST", "/v1/charges", json_body=body), 200, MoneyMathFailure, "the charge"
    )
    return result, inference


@pytest.fixture(scope="module")
def clamp(target: Target, payments_options: PaymentsOptions) -> Clamp:
    """Read the clamp from the debits of three probe charges (below, above, default).

    A probe the target gets wrong is not raised here but kept as evidence: each test then fails with it
    (a failure of the target, not an error of the suite)."""
    require_live(target)
    found: dict[str, int | None] = {"min": None, "max": None, "default": None}
    notes = []
    with Api(target, seed=payments_options.seed) as api:
        # a cost whose 1 bp is one whole unit of the target's money: 1 USD in micro-USD, 100 USD in cents
        probe = max(PROBE_COST_MICROS, 10_000 * api.grain().step_micros)
        try:
            account = api.funded_account(10 * probe * 200)
            for name, margin in (("min", -EXTREME_BPS), ("max", EXTREME_BPS), ("default", None)):
                result, _ = _charge(api, account, probe, margin)
                debit = api.entries(account, limit=1)[0]
                markup = int(debit["amount_micros"]) - probe
                found[name] = markup * 10_000 // probe if markup * 10_000 % probe == 0 else None
                notes.append(
                    f"{name}: margin {margin} → debit {debit['amount_micros']}, "
                    f"recorded margin {result.get('margin_bps')}"
                )
        except MoneyMathFailure as failure:
            notes.append(
                f"a probe charge went wrong: {failure.observed} (expected {failure.expected})"
            )
    return Clamp(
        min_bps=found["min"],
        max_bps=found["max"],
        default_bps=found["default"],
        evidence="; ".join(notes),
    )


def _require_clamp(api: Api, clamp: Clamp) -> None:
    if None in (clamp.min_bps, clamp.max_bps, clamp.default_bps):
        api.fail(
            MoneyMathFailure,
            observed=f"probe charges of a 1 USD cost at margins -10^6, 10^6 and the default: {clamp.evidence}",
            expected="debit = 1_000_000 + 100 * effective margin (bps), exactly",
        )


def _check_charge(
    api: Api, clamp: Clamp, cost: int, margin: int | None, result: dict[str, Any], debit: Any
) -> None:
    """One first charge of an inference against the contract: amount, record, ledger entry, and not
    answered as a replay (`replayed` false, a zero cost included)."""
    where = f"cost {cost} micros at requested margin {margin} bps (clamp {clamp.min_bps}..{clamp.max_bps})"
    if result.get("replayed") is not False:
        api.fail(
            MoneyMathFailure,
            observed=f"{where}: the first charge of its inference answered replayed "
            f"{result.get('replayed')!r}",
            expected="replayed false: only a repeat of a charge is a replay",
        )
    if cost == 0:
        if result.get("status") != "skipped_zero_cost" or result.get("charged_micros") != 0:
            api.fail(
                MoneyMathFailure,
                observed=f"{where}: {result}",
                expected="status skipped_zero_cost with charged_micros 0",
            )
        if result.get("ledger_entry_id") is not None or debit is not None:
            api.fail(
                MoneyMathFailure,
                observed=f"{where}: a ledger entry was written ({debit or result.get('ledger_entry_id')})",
                expected="a zero cost writes no ledger entry (every ledger amount is > 0)",
            )
        return
    effective = clamp.effective(margin)
    expected = api.grain().charge(cost, effective)
    charged = result.get("charged_micros")
    if charged != expected:
        api.fail(
            MoneyMathFailure,
            observed=f"{where}: charged_micros {charged}",
            expected=(
                f"{cost} + ceil({cost} * {effective} / 10000) = {expected} micros, exactly"
                + _in_unit(api.grain())
            ),
        )
    if result.get("margin_bps") != effective or result.get("margin_bps_requested") != margin:
        api.fail(
            MoneyMathFailure,
            observed=(
                f"{where}: recorded margin_bps {result.get('margin_bps')}, "
                f"margin_bps_requested {result.get('margin_bps_requested')}"
            ),
            expected=f"the effective margin {effective} recorded, the request {margin} echoed",
        )
    if debit is None or debit.get("kind") != "debit" or debit.get("amount_micros") != expected:
        api.fail(
            MoneyMathFailure,
            observed=f"{where}: newest ledger entry {debit}",
            expected=f"one debit of exactly {expected} micros (the money moved equals the record)",
        )
    if expected < cost:
        api.fail(
            MoneyMathFailure,
            observed=f"{where}: charged {expected} < cost {cost}",
            expected="a charge is never below cost",
        )


def _in_unit(grain: Grain) -> str:
    if grain.step_micros == 1:
        return ""
    return f" (the markup rounded up to the target's unit of {grain.step_micros} micros)"


class _Wallet:
    """A big wallet whose newest ledger entry and balance are tracked between generated charges."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.full = api.grain().amount(WALLET_MICROS)
        #: the largest cost drawn: a quarter of the wallet keeps any clamped charge fundable
        self.top_cost = api.grain().amount(min(MAX_COST_MICROS, self.full // 4))
        self.account = api.funded_account(self.full)
        self.balance = self.full
        self.newest = self._newest_id()

    def _newest_id(self) -> int | None:
        entries = self.api.entries(self.account, limit=1)
        return int(entries[0]["id"]) if entries else None

    def charge(self, cost: int, margin: int | None, needed: int) -> tuple[dict[str, Any], Any]:
        """Charge one outcome; the ChargeResult and the entry it wrote (None: no new entry)."""
        if self.balance < needed:
            self.api.set_balance(self.account, self.full)
            self.balance, self.newest = self.full, self._newest_id()
        result, _ = _charge(self.api, self.account, cost, margin)
        entries = self.api.entries(self.account, limit=1)
        debit = entries[0] if entries and entries[0]["id"] != self.newest else None
        if debit is not None:
            self.newest = int(debit["id"])
        self.balance = int(result.get("balance_micros", self.balance))
        return dict(result), debit


def _settings(options: PaymentsOptions, factor: int) -> settings:
    # no shrinking: every shrink step is a round trip to the target; the failing example is printed as found
    return settings(
        max_examples=max(2, options.examples * factor),
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        report_multiple_bugs=False,
    )


def _margins(clamp: Clamp) -> st.SearchStrategy[int | None]:
    assert clamp.min_bps is not None and clamp.max_bps is not None
    edges = sorted(
        {clamp.min_bps - 1, clamp.min_bps, clamp.max_bps, clamp.max_bps + 1, -1, 0, 1, 1_000, 1_234}
    )
    return st.one_of(
        st.none(),
        st.sampled_from([m for m in edges if -EXTREME_BPS <= m <= EXTREME_BPS]),
        st.integers(-EXTREME_BPS, EXTREME_BPS),
        st.integers(clamp.min_bps, clamp.max_bps),
    )


def _costs(grain: Grain, top_cost: int) -> st.SearchStrategy[int]:
    """Edge and drawn costs in whole units of the target's money, up to `top_cost`."""
    step = grain.step_micros
    edges = [c * step for c in EDGE_COSTS if c * step <= top_cost]
    return st.one_of(
        st.sampled_from(edges), st.integers(0, top_cost // step).map(lambda n: n * step)
    )


@pytest.mark.parametrize("margin", [None, -EXTREME_BPS, 0, EXTREME_BPS])
def test_a_zero_cost_writes_nothing(api: Api, clamp: Clamp, margin: int | None) -> None:
    """Zero cost at any margin: skipped_zero_cost, charged 0, no ledger entry, balance unchanged."""
    wallet = _Wallet(api)
    result, debit = wallet.charge(0, margin, 0)
    _check_charge(api, clamp, 0, margin, result, debit)
    if api.account(wallet.account)["balance_micros"] != wallet.full:
        api.fail(
            MoneyMathFailure,
            observed=f"balance {api.account(wallet.account)['balance_micros']} after a zero-cost charge",
            expected=f"balance unchanged at {wallet.full}",
        )


def test_the_clamp_never_lets_a_charge_fall_below_cost(api: Api, clamp: Clamp) -> None:
    """The lowest margin a target applies is ≥ 0, and the default lies inside the clamp."""
    _require_clamp(api, clamp)
    assert clamp.min_bps is not None and clamp.max_bps is not None
    assert clamp.default_bps is not None
    if clamp.min_bps < 0 or not clamp.min_bps <= clamp.default_bps <= clamp.max_bps:
        api.fail(
            MoneyMathFailure,
            observed=f"effective margins from the debits: {clamp.evidence}",
            expected="0 ≤ min margin ≤ default margin ≤ max margin (a charge is never below cost)",
        )


def test_the_recorded_margin_is_the_effective_one_at_both_ends(api: Api, clamp: Clamp) -> None:
    """A margin under the clamp records the minimum, over it the maximum: the record matches the money."""
    _require_clamp(api, clamp)
    wallet = _Wallet(api)
    probe = max(PROBE_COST_MICROS, 10_000 * api.grain().step_micros)
    for margin in (-EXTREME_BPS, EXTREME_BPS, None):
        result, debit = wallet.charge(probe, margin, 3 * probe)
        _check_charge(api, clamp, probe, margin, result, debit)


def test_the_debit_is_the_contract_formula_in_integer_micros(
    api: Api, clamp: Clamp, payments_options: PaymentsOptions
) -> None:
    """Generated costs and margins: charged, recorded margin and ledger debit all equal the formula."""
    _require_clamp(api, clamp)
    assert clamp.max_bps is not None
    wallet = _Wallet(api)
    top = max(clamp.max_bps, 0)
    step = api.grain().step_micros

    @_settings(payments_options, 4)
    @seed(payments_options.seed)
    @given(cost=_costs(api.grain(), wallet.top_cost), margin=_margins(clamp))
    # exact results a float factor misses (100 * 1.1 = 110.00000000000001), and a large odd cost
    @example(cost=100 * step, margin=1_000)
    @example(cost=30 * step, margin=1_000)
    @example(cost=wallet.top_cost - 3 * step, margin=1_234)
    def check(cost: int, margin: int | None) -> None:
        result, debit = wallet.charge(cost, margin, api.grain().charge(cost, top))
        _check_charge(api, clamp, cost, margin, result, debit)

    check()


def test_charging_is_monotonic_in_cost(
    api: Api, clamp: Clamp, payments_options: PaymentsOptions
) -> None:
    """At one margin, a larger cost is never charged less than a smaller one."""
    _require_clamp(api, clamp)
    assert clamp.max_bps is not None
    wallet = _Wallet(api)
    top = max(clamp.max_bps, 0)
    step = api.grain().step_micros

    @_settings(payments_options, 2)
    @seed(payments_options.seed + 1)
    @given(
        low=_costs(api.grain(), wallet.top_cost),
        extra=st.integers(0, 10**6),
        margin=_margins(clamp),
    )
    def check(low: int, extra: int, margin: int | None) -> None:
        high = min(low + extra * step, wallet.top_cost)
        first, _ = wallet.charge(low, margin, api.grain().charge(low, top))
        second, _ = wallet.charge(high, margin, api.grain().charge(high, top))
        if int(second.get("charged_micros", 0)) < int(first.get("charged_micros", 0)):
            api.fail(
                MoneyMathFailure,
                observed=(
                    f"cost {low} charged {first.get('charged_micros')} but the larger cost {high} "
                    f"charged {second.get('charged_micros')} (margin {margin})"
                ),
                expected="charging is monotonic in cost",
            )

    check()
