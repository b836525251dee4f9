"""The gate's contract suite judges Acme billing through its profile (examples/acme_billing/profile.toml).

Acme and the fakes run on loopback ports; `payharness gate --target ACME --profile profile.toml --suite contract`
puts the contract adapter in front of Acme. The adapter serves the pinned contract, refuses what the contract
refuses before Acme sees it and answers every refusal of Acme in the contract's shape and codes, so the clean
Acme passes with nothing failed or unrun; only the operations of capabilities the profile says Acme lacks are
not applicable, each with that reason.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from acme_stack import running_acme

from harness.gate.command import gate_command
from harness.report import parse_junit

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

PROFILE = str(Path(__file__).parents[3] / "examples" / "acme_billing" / "profile.toml")
POSITIVE = "test_operation_honours_the_pinned_contract"
#: The operations of what Acme's profile says it lacks (`[gate] lacks`), and the capability each needs.
LACKED = {
    "POST /admin/reconcile/{rail}": "reconcile",
    "GET /metrics": "metrics",
    "GET /v1/billing/invoices": "invoices",
    "POST /v1/payments/topup/cdp/{topup_id}/pay": "cdp",
    "POST /v1/usage": "paid_usage",
}


def test_the_clean_acme_honours_the_contract_through_its_profile(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    with running_acme(tmp_path) as (base_url, _, env):
        code = gate_command(
            target=base_url,
            profile=PROFILE,
            suites=("contract",),
            report_dir=reports,
            examples=10,
            seed=7,
            workers=1,
            env={**os.environ, **env},
            out=io.StringIO(),
            wait_seconds=10,
        )
    (run,) = reports.iterdir()
    tests = parse_junit(run / "junit.xml").tests
    by_outcome: dict[str, list[str]] = {}
    for test in tests:
        by_outcome.setdefault(test.outcome, []).append(test.name)
    assert by_outcome.get("failed", []) == []
    assert by_outcome.get("not_run", []) == []
    assert code == 0
    not_applicable = {t.name: t.message for t in tests if t.outcome == "not_applicable"}
    assert not_applicable == {
        f"{POSITIVE}[{operation}]": (
            f"the service's profile says it lacks {capability} ({operation})"
        )
        for operation, capability in LACKED.items()
    }
    passed = set(by_outcome["passed"])
    # the served document is the pinned one, and every operation Acme has is judged on generated input
    assert "test_served_contract_is_exactly_the_pinned_contract" in passed
    assert f"{POSITIVE}[POST /v1/charges]" in passed
    assert f"{POSITIVE}[POST /v1/payments/topup/{{rail}}]" in passed
    assert len(tests) == 31
