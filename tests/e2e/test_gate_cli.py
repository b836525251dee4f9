"""`payharness gate` and `payharness contract` as a user runs them, in a subprocess."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.contract import pinned_contract
from harness.report import parse_junit
from harness.selftest.command import BEHAVIOUR_SUITES

pytestmark = pytest.mark.e2e


def _payharness(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("payharness")
    command = [exe] if exe else [sys.executable, "-c", "from harness.cli import main; main()"]
    return subprocess.run(
        [*command, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_gate_on_the_embedded_defaults_passes_and_leaves_its_reports(tmp_path: Path) -> None:
    run = _payharness("gate", "--examples", "3", "--seed", "11", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    (run_dir,) = (tmp_path / "reports").glob("*-gate")
    assert sorted(p.name for p in run_dir.iterdir() if p.suffix in (".xml", ".md", ".html")) == [
        "junit.xml",
        "report.html",
        "summary.md",
    ]
    assert "payharness gate: PASSED" in run.stdout
    # in process every suite can do everything it asks of a target: nothing is not applicable or not run
    result = parse_junit(run_dir / "junit.xml")
    outcomes = {(t.suite, t.outcome) for t in result.tests}
    assert {outcome for _, outcome in outcomes} == {"passed"}, [
        (t.suite, t.name, t.outcome, t.message) for t in result.tests if t.outcome != "passed"
    ]
    assert {suite for suite, _ in outcomes} >= {*BEHAVIOUR_SUITES, "contract"}


def test_contract_check_of_the_in_process_reference_matches(tmp_path: Path) -> None:
    run = _payharness("contract", "check", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "matches the pinned contract exactly" in run.stdout


def test_contract_diff_flags_a_removed_response_field_as_breaking(tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    document = pinned_contract()
    changed = copy.deepcopy(document)
    del changed["components"]["schemas"]["ChargeResult"]["properties"]["replayed"]
    old.write_text(json.dumps(document), encoding="utf-8")
    new.write_text(json.dumps(changed), encoding="utf-8")
    run = _payharness("contract", "diff", str(old), str(new), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "[BREAKING] POST /v1/charges:" in run.stdout and "property removed" in run.stdout
    assert _payharness("contract", "diff", str(old), str(old), cwd=tmp_path).returncode == 0
    assert _payharness("contract", "diff", str(old), "missing.json", cwd=tmp_path).returncode == 2
