"""What a coupon takes off an invoice's lines (:mod:`fakes.stripe.discounts`), over generated amounts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from fakes.stripe.discounts import line_discounts, split_discounts

amounts = st.lists(st.integers(min_value=-50_000, max_value=1_000_000), min_size=1, max_size=8)
percents = st.decimals(min_value="0.01", max_value=100, places=2)


def _percent(value: Decimal) -> dict[str, object]:
    return {"percent_off": float(value), "amount_off": None}


def _amount(value: int) -> dict[str, object]:
    return {"percent_off": None, "amount_off": value}


@given(amounts, percents)
def test_a_percent_off_takes_its_rounded_share_of_each_positive_line(
    lines: list[int], percent: Decimal
) -> None:
    taken = line_discounts(lines, _percent(percent))
    expected = [
        int((Decimal(max(a, 0)) * Decimal(str(float(percent))) / 100).quantize(1, ROUND_HALF_UP))
        for a in lines
    ]
    assert taken == expected
    assert all(0 <= off <= max(line, 0) for off, line in zip(taken, lines, strict=True))


@given(amounts, st.integers(min_value=1, max_value=2_000_000))
def test_an_amount_off_is_split_exactly_and_never_exceeds_the_lines(
    lines: list[int], amount_off: int
) -> None:
    taken = line_discounts(lines, _amount(amount_off))
    positive = sum(max(line, 0) for line in lines)
    assert sum(taken) == min(amount_off, positive)
    assert all(0 <= off <= max(line, 0) for off, line in zip(taken, lines, strict=True))


@given(amounts, percents, st.integers(min_value=1, max_value=2_000_000))
def test_stacked_discounts_never_take_more_than_the_lines_hold(
    lines: list[int], percent: Decimal, amount_off: int
) -> None:
    first, second = split_discounts(lines, [_percent(percent), _amount(amount_off)])
    for line, a, b in zip(lines, first, second, strict=True):
        assert 0 <= a + b <= max(line, 0)
    left = sum(max(line, 0) for line in lines) - sum(first)
    assert sum(second) == min(amount_off, left)


def test_a_split_amount_off_gives_the_leftover_cents_to_the_largest_remainders() -> None:
    assert line_discounts([100, 100, 100], _amount(100)) == [34, 33, 33]
    assert line_discounts([1_500, 1_000], _amount(5_000)) == [1_500, 1_000]
    assert line_discounts([-300, 999], _percent(Decimal("12.5"))) == [0, 125]
