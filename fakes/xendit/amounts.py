"""Xendit amounts: JSON numbers in whole currency units on the wire, integer minor units inside the fake.

Xendit sends and accepts amounts as JSON numbers of the currency's major unit (``"amount": 8500000`` IDR,
``10.5`` USD; SDK type ``float``; PROCESSORS.md 2.4). The fake keeps them as ``int`` minor units so no
float ever touches money: IDR and VND have no minor unit in practice (exponent 0), the others have two.
Request bodies must be parsed with ``json.loads(..., parse_float=Decimal)`` so ``10.07`` stays exact.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from fakes.xendit.errors import XenditApiError, validation_error

__all__ = ["CURRENCY_EXPONENTS", "MAX_AMOUNT_MAJOR", "check_amount", "from_minor", "to_minor"]

#: Minor-unit exponent of each invoice currency xendit-python knows (``InvoiceCurrency``).
CURRENCY_EXPONENTS: dict[str, int] = {"IDR": 0, "VND": 0, "USD": 2, "PHP": 2, "THB": 2, "MYR": 2}

#: The largest amount, in major units, the fake accepts. Xendit's real limits vary by channel and are
#: UNVERIFIED; this ceiling keeps absurd amounts out and uses the SDK's MAXIMUM_TRANSFER_AMOUNT_ERROR.
MAX_AMOUNT_MAJOR = 10**12


def to_minor(value: object, currency: str) -> int:
    """Convert a JSON amount (int or Decimal) of ``currency`` to integer minor units.

    IDR/VND amounts with decimals are truncated, as Xendit does (PROCESSORS.md 2.3 ``POST /v2/invoices``);
    a two-decimal currency with more decimals than that is refused. Raises ``ValueError`` with a message
    naming the problem.
    """
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError("amount must be a number")
    exponent = CURRENCY_EXPONENTS[currency]
    scaled = Decimal(value).scaleb(exponent)
    if not scaled.is_finite():
        raise ValueError("amount must be a finite number")
    if exponent == 0:
        scaled = scaled.to_integral_value(rounding=ROUND_DOWN)
    elif scaled != scaled.to_integral_value():
        raise ValueError(f"{currency} amounts have at most {exponent} decimals")
    return int(scaled)


def check_amount(amount_minor: int, currency: str) -> None:
    """Refuse a non-positive amount (400 ``API_VALIDATION_ERROR``) or one above
    :data:`MAX_AMOUNT_MAJOR` (400 ``MAXIMUM_TRANSFER_AMOUNT_ERROR``)."""
    if amount_minor <= 0:
        raise validation_error('"amount" must be greater than 0')
    if amount_minor > MAX_AMOUNT_MAJOR * 10 ** CURRENCY_EXPONENTS[currency]:
        raise XenditApiError(
            400, "MAXIMUM_TRANSFER_AMOUNT_ERROR", f'"amount" is above {MAX_AMOUNT_MAJOR} {currency}'
        )


def from_minor(amount_minor: int, currency: str) -> int | float:
    """Convert integer minor units back to the JSON number Xendit would send."""
    exponent = CURRENCY_EXPONENTS[currency]
    scale: int = 10**exponent
    whole, rest = divmod(amount_minor, scale)
    if rest == 0:
        return whole
    # Only reached for two-decimal currencies; float(Decimal) of two decimals prints exactly.
    return float(Decimal(amount_minor).scaleb(-exponent))
