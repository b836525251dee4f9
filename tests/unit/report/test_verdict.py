"""The gate's verdict tells the truth: PASSED only when every selected test ran, INCOMPLETE names how many
did not (and why, in every report), a skip the target's profile explains is *not applicable*."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from harness.report import (
    NOT_APPLICABLE,
    GateResult,
    RunInfo,
    SuiteResult,
    TestResult,
    annotate_junit,
    judge,
    parse_junit,
    render_html,
    render_markdown,
    write_could_not_run_junit,
)
from harness.report.junit import Outcome

OUTCOME = st.sampled_from(["passed", "failed", "not_run", "not_applicable"])


def _result(outcomes: list[Outcome]) -> GateResult:
    tests = tuple(
        TestResult(suite="s", name=f"t{i}", outcome=o, duration_seconds=0.0, message=f"why {i}")
        for i, o in enumerate(outcomes)
    )
    return GateResult(suites=(SuiteResult(name="s", tests=tests),))


@given(st.lists(OUTCOME, min_size=1), st.booleans())
def test_passed_only_when_nothing_failed_and_every_selected_test_ran(
    outcomes: list[Outcome], allow_skips: bool
) -> None:
    verdict = judge(
        _result(outcomes), pytest_code=1 if "failed" in outcomes else 0, could_not_run=None,
        allow_skips=allow_skips,
    )  # fmt: skip
    if "failed" in outcomes:
        assert verdict.exit_code == 1 and verdict.word == "FAILED"
    elif "not_run" in outcomes:
        missing = outcomes.count("not_run")
        if allow_skips:
            assert verdict.exit_code == 0 and f"with {missing} not run" in verdict.line
        else:
            assert verdict.exit_code == 3 and verdict.line.startswith(
                f"INCOMPLETE: {missing} not run"
            )
    else:
        assert verdict.exit_code == 0 and verdict.line == "PASSED"


def test_a_gate_that_could_not_run_is_never_passed() -> None:
    verdict = judge(
        GateResult(suites=()), pytest_code=None, could_not_run="[x] y", allow_skips=True
    )
    assert verdict.exit_code == 2 and verdict.line == "COULD NOT RUN: [x] y"


def _junit(tmp_path: Path) -> Path:
    path = tmp_path / "junit.xml"
    path.write_text(
        '<testsuites><testsuite name="payharness-gate">'
        '<testcase classname="" name="test_a"><properties><property name="suite" value="margin-math"/>'
        "</properties></testcase>"
        '<testcase classname="" name="test_b"><properties><property name="suite" value="margin-math"/>'
        '</properties><skipped message="the target refuses ADMIN_SECRET">x.py:1: skip</skipped></testcase>'
        '<testcase classname="" name="test_c"><properties><property name="suite" value="margin-math"/>'
        f'</properties><skipped message="{NOT_APPLICABLE}the target is dormant">x</skipped></testcase>'
        "</testsuite></testsuites>",
        encoding="utf-8",
    )
    return path


def test_skips_read_as_not_run_or_not_applicable_with_their_reasons_in_every_report(
    tmp_path: Path,
) -> None:
    path = _junit(tmp_path)
    result = parse_junit(path)
    (suite,) = result.suites
    assert [t.outcome for t in suite.tests] == ["passed", "not_run", "not_applicable"]
    assert suite.counts() == "1 passed / 1 not run / 0 failed / 1 not applicable"
    verdict = judge(result, pytest_code=0, could_not_run=None, allow_skips=False)
    run = RunInfo(
        target="u", seed=1, examples=1, workers=1, suites=("margin-math",), command="c",
        started_at="now", wall_seconds=1.0, exit_code=verdict.exit_code, verdict=verdict.word,
        verdict_line=verdict.line,
    )  # fmt: skip
    summary = render_markdown(result, run)
    assert summary.startswith("# payharness gate: INCOMPLETE: 1 not run")
    assert (
        "## margin-math: incomplete (1 passed / 1 not run / 0 failed / 1 not applicable)" in summary
    )
    assert "the target refuses ADMIN_SECRET" in summary and "the target is dormant" in summary
    page = render_html(result, run)
    assert "the target refuses ADMIN_SECRET" in page and "INCOMPLETE: 1 not run" in page
    annotate_junit(path, result, verdict)
    properties = {p.get("name"): p.get("value") for p in ET.parse(path).getroot().iter("property")}
    assert properties["verdict"].startswith("INCOMPLETE: 1 not run")
    assert properties["suite margin-math"] == "1 passed / 1 not run / 0 failed / 1 not applicable"


def test_a_gate_that_could_not_run_still_writes_junit_with_one_error_saying_why(
    tmp_path: Path,
) -> None:
    path = tmp_path / "junit.xml"
    write_could_not_run_junit(path, "[target_unreachable] nothing listens")
    case = ET.parse(path).getroot().find("testsuite/testcase")
    assert case is not None
    error = case.find("error")
    assert error is not None and error.get("message") == "[target_unreachable] nothing listens"
