"""Money rules: integer micro-USD everywhere; Decimal only at parse edges; never float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = [
    "MICROS_PER_CENT",
    "MICROS_PER_USD",
    "CustomerCharge",
    "clamp_margin",
    "compute_customer_charge",
    "decimal_to_micros",
    "micros_to_decimal_text",
]

MICROS_PER_USD = 1_000_000
MICROS_PER_CENT = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerCharge:
    """What a customer pays for a provider cost, with the margin actually applied."""

    cost_micros: int
    margin_bps: int
    charged_micros: int


def clamp_margin(margin_bps: int, *, min_bps: int, max_bps: int) -> int:
    """Clamp a requested margin into the configured range."""
    return max(min_bps, min(max_bps, margin_bps))


def compute_customer_charge(
    cost_micros: int, margin_bps: int, *, min_bps: int, max_bps: int
) -> CustomerCharge:
    """`charged = cost + ceil(cost * effective_margin / 10_000)`, all in integers.

    The effective (clamped) margin is returned so the record agrees with the money moved
    (PRIOR_ART.md section 1, defect 4).
    """
    if cost_micros < 0:
        raise ValueError("cost_micros must be >= 0")
    effective = clamp_margin(margin_bps, min_bps=min_bps, max_bps=max_bps)
    numerator = cost_micros * effective
    # ceil for non-negative numerators; for a negative margin -(-n // d) still rounds toward +inf
    markup = -((-numerator) // 10_000)
    return CustomerCharge(
        cost_micros=cost_micros, margin_bps=effective, charged_micros=cost_micros + markup
    )


def decimal_to_micros(value: str | int | Decimal, *, units_per_major: int = 1) -> int:
    """Exact conversion of a decimal amount (in major units / `units_per_major`) to micros.

    Raises ValueError when the amount has sub-micro precision or is not a finite number.
    """
    try:
        amount = Decimal(str(value)) / Decimal(units_per_major)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    micros = amount * MICROS_PER_USD
    if micros != micros.to_integral_value():
        raise ValueError(f"amount {value!r} is finer than one micro")
    return int(micros)


def micros_to_decimal_text(micros: int) -> str:
    """Plain decimal text (never exponent notation) of a micro amount in major units."""
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS_PER_USD)
    return f"{sign}{whole}.{frac:06d}"
