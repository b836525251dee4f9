"""What the adapter remembers between two contract calls that the service has no place for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["AdapterState"]


@dataclass(slots=True)
class AdapterState:
    """The contract's two-step charge (outcome, then charge) and cohort flags, per adapter instance."""

    #: inference id → (account id, cost in micro-USD): the contract records a cost before charging it
    outcomes: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: account id → whether the contract asked for a test-cohort account
    cohort: dict[str, bool] = field(default_factory=dict)
    #: inference id → the margin its first charge asked for (a replay answers with it)
    requested: dict[str, Any] = field(default_factory=dict)
    #: the harness's admin secret (ADMIN_SECRET): the admin route refuses a request without it
    admin_secret: str = ""
