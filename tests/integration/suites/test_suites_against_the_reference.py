"""The behaviour suites pass against the clean reference served at a URL (as a user's own service is), where
only what a running service cannot be asked to do is skipped, each skip saying why. In process (the gate's
default target) they are run by `payharness gate` itself in tests/e2e/test_gate_cli.py, where nothing may
be not applicable or not run."""

from __future__ import annotations

from pathlib import Path

import pytest
from suite_runs import Outcome, SuiteRun, run_suites, served_reference

from harness.selftest.command import BEHAVIOUR_SUITES

#: At a URL, every skip is about what a running service cannot be rebuilt with.
URL_SKIP = "cannot be rebuilt"


@pytest.fixture(scope="module")
def at_a_url(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """One gate-like run of every behaviour suite against the reference served on a loopback port."""
    workdir: Path = tmp_path_factory.mktemp("at-a-url")
    with served_reference(workdir) as (url, fakes):
        extra = ["--payments-target", url]
        for rail, fake_url in sorted(fakes.items()):
            extra += ["--payments-fake", f"{rail}={fake_url}"]
        return run_suites(workdir, extra=extra)


@pytest.fixture(scope="module")
def dormant_at_a_url(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """The inertness and close-time-settle suites against a reference served at a URL with payments off."""
    workdir: Path = tmp_path_factory.mktemp("dormant-url")
    with served_reference(workdir, live_flag="off") as (url, fakes):
        extra = ["--payments-target", url]
        for rail, fake_url in sorted(fakes.items()):
            extra += ["--payments-fake", f"{rail}={fake_url}"]
        return run_suites(workdir, suites=("inertness", "close-time-settle"), extra=extra)


def _explain(run: SuiteRun, outcomes: list[Outcome]) -> str:
    shown = "\n\n".join(f"{o.test} [{o.status}]\n{o.message[:1500]}" for o in outcomes)
    return f"{shown}\n--- pytest output (tail) ---\n{run.output[-1500:]}"


@pytest.mark.parametrize("suite", list(BEHAVIOUR_SUITES))
def test_the_clean_reference_passes_every_suite_at_a_url(at_a_url: SuiteRun, suite: str) -> None:
    outcomes = at_a_url.of(suite)
    assert outcomes, f"no test of {suite} ran\n{at_a_url.output[-2000:]}"
    wrong = [o for o in outcomes if o.status in ("failed", "error")]
    assert not wrong, _explain(at_a_url, wrong)
    unexplained = [o for o in outcomes if o.status == "skipped" and URL_SKIP not in o.message]
    assert not unexplained, _explain(at_a_url, unexplained)


def test_a_url_target_still_runs_the_checks_it_can_answer(at_a_url: SuiteRun) -> None:
    """Skips stay the exception: streams, disconnects, duplicates and tier flips all run over sockets."""
    ran = {o.test for o in at_a_url.outcomes if o.status == "passed"}
    for test in (
        "test_a_client_that_hangs_up_mid_stream_is_settled_exactly_once",
        "test_an_sse_response_settles_once_after_its_last_event",
        "test_concurrent_deliveries_of_one_event_credit_once",
        "test_the_debit_is_the_contract_formula_in_integer_micros",
    ):
        assert test in ran, f"{test} did not pass at a URL\n{at_a_url.output[-1500:]}"
    assert any(o.test.startswith("test_a_paid_plan_flips_the_tier") for o in at_a_url.outcomes)
    skipped = [o for o in at_a_url.outcomes if o.status == "skipped"]
    assert len(skipped) <= 12, [o.test for o in skipped]


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
