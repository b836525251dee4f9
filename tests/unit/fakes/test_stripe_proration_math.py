"""The proration arithmetic of the fake Stripe (:mod:`fakes.stripe.prorations`), without a server."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from fakes.stripe.prorations import prorate


def test_a_third_of_a_period_is_rounded_half_up_to_the_minor_unit() -> None:
    assert prorate(1_000, 1, 3) == 333
    assert prorate(1_000, 2, 3) == 667
    assert prorate(3, 1, 2) == 2  # 1.5 rounds up, as 0.5 does
    assert prorate(1, 1, 2) == 1


def test_nothing_is_owed_for_no_time_left_and_never_more_than_the_whole_period() -> None:
    assert prorate(1_000, 0, 30) == 0
    assert prorate(1_000, -5, 30) == 0
    assert prorate(1_000, 45, 30) == 1_000


@given(
    amount=st.integers(min_value=0, max_value=10**9),
    period=st.integers(min_value=1, max_value=400 * 86_400),
    data=st.data(),
)
def test_the_rounding_is_within_half_a_minor_unit_of_the_exact_share(
    amount: int, period: int, data: st.DataObject
) -> None:
    remaining = data.draw(st.integers(min_value=0, max_value=period))
    exact = Fraction(amount * remaining, period)
    assert abs(prorate(amount, remaining, period) - exact) <= Fraction(1, 2)
