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

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

PROFILE = str(Path(__file__).parents[3] / "examples" / "acme_billing" / "profile.toml")
#: The suites the clean Acme passes through its profile.
GATED = ("margin-math", "limits", "authenticity")
#: Each planted defect and the suites that judge its class (README of examples/acme_billing).
DEFECT_SUITES = {
    "markup_floor": ("margin-math",),
    "overdraw_by_one": ("limits",),
    "xendit_token_prefix": ("authenticity",),
    "stripe_no_dedupe": ("idempotency",),
    "failed_invoice_upgrades": ("events",),
    "non_usd_credited": ("events",),
}
#: Why a test may be not applicable to Acme: what its profile declares, nothing else.
DECLARED = (
    "the service's profile says it lacks ",
    "the service keeps whole cents: ",
    "above the largest amount the service takes",
    "the service sells credits from 100 cents",
    "the service's test-state hook needs test users",
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


def test_the_clean_acme_passes_the_gate_through_its_profile_with_nothing_unrun(
    tmp_path: Path,
) -> None:
    result = _gate(tmp_path, GATED)
    outcomes = {t.outcome for t in result.tests}
    assert outcomes <= {"passed", "not_applicable"}, _failed(result)
    assert sum(t.outcome == "passed" for t in result.tests) >= 25
    undeclared = [
        t.message
        for t in result.tests
        if t.outcome == "not_applicable" and not any(d in t.message for d in DECLARED)
    ]
    assert undeclared == []


def test_every_planted_defect_is_caught_through_the_profile(tmp_path: Path) -> None:
    judged = sorted({s for suites in DEFECT_SUITES.values() for s in suites})
    clean = _passed(_gate(tmp_path, judged))
    matrix = {
        defect: sorted(_failed(_gate(tmp_path, suites, defect)) & clean)
        for defect, suites in DEFECT_SUITES.items()
    }
    # the dormant defect is judged on a dormant Acme (billing switched off), as the inertness suite does
    dormant_clean = _passed(_gate(tmp_path, ["inertness"], enabled=False))
    dormant = _gate(tmp_path, ["inertness"], "dormant_calls_stripe", enabled=False)
    matrix["dormant_calls_stripe"] = sorted(_failed(dormant) & dormant_clean)
    print("\ncatch matrix (defect → tests that pass on the clean Acme and fail on it):")
    for defect, caught in matrix.items():
        print(f"  {defect}: {', '.join(caught) or 'NOT CAUGHT'}")
    assert [d for d, caught in matrix.items() if not caught] == []
