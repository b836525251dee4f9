"""The behaviour suites against the clean reference served dormant at a URL. Live, the same suites run
through `payharness gate` itself: in process in tests/e2e/test_gate_cli.py (nothing may be not applicable
or not run) and at a URL in tests/e2e/test_readme_recipe.py (only what a running service cannot be rebuilt
with may be not applicable)."""

from __future__ import annotations

from pathlib import Path

import pytest
from suite_runs import SuiteRun, run_suites, served_reference


@pytest.fixture(scope="module")
def dormant_at_a_url(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """The inertness and close-time-settle suites against a reference served at a URL with payments off."""
    workdir: Path = tmp_path_factory.mktemp("dormant-url")
    with served_reference(workdir, live_flag="off") as (url, fakes):
        extra = ["--payments-target", url]
        for rail, fake_url in sorted(fakes.items()):
            extra += ["--payments-fake", f"{rail}={fake_url}"]
        return run_suites(workdir, suites=("inertness", "close-time-settle"), extra=extra)


def test_a_dormant_url_target_is_checked_for_inertness_and_skips_what_needs_payments(
    dormant_at_a_url: SuiteRun,
) -> None:
    """The probe of `/v1/payments/status` says dormant: the dormant checks run on the target as it is, and
    the checks that need a live target skip saying so."""
    inert = {o.test: o.status for o in dormant_at_a_url.of("inertness")}
    for test in (
        "test_every_money_route_answers_payments_not_live_and_calls_no_processor",
        "test_validly_signed_webhooks_change_nothing_when_dormant",
        "test_paid_usage_is_served_free_when_dormant",
    ):
        assert inert.get(test) == "passed", (test, dormant_at_a_url.output[-1500:])
    settle = dormant_at_a_url.of("close-time-settle")
    assert settle and all(o.status == "skipped" and "is dormant" in o.message for o in settle)
    assert not [o for o in dormant_at_a_url.outcomes if o.status in ("failed", "error")]
