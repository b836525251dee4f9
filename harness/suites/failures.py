"""Failures of the behaviour suites: the target is wrong (an `AssertionError`), never "the tool broke".

STYLE.md habit 4: a suite that finds the target wrong raises one of these. The message always has the same
four parts, so a person reading a CI log knows at once what happened and how to see it again::

    [tier_not_flipped] observed: webhook answered 200 but plan_tier is still 'free'
    expected: plan_tier 'pro' after the processor charged the subscription (billing state is the truth)
    reproduce:
      POST /v1/billing/checkout {"account_id": "acct_1", "plan": "pro", "rail": "stripe"}
      POST <stripe fake>/_fake/checkout/sessions/cs_1/complete
    event ids: evt_1, evt_2
    seed: 1234

Each class carries a stable snake_case `code` a user can grep for and a test can pin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

__all__ = [
    "ErrorCodeFailure",
    "IdempotencyFailure",
    "InertnessFailure",
    "MoneyMathFailure",
    "ReapFailure",
    "SettleFailure",
    "SuiteFailure",
    "TierFlipFailure",
    "WebhookSecurityFailure",
]


class SuiteFailure(AssertionError):
    """The target behaved wrongly: what was observed, what was expected, how to reproduce it."""

    code: ClassVar[str] = "suite_failure"

    def __init__(
        self,
        *,
        observed: str,
        expected: str,
        reproduce: Sequence[str] = (),
        event_ids: Sequence[str] = (),
        seed: int | None = None,
    ) -> None:
        self.observed = observed
        self.expected = expected
        self.reproduce = tuple(reproduce)
        self.event_ids = tuple(event_ids)
        self.seed = seed
        lines = [f"[{self.code}] observed: {observed}", f"expected: {expected}"]
        if self.reproduce:
            lines.append("reproduce:")
            lines += [f"  {step}" for step in self.reproduce]
        if self.event_ids:
            lines.append(f"event ids: {', '.join(self.event_ids)}")
        if seed is not None:
            lines.append(f"seed: {seed}")
        super().__init__("\n".join(lines))


class InertnessFailure(SuiteFailure):
    """A dormant target did something: a processor call, a ledger write, a settle, a changed tier."""

    code = "not_inert"


class ErrorCodeFailure(SuiteFailure):
    """An error code that lies about the target's state or checks things in the wrong order."""

    code = "wrong_error_code"


class MoneyMathFailure(SuiteFailure):
    """A charge that is not the contract's formula in integer minor units, or a record that disagrees."""

    code = "wrong_amount"


class IdempotencyFailure(SuiteFailure):
    """Money or processor objects created more than once (or not at all) for one logical operation."""

    code = "not_exactly_once"


class SettleFailure(SuiteFailure):
    """A paid request that did not settle exactly once, after the route, for what it spent."""

    code = "wrong_settle"


class TierFlipFailure(SuiteFailure):
    """A paid subscription whose plan tier (the truth surface) did not end where it should."""

    code = "tier_not_flipped"


class WebhookSecurityFailure(SuiteFailure):
    """An unsigned or wrongly signed webhook that was not refused, or that changed state."""

    code = "unsigned_webhook_accepted"


class ReapFailure(SuiteFailure):
    """A test-cohort account that could not be reaped, or a real account that could be."""

    code = "cohort_reap_wrong"
