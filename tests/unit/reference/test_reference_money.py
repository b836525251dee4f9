"""The customer charge is exact integer arithmetic: `cost + ceil(cost * margin / 10_000)`, margin clamped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.reference.money import (
    clamp_margin,
    compute_customer_charge,
    decimal_to_micros,
    micros_to_decimal_text,
)

MAX_MICROS = 10**15
costs = st.integers(min_value=0, max_value=MAX_MICROS)
margins = st.integers(min_value=-1_000_000, max_value=1_000_000)


def oracle_charge(cost: int, margin: int, lo: int, hi: int) -> tuple[int, int]:
    """A deliberately different formulation: Python integers, ceil via divmod on a positive divisor."""
    effective = lo if margin < lo else hi if margin > hi else margin
    quotient, remainder = divmod(cost * effective, 10_000)
    markup = quotient + (1 if remainder else 0)
    return effective, cost + markup


@st.composite
def margin_ranges(draw: st.DrawFn) -> tuple[int, int]:
    lo = draw(st.integers(min_value=0, max_value=50_000))
    hi = draw(st.integers(min_value=lo, max_value=100_000))
    return lo, hi


@given(cost=costs, margin=margins, bounds=margin_ranges())
def test_charge_matches_the_integer_oracle_for_any_cost_and_margin(
    cost: int, margin: int, bounds: tuple[int, int]
) -> None:
    lo, hi = bounds
    result = compute_customer_charge(cost, margin, min_bps=lo, max_bps=hi)
    assert (result.margin_bps, result.charged_micros) == oracle_charge(cost, margin, lo, hi)
    assert result.cost_micros == cost


@given(cost=costs, margin=margins, bounds=margin_ranges())
def test_charge_is_never_below_cost_and_the_recorded_margin_is_in_range(
    cost: int, margin: int, bounds: tuple[int, int]
) -> None:
    lo, hi = bounds
    result = compute_customer_charge(cost, margin, min_bps=lo, max_bps=hi)
    assert result.charged_micros >= cost
    assert lo <= result.margin_bps <= hi
    assert isinstance(result.charged_micros, int)


@given(cost=costs, a=margins, b=margins)
def test_a_higher_margin_never_charges_less(cost: int, a: int, b: int) -> None:
    low, high = sorted((a, b))
    charge_low = compute_customer_charge(cost, low, min_bps=0, max_bps=10_000)
    charge_high = compute_customer_charge(cost, high, min_bps=0, max_bps=10_000)
    assert charge_low.charged_micros <= charge_high.charged_micros


@given(a=costs, b=costs, margin=margins)
def test_a_higher_cost_never_charges_less(a: int, b: int, margin: int) -> None:
    low, high = sorted((a, b))
    charge_low = compute_customer_charge(low, margin, min_bps=0, max_bps=10_000)
    charge_high = compute_customer_charge(high, margin, min_bps=0, max_bps=10_000)
    assert charge_low.charged_micros <= charge_high.charged_micros


@pytest.mark.parametrize(
    ("cost", "margin", "charged"),
    [
        (1, 1, 2),  # the smallest markup still rounds up to one micro
        (10_000, 2_000, 12_000),
        (3, 3_333, 4),  # 3 * 3333 / 10000 = 0.9999 -> 1
        (9_999, 1, 10_000),
        (10**15, 10_000, 2 * 10**15),
        (123_456_789, 2_500, 154_320_987),  # 30_864_197.25 rounds up
    ],
)
def test_known_charges_are_exact(cost: int, margin: int, charged: int) -> None:
    assert (
        compute_customer_charge(cost, margin, min_bps=0, max_bps=10_000).charged_micros == charged
    )


def test_zero_cost_charges_nothing_whatever_the_margin() -> None:
    result = compute_customer_charge(0, 10_000, min_bps=0, max_bps=10_000)
    assert result.charged_micros == 0


def test_negative_margin_is_clamped_up_to_the_minimum_and_recorded_as_such() -> None:
    result = compute_customer_charge(1_000, -500, min_bps=100, max_bps=10_000)
    assert result.margin_bps == 100
    assert result.charged_micros == 1_010


def test_margin_above_the_maximum_is_clamped_down_and_recorded_as_such() -> None:
    result = compute_customer_charge(1_000, 50_000, min_bps=0, max_bps=3_000)
    assert result.margin_bps == 3_000
    assert result.charged_micros == 1_300


def test_negative_cost_is_refused() -> None:
    with pytest.raises(ValueError):
        compute_customer_charge(-1, 0, min_bps=0, max_bps=10_000)


def test_clamp_keeps_a_margin_inside_the_range_unchanged() -> None:
    assert clamp_margin(2_500, min_bps=0, max_bps=10_000) == 2_500


@pytest.mark.parametrize(
    ("text", "micros"),
    [("1", 1_000_000), ("0.000001", 1), ("20.5", 20_500_000), ("-3.25", -3_250_000)],
)
def test_decimal_amounts_convert_to_micros_exactly(text: str, micros: int) -> None:
    assert decimal_to_micros(text) == micros


@pytest.mark.parametrize("text", ["0.0000001", "NaN", "Infinity", "abc", ""])
def test_amounts_finer_than_a_micro_or_not_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        decimal_to_micros(text)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_micros_round_trip_through_plain_decimal_text(micros: int) -> None:
    text = micros_to_decimal_text(micros)
    assert "e" not in text.lower()
    assert decimal_to_micros(text) == micros
