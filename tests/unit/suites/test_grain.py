"""The money grain a target declares: the contract's formula in micro-USD, or in the target's own unit."""

from __future__ import annotations

from harness.suites._support import Grain, grain_of


def test_without_a_declared_grain_a_charge_is_the_contracts_formula_in_micros() -> None:
    grain = grain_of({"live": True, "rails": {}})
    assert grain == Grain()
    assert [grain.charge(c, m) for c, m in ((100, 1_000), (1, 1), (7, 1_429), (0, 5_000))] == [
        110,
        2,
        9,
        0,
    ]


def test_a_cents_grain_rounds_the_markup_up_to_a_whole_cent_and_caps_amounts() -> None:
    grain = grain_of({"money": {"micros_per_unit": 10_000, "max_amount_micros": 10**12}})
    # 1 cent at 1234 bps: 1 + ceil(0.1234) = 2 cents; the contract's micros would give 11,234
    assert grain.charge(10_000, 1_234) == 20_000
    assert grain.charge(3_330_000, 5_000) == 5_000_000
    assert (grain.cap(10**15), grain.amount(12_345)) == (10**12, 10_000)


def test_a_cents_grain_rounds_a_small_amount_up_to_a_unit_and_declares_the_smallest_top_up() -> (
    None
):
    grain = grain_of({"money": {"micros_per_unit": 10_000, "min_topup_micros": 1_000_000}})
    assert [grain.up(m) for m in (0, 1, 10_000, 10_001)] == [0, 10_000, 10_000, 20_000]
    assert (grain.min_topup_micros, Grain().up(1_234), Grain().min_topup_micros) == (
        1_000_000,
        1_234,
        0,
    )
