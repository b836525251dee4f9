"""How the behaviour suites' generated checks run: the run's seed, its examples, no example database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, seed, settings

from harness.suites.plugin import PaymentsOptions

__all__ = ["generated"]

F = TypeVar("F", bound=Callable[..., Any])


def generated(
    options: PaymentsOptions, *, at_least: int = 2, per_example: int = 1
) -> Callable[[F], F]:
    """Hypothesis settings for a check against a live target: `per_example` x `--payments-examples`
    examples (at least `at_least`), seeded with `--payments-seed`, no deadline (each example is HTTP
    round trips), nothing written to the working directory, one failure reported (the shrunk one)."""

    def apply(test: F) -> F:
        configured = settings(
            max_examples=max(at_least, per_example * options.examples),
            deadline=None,
            database=None,
            phases=(Phase.explicit, Phase.generate),
            report_multiple_bugs=False,
            suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
        )(test)
        return seed(options.seed)(configured)  # type: ignore[no-any-return]

    return apply
