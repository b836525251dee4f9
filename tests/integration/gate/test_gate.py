"""`gate_command` end to end: pytest in a subprocess, live progress, and the three report files."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.gate import gate_command
from harness.report import parse_junit

REPORTS = ("junit.xml", "summary.md", "report.html")


def _run_dir(report_dir: Path) -> Path:
    (run_dir,) = report_dir.glob("*-gate")
    return run_dir


def test_the_gate_passes_on_the_embedded_defaults_and_leaves_three_reports(tmp_path: Path) -> None:
    console = io.StringIO()
    code = gate_command(
        target=None,
        suites=["contract"],
        report_dir=tmp_path,
        examples=3,
        seed=20240601,
        workers=1,
        env=dict(os.environ),
        out=console,
    )
    run_dir = _run_dir(tmp_path)
    summary = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert code == 0, summary
    assert all((run_dir / name).is_file() for name in REPORTS)
    assert summary.startswith("# payharness gate: PASSED")
    result = parse_junit(run_dir / "junit.xml")
    assert result.passed and int(result.properties["generated_cases"]) > 100
    assert "[POST /v1/charges]" in console.getvalue()  # live progress, one line per operation


def test_a_target_whose_errors_are_not_in_the_error_shape_fails_with_a_readable_report(
    tmp_path: Path, serve_reference: Callable[..., str], error_shape_broken: Callable[[Any], Any]
) -> None:
    url = serve_reference(wrap=error_shape_broken)
    console = io.StringIO()
    code = gate_command(
        target=url,
        suites=["contract"],
        report_dir=tmp_path,
        examples=3,
        seed=7,
        workers=2,
        env={
            k: v for k, v in os.environ.items() if not k.endswith(("_API_BASE", "_FACILITATOR_URL"))
        },
        out=console,
    )
    assert code == 1
    run_dir = _run_dir(tmp_path)
    assert all((run_dir / name).is_file() for name in REPORTS)
    summary = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# payharness gate: FAILED")
    assert "Custom check failed: `error_shape`" in summary
    assert 'is not in the error shape: expected {"error"' in summary
    assert f"payharness gate --suite contract --seed 7 --examples 3 --target {url}" in summary
    operations = [t.name for t in parse_junit(run_dir / "junit.xml").tests if "[" in t.name]
    honours = [o for o in operations if o.startswith("test_operation_honours_the_pinned_contract[")]
    refuses = [o for o in operations if o.startswith("test_operation_refuses_input_that_breaks")]
    assert len(honours) == 18  # every operation ran, spread over two xdist workers
    assert len(refuses) == len(operations) - 18 > 0  # and the negative stage on those taking input
    assert (
        "STRIPE_API_BASE=http://127.0.0.1:" in console.getvalue()
    )  # the settings the target must use


def test_an_unreachable_target_could_not_run(tmp_path: Path) -> None:
    console = io.StringIO()
    code = gate_command(
        target="http://127.0.0.1:9",
        suites=["contract"],
        report_dir=tmp_path,
        examples=1,
        seed=1,
        workers=1,
        env=dict(os.environ),
        out=console,
    )
    assert code == 2
    assert "could not run [target_unreachable]" in console.getvalue()
    summary = (_run_dir(tmp_path) / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# payharness gate: COULD NOT RUN")
