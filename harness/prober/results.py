"""What a probe run produces: one `LegResult` per leg, in order, gathered in a `RunReport`.

The vocabulary is PRIOR_ART.md §3 with our names: five legs in a fixed order and three results.
`degraded` means "slow but correct" or "configured off": it never pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "LEG_NAMES",
    "RESULTS",
    "LegOutcome",
    "LegResult",
    "Result",
    "RunReport",
]

#: The legs, in the order they run (PRIOR_ART.md §3 "in this exact order"; a test pins it).
LEG_NAMES: tuple[str, ...] = (
    "checkout_reachable",
    "billing_state",
    "invoices_reachable",
    "webhook_security",
    "upgrade_webhook_e2e",
)

Result = Literal["pass", "fail", "degraded"]
RESULTS: tuple[Result, ...] = ("pass", "fail", "degraded")


@dataclass(frozen=True, slots=True, kw_only=True)
class LegOutcome:
    """What a leg decided, before the runner applies its budget.

    `http_status` is the status of the answer the verdict rests on (None when nothing answered or nothing
    was sent). `details` holds non-secret facts a reader may want (the cohort account id, whether it was
    reaped).
    """

    result: Result
    reason: str
    http_status: int | None = None
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class LegResult:
    """A leg's final verdict in one run.

    `latency_seconds` is how long the leg took by the prober's clock; `observed` says whether that latency
    went to the histogram (only when a real answer came back: PRIOR_ART.md §3, "observed only when a real
    response ... happened").
    """

    leg: str
    result: Result
    reason: str
    http_status: int | None
    latency_seconds: float
    budget_seconds: float
    observed: bool
    details: Mapping[str, str] = field(default_factory=dict)

    @property
    def latency_ms(self) -> int:
        """The latency in whole milliseconds, as logs and the audit trail report it."""
        return round(self.latency_seconds * 1000)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """One run of every leg against one target."""

    run_id: str
    target: str
    profile: str
    started_at: float
    duration_seconds: float
    legs: tuple[LegResult, ...]

    @property
    def failed(self) -> bool:
        """True when at least one leg failed (the one-shot mode then exits 1)."""
        return any(r.result == "fail" for r in self.legs)

    def count(self, result: Result) -> int:
        """How many legs ended with `result`."""
        return sum(1 for r in self.legs if r.result == result)

    def by_leg(self) -> dict[str, LegResult]:
        """The results keyed by leg name."""
        return {r.leg: r for r in self.legs}
