"""The fake account's balances per account type and currency, in integer minor units."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from fakes.xendit.errors import XenditApiError

__all__ = ["ACCOUNT_TYPES", "Balances"]

#: ``GET /balance`` account types (xendit-python ``BalanceApi``: CASH, HOLDING, TAX; PROCESSORS.md 2.3).
ACCOUNT_TYPES = ("CASH", "HOLDING", "TAX")


class Balances:
    """Thread-safe balances keyed by ``(account_type, currency)``; unknown pairs are zero."""

    def __init__(self, initial_cash: Iterable[tuple[str, int]] = ()) -> None:
        self._initial = tuple(initial_cash)
        self._lock = threading.Lock()
        self._amounts: dict[tuple[str, str], int] = {}
        self.reset()

    def reset(self) -> None:
        """Restore the configured starting CASH balances."""
        with self._lock:
            self._amounts = {("CASH", currency): amount for currency, amount in self._initial}

    def get(self, account_type: str, currency: str) -> int:
        """The balance in minor units."""
        with self._lock:
            return self._amounts.get((account_type, currency), 0)

    def credit(self, account_type: str, currency: str, amount_minor: int) -> int:
        """Add ``amount_minor`` (> 0) and return the new balance."""
        if amount_minor <= 0:
            raise ValueError(f"amount_minor must be > 0, got {amount_minor}")
        with self._lock:
            key = (account_type, currency)
            self._amounts[key] = self._amounts.get(key, 0) + amount_minor
            return self._amounts[key]

    def debit(self, account_type: str, currency: str, amount_minor: int) -> int:
        """Take ``amount_minor`` (> 0) and return the new balance; 400 ``INSUFFICIENT_BALANCE``
        (xendit-python's error enum) when the balance does not cover it."""
        if amount_minor <= 0:
            raise ValueError(f"amount_minor must be > 0, got {amount_minor}")
        with self._lock:
            key = (account_type, currency)
            held = self._amounts.get(key, 0)
            if held < amount_minor:
                raise XenditApiError(
                    400,
                    "INSUFFICIENT_BALANCE",
                    f"the {account_type} {currency} balance {held} (minor units) does not cover "
                    f"{amount_minor}",
                )
            self._amounts[key] = held - amount_minor
            return self._amounts[key]

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Every non-zero balance as ``{account_type: {currency: amount_minor}}``."""
        with self._lock:
            result: dict[str, dict[str, int]] = {}
            for (account_type, currency), amount in sorted(self._amounts.items()):
                result.setdefault(account_type, {})[currency] = amount
            return result
