"""The audit trail: a JSONL line per failed or degraded leg, a summary line per run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from probe_doubles import FakeTarget, error, make_prober

from harness.prober import AuditTrail, ProbeSecrets
from harness.prober.results import LegResult, RunReport


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_a_clean_run_leaves_only_its_summary(tmp_path: Path) -> None:
    audit = tmp_path / "reports" / "audit.jsonl"
    report = await make_prober(FakeTarget(), audit_path=audit).run_once()
    (summary,) = lines(audit)
    assert summary["kind"] == "payment_probe_run"
    assert summary["run_id"] == report.run_id
    assert summary["results"] == {r.leg: "pass" for r in report.legs}
    assert (summary["passed"], summary["degraded"], summary["failed"]) == (5, 0, 0)
    assert summary["target"] == "http://target.test"


async def test_failed_and_degraded_legs_each_leave_a_line_before_the_summary(
    tmp_path: Path,
) -> None:
    audit = tmp_path / "audit.jsonl"
    target = FakeTarget()
    target.on("POST /v1/billing/checkout", error(500, "internal_error"))
    report = await make_prober(target, audit_path=audit, secrets=ProbeSecrets()).run_once()
    records = lines(audit)
    assert [r["kind"] for r in records] == [
        "payment_probe_leg",
        "payment_probe_leg",
        "payment_probe_run",
    ]
    checkout, upgrade, summary = records
    assert checkout["leg"] == "checkout_reachable"
    assert checkout["result"] == "fail"
    assert checkout["http_status"] == 500
    assert checkout["reason"] == "500 internal_error (5xx)"
    assert checkout["run_id"] == report.run_id
    assert checkout["target"] == "http://target.test"
    assert isinstance(checkout["latency_ms"], int)
    assert upgrade["leg"] == "upgrade_webhook_e2e" and upgrade["result"] == "misconfigured"
    assert upgrade["http_status"] is None
    assert summary["failed"] == 1 and summary["misconfigured"] == 1
    assert summary["service"] == "live"


async def test_runs_append_to_the_same_trail(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    prober = make_prober(FakeTarget(), audit_path=audit)
    first = await prober.run_once()
    second = await prober.run_once()
    assert [r["run_id"] for r in lines(audit)] == [first.run_id, second.run_id]


def test_an_unwritable_trail_is_logged_and_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    trail = AuditTrail(blocker / "audit.jsonl")
    report = RunReport(
        run_id="r1",
        target="http://t",
        profile="reference",
        started_at=0.0,
        duration_seconds=0.0,
        legs=(),
    )
    trail.summary(report, at=0.0)
    assert any("payment_probe_audit_write_failed" in r.getMessage() for r in caplog.records)


def test_a_passing_leg_is_never_written(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "audit.jsonl")
    passed = LegResult(
        leg="billing_state",
        result="pass",
        reason="200 (reachable)",
        http_status=200,
        latency_seconds=0.01,
        budget_seconds=2.0,
        observed=True,
    )
    trail.leg(passed, run_id="r1", target="http://t", profile="reference", at=0.0)
    assert not (tmp_path / "audit.jsonl").exists()
