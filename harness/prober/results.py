"""What a probe run produces: one `LegResult` per leg, in order, gathered in a `RunReport`.

The vocabulary is PRIOR_ART.md §3 with our names: five legs in a fixed order and four results.
`degraded` means "slow but correct" or "configured off": it never pages. `misconfigured` means the run
could not do its job (a variable unset, a wrong token, a plan id the target does not know): not green.

Each result also has an *outcome*, the finer kind the metrics and alerts use (`OUTCOMES`): a failure that
let a forged or unsigned webhook in is `security`, a leg refused because the whole service is deliberately
switched off is `dormant`; otherwise the outcome is the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DORMANT_PREFIX",
    "LEG_NAMES",
    "OUTCOMES",
    "RESULTS",
    "SECURITY_PREFIX",
    "LegOutcome",
    "LegResult",
    "Outcome",
    "Result",
    "RunReport",
    "outcome_of",
]

#: The legs, in the order they run (PRIOR_ART.md §3 "in this exact order"; a test pins it).
LEG_NAMES: tuple[str, ...] = (
    "checkout_reachable",
    "billing_state",
    "invoices_reachable",
    "webhook_security",
    "upgrade_webhook_e2e",
)

Result = Literal["pass", "fail", "degraded", "misconfigured"]
RESULTS: tuple[Result, ...] = ("pass", "fail", "degraded", "misconfigured")

Outcome = Literal["pass", "degraded", "dormant", "fail", "security", "misconfigured"]
#: One per result kind: what `payment_probe_outcome_total` and `payment_probe_result` label.
OUTCOMES: tuple[Outcome, ...] = ("pass", "degraded", "dormant", "fail", "security", "misconfigured")

#: Reason prefixes that carry an outcome finer than the result.
SECURITY_PREFIX = "SECURITY:"
DORMANT_PREFIX = "dormant:"


def outcome_of(result: Result, reason: str) -> Outcome:
    """The outcome kind of a result and its reason (see the module docstring)."""
    if result == "fail" and reason.startswith(SECURITY_PREFIX):
        return "security"
    if result == "degraded" and reason.startswith(DORMANT_PREFIX):
        return "dormant"
    return result


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
    def outcome(self) -> Outcome:
        """The finer kind of this result (`security`, `dormant`, or the result itself)."""
        return outcome_of(self.result, self.reason)

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
    #: the run's one dormancy verdict: `live`, `dormant` (every refusal was "switched off" and nothing took
    #: money) or `half_switched_off` (one leg took money while another said it is switched off)
    service: str = "live"
    #: one line per test-cohort account this run could not reap, or a reap guard that did not hold
    reap_failures: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """True when at least one leg failed or a cohort account leaked (the one-shot mode exits 1)."""
        return any(r.result == "fail" for r in self.legs) or bool(self.reap_failures)

    @property
    def misconfigured(self) -> bool:
        """True when a leg could not do its job for lack of (right) configuration."""
        return any(r.result == "misconfigured" for r in self.legs)

    def count(self, result: Result) -> int:
        """How many legs ended with `result`."""
        return sum(1 for r in self.legs if r.result == result)

    def by_leg(self) -> dict[str, LegResult]:
        """The results keyed by leg name."""
        return {r.leg: r for r in self.legs}
