"""The gate judges Acme billing over HTTP through its profile (examples/acme_billing/profile.toml).

Fakes and Acme run on loopback ports; `payharness gate --target ACME --profile profile.toml` puts the contract
adapter in front of Acme. The clean Acme passes the gated suites with nothing left unrun, and what is not
applicable is only what the profile declares (a capability Acme lacks, or money Acme cannot hold). Each
planted defect (ACME_DEFECTS) is caught: some test that passes on the clean Acme fails on the defective one.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path

import pytest
from acme_stack import running_acme

from harness.gate.command import gate_command
from harness.report import GateResult, parse_junit
from harness.suites import SUITES

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

PROFILE = str(Path(__file__).parents[3] / "examples" / "acme_billing" / "profile.toml")
#: Every behaviour suite (the contract suite is judged on its own): the clean Acme passes them all.
GATED = tuple(suite for suite in SUITES if suite != "contract")
#: Each planted defect and the suites that judge its class (README of examples/acme_billing).
DEFECT_SUITES = {
    "markup_floor": ("margin-math",),
    "overdraw_by_one": ("limits",),
    "xendit_token_prefix": ("authenticity",),
    "stripe_no_dedupe": ("idempotency",),
    "xendit_retry_new_key": ("idempotency",),
    "failed_invoice_upgrades": ("events",),
    "non_usd_credited": ("events",),
}
#: Why a test may be not applicable to Acme, and what explains it.
DECLARED = (
    # the profile's `lacks` (cdp, paid_usage, reconcile, metrics, invoices, xendit_checkout); its money
    # (cents, max_amount, min_topup) is declared too, and the suites draw amounts Acme can hold from it
    "the service's profile says it lacks ",
    # [gate.operations.create_account] makes sandbox users: the only ones the state hook funds
    "the service's test-state hook needs test users",
    # not the profile: a running service (any --target) is one process. Its live checks run on the live
    # Acme, its dormant ones on the dormant Acme (both asserted below); trying each spelling of its switch
    # would need it restarted with each
    "is live and cannot be rebuilt dormant",
    "this check needs a live target",
    "is a running service and cannot be rebuilt from an environment",
)


def _gate(
    tmp_path: Path, suites: Iterable[str], defects: str = "", enabled: bool = True
) -> GateResult:
    reports = tmp_path / f"reports-{defects or 'clean'}-{'live' if enabled else 'dormant'}"
    with running_acme(tmp_path, defects, enabled) as (base_url, _, env):
        gate_command(
            target=base_url,
            profile=PROFILE,
            suites=tuple(suites),
            report_dir=reports,
            examples=3,
            seed=7,
            workers=1,
            env={**os.environ, **env},
            out=io.StringIO(),
            wait_seconds=10,
            expect=None if enabled else "dormant",
        )
    (run,) = reports.iterdir()
    return parse_junit(run / "junit.xml")


def _failed(result: GateResult) -> set[str]:
    return {f"{t.suite}::{t.name}" for t in result.tests if t.outcome == "failed"}


def _passed(result: GateResult) -> set[str]:
    return {f"{t.suite}::{t.name}" for t in result.tests if t.outcome == "passed"}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[GateResult, GateResult]:
    """The clean Acme gated on every behaviour suite (live), and on inertness with billing off."""
    tmp = tmp_path_factory.mktemp("clean")
    return _gate(tmp, GATED), _gate(tmp, ["inertness"], enabled=False)


def test_the_clean_acme_passes_every_behaviour_suite_with_nothing_unrun(
    clean: tuple[GateResult, GateResult],
) -> None:
    live, dormant = clean
    for result in (live, dormant):
        assert {t.outcome for t in result.tests} <= {"passed", "not_applicable"}, _failed(result)
        undeclared = [
            f"{t.suite}::{t.name}: {t.message}"
            for t in result.tests
            if t.outcome == "not_applicable" and not any(d in t.message for d in DECLARED)
        ]
        assert undeclared == []
    passed = {s: sum(t.suite == s and t.outcome == "passed" for t in live.tests) for s in GATED}
    assert all(n >= 1 for s, n in passed.items() if s != "close-time-settle"), passed
    assert sum(passed.values()) >= 100, passed
    # close-time-settle is all paid usage sessions, which Acme lacks: every test says so
    assert {t.message for t in live.tests if t.suite == "close-time-settle"} == {
        "the service's profile says it lacks paid_usage (paid usage sessions)"
    }
    # each inertness check passed on the live Acme or on the dormant one, but for the spellings of the
    # switch (a running service cannot be restarted with each) and what Acme lacks
    inertness = [t for r in (live, dormant) for t in r.tests if t.suite == "inertness"]
    inert = _passed(live) | _passed(dormant)
    lacked = {t.name for t in inertness if "profile says it lacks" in t.message}
    unjudged = {
        t.name
        for t in inertness
        if f"inertness::{t.name}" not in inert and "spelling" not in t.name and t.name not in lacked
    }
    assert unjudged == set()


def test_every_planted_defect_is_caught_through_the_profile(
    tmp_path: Path, clean: tuple[GateResult, GateResult]
) -> None:
    live, dormant_clean = (_passed(r) for r in clean)
    matrix = {
        defect: sorted(_failed(_gate(tmp_path, suites, defect)) & live)
        for defect, suites in DEFECT_SUITES.items()
    }
    # the dormant defect is judged on a dormant Acme (billing switched off), as the inertness suite does
    dormant = _gate(tmp_path, ["inertness"], "dormant_calls_stripe", enabled=False)
    matrix["dormant_calls_stripe"] = sorted(_failed(dormant) & dormant_clean)
    print("\ncatch matrix (defect → tests that pass on the clean Acme and fail on it):")
    for defect, caught in matrix.items():
        print(f"  {defect}: {', '.join(caught) or 'NOT CAUGHT'}")
    assert [d for d, caught in matrix.items() if not caught] == []
