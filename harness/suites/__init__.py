"""The gate's suites, as a pytest plugin package: ``pytest --pyargs harness.suites --payments-target URL``.

Each suite is a `test_<name>.py` module here, black-box: it reaches the payments service through the
`target` fixture (:class:`harness.target.Target`) and never imports `harness.reference`. The options and
fixtures come from :mod:`harness.suites.plugin` (a ``pytest11`` entry point named ``payharness``).
"""

from __future__ import annotations

__all__ = ["SUITES", "suite_module"]

#: Suite name → module in this package, in the order the gate runs them.
SUITES: dict[str, str] = {
    "inertness": "harness.suites.test_inertness",
    "margin-math": "harness.suites.test_margin_math",
    "idempotency": "harness.suites.test_idempotency",
    "close-time-settle": "harness.suites.test_close_time_settle",
    "upgrade-tier-flip": "harness.suites.test_upgrade_tier_flip",
    "authenticity": "harness.suites.test_authenticity",
    "events": "harness.suites.test_events",
    "limits": "harness.suites.test_limits",
    "stateful": "harness.suites.test_stateful",
    "contract": "harness.suites.test_contract",
}


def suite_module(name: str) -> str:
    """The module of a suite, or `KeyError` listing the known suites."""
    try:
        return SUITES[name]
    except KeyError:
        raise KeyError(f"unknown suite {name!r}; known: {', '.join(SUITES)}") from None
