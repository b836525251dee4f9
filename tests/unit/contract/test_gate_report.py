"""The gate's reports read a pytest JUnit file into per-suite, per-test outcomes a person can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report import JUnitUnreadable, RunInfo, parse_junit, render_html, render_markdown

_PROPS = """<properties><property name="suite" value="contract"/><property name="seed" value="7"/>
<property name="reproduce" value="payharness gate --suite contract --seed 7 --examples 5"/>
<property name="reproduce_pytest" value="pytest --pyargs harness.suites.test_contract -k test_op"/>
</properties>"""

_COUNTED = _PROPS.replace(
    "</properties>", '<property name="generated_cases" value="321"/></properties>'
)

_JUNIT = f"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="payharness-gate" tests="4" failures="1">
<testcase classname="" name="test_served_contract_is_exactly_the_pinned_contract" time="0.5">{_PROPS}</testcase>
<testcase classname="" name="test_op" time="3.0">{_COUNTED}</testcase>
<testcase classname="" name="test_op[GET /healthz]" time="0.1"/>
<testcase classname="" name="test_op[POST /v1/charges]" time="0.2"><failure message="FailureGroup(...)">+ Exception Group Traceback
  | schemathesis.core.failures.FailureGroup: Schemathesis found 1 distinct failure
  |
  | - Custom check failed: `error_shape`
  |
  |     a 402 answer is not in the error shape: expected {{"error": ...}}, got {{"detail": "no"}}
  |
  | Reproduce with:
  |
  |     curl -X POST http://reference.payharness/v1/charges
  |
  |  (1 sub-exception)
  +-+---- 1 ----
</failure></testcase>
</testsuite></testsuites>"""


def _run(exit_code: int = 1) -> RunInfo:
    return RunInfo(
        target="http://127.0.0.1:8000",
        seed=7,
        examples=5,
        workers=1,
        suites=("contract",),
        command="payharness gate --suite contract --seed 7 --examples 5",
        started_at="2026-01-01T00:00:00+00:00",
        wall_seconds=12.5,
        exit_code=exit_code,
    )


@pytest.fixture
def junit(tmp_path: Path) -> Path:
    path = tmp_path / "junit.xml"
    path.write_text(_JUNIT, encoding="utf-8")
    return path


def test_subtests_are_grouped_under_their_suite_with_the_parents_reproduce_line(
    junit: Path,
) -> None:
    result = parse_junit(junit)
    (suite,) = result.suites
    assert suite.name == "contract"
    assert [t.name for t in suite.tests] == [
        "test_served_contract_is_exactly_the_pinned_contract",
        "test_op[GET /healthz]",
        "test_op[POST /v1/charges]",
    ]
    failed = suite.tests[-1]
    assert failed.outcome == "failed" and not result.passed
    assert failed.reproduce == "payharness gate --suite contract --seed 7 --examples 5"
    assert result.properties["generated_cases"] == "321"


def test_generated_case_counts_of_every_contract_test_add_up_to_the_runs(tmp_path: Path) -> None:
    """Each contract test carries its own counts (under xdist a session-level property is lost)."""

    def case(name: str, cases: int, negative: int) -> str:
        return (
            f'<testcase classname="" name="{name}" time="1"><properties>'
            f'<property name="generated_cases" value="{cases}"/>'
            f'<property name="generated_negative_cases" value="{negative}"/></properties></testcase>'
        )

    path = tmp_path / "junit.xml"
    path.write_text(
        f'<testsuites><testsuite name="a">{case("test_pos", 120, 0)}</testsuite>'
        f'<testsuite name="b">{case("test_neg", 45, 45)}</testsuite></testsuites>',
        encoding="utf-8",
    )
    properties = parse_junit(path).properties
    assert (properties["generated_cases"], properties["generated_negative_cases"]) == ("165", "45")


def test_a_schemathesis_failure_reads_as_its_own_report_not_a_traceback(junit: Path) -> None:
    failed = parse_junit(junit).tests[-1]
    assert failed.message == "Custom check failed: `error_shape`"
    assert failed.details.startswith("Schemathesis found 1 distinct failure")
    assert "curl -X POST http://reference.payharness/v1/charges" in failed.details
    assert "Exception Group" not in failed.details and "|" not in failed.details


def test_the_markdown_summary_gives_verdict_counts_failure_and_replay(junit: Path) -> None:
    text = render_markdown(parse_junit(junit), _run())
    assert text.startswith("# payharness gate: FAILED")
    assert "- generated cases (schemathesis): 321" in text
    assert "- tests: 2 passed / 0 not run / 1 failed" in text
    assert "### contract :: test_op[POST /v1/charges] (failed)" in text
    assert "a 402 answer is not in the error shape" in text
    assert "pytest --pyargs harness.suites.test_contract -k test_op" in text


def test_the_html_report_is_self_contained_and_escaped(junit: Path) -> None:
    page = render_html(parse_junit(junit), _run())
    assert page.startswith("<!doctype html>") and "<style>" in page
    assert "<script" not in page and "http://" not in page.split("<body>")[0].split("</style>")[0]
    assert "expected {&quot;error&quot;: ...}" in page
    assert 'payharness gate: <span class="failed">FAILED</span>' in page


def test_a_run_that_passed_says_so(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    start, end = _JUNIT.index("<failure"), _JUNIT.index("</failure>") + len("</failure>")
    path.write_text(_JUNIT[:start] + _JUNIT[end:], encoding="utf-8")
    result = parse_junit(path)
    assert result.passed
    assert render_markdown(result, _run(0)).startswith("# payharness gate: PASSED")


def test_a_missing_junit_file_is_an_error_not_a_pass(tmp_path: Path) -> None:
    with pytest.raises(JUnitUnreadable):
        parse_junit(tmp_path / "junit.xml")
