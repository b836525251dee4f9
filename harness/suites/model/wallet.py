"""A wallet as the contract defines it: an append-only ledger of positive amounts, a balance that is its sum.

DESIGN.md, "Money": every ledger amount is > 0 with a `kind` (credit, debit, adjustment) and a direction;
`balance == sum(ledger)` at every commit; `lifetime_paid_micros` rises only with money received from a
processor (a credit), never with an admin adjustment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PLAN_RANK", "Entry", "Wallet"]

#: Plans by rank: the tier is the best plan among the account's active subscriptions.
PLAN_RANK = {"free": 0, "pro": 1, "team": 2}


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry, as `GET /v1/accounts/{id}/ledger` shows it (kind, direction, amount)."""

    kind: str
    direction: int
    amount_micros: int

    @property
    def signed_micros(self) -> int:
        """The entry's effect on the balance."""
        return self.direction * self.amount_micros


@dataclass(slots=True)
class Wallet:
    """One account's money and plan, as the model predicts them."""

    account_id: str
    entries: list[Entry] = field(default_factory=list)
    lifetime_paid_micros: int = 0
    #: subscription key → (plan, active)
    plans: dict[str, tuple[str, bool]] = field(default_factory=dict)

    @property
    def balance_micros(self) -> int:
        """The sum of the ledger (the contract's invariant, so the model has no second copy)."""
        return sum(e.signed_micros for e in self.entries)

    @property
    def plan_tier(self) -> str:
        """The best plan among active subscriptions, `free` without one (independent of event order)."""
        active = [plan for plan, on in self.plans.values() if on]
        return max(active, key=lambda p: PLAN_RANK[p], default="free")

    def credit(self, amount_micros: int) -> None:
        """Money received from a processor: a credit entry, and lifetime paid rises."""
        self._post("credit", 1, amount_micros)
        self.lifetime_paid_micros += amount_micros

    def debit(self, amount_micros: int) -> None:
        """A charge or a settled session: a debit entry (nothing for zero)."""
        if amount_micros:
            self._post("debit", -1, amount_micros)

    def set_balance(self, balance_micros: int) -> None:
        """An admin adjustment to an absolute balance: one adjustment entry for the difference, if any."""
        delta = balance_micros - self.balance_micros
        if delta:
            self._post("adjustment", 1 if delta > 0 else -1, abs(delta))

    def _post(self, kind: str, direction: int, amount_micros: int) -> None:
        if amount_micros <= 0:
            raise ValueError("ledger amounts are strictly positive")
        self.entries.append(Entry(kind, direction, amount_micros))
