"""The gate's stage breakdown is read from its JUnit report, without counting an operation twice."""

from __future__ import annotations

from pathlib import Path

from harness.bench.gate import schemathesis_seconds, stages

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="payharness-gate" tests="5" time="21.9">
<testcase classname="" name="test_served_contract_is_exactly_the_pinned_contract" time="3.5">
  <properties><property name="suite" value="contract" /></properties></testcase>
<testcase classname="" name="test_operation_honours_the_pinned_contract" time="17.0">
  <properties><property name="suite" value="contract" /></properties></testcase>
<testcase classname="" name="test_operation_honours_the_pinned_contract[GET /healthz]" time="0.5" />
<testcase classname="" name="test_operation_honours_the_pinned_contract[POST /v1/charges]" time="0.7" />
<testcase classname="" name="test_duplicate_webhook_credits_once" time="1.25">
  <properties><property name="suite" value="idempotency" /></properties></testcase>
</testsuite></testsuites>
"""


def _junit(tmp_path: Path, text: str = JUNIT) -> Path:
    path = tmp_path / "junit.xml"
    path.write_text(text)
    return path


def test_each_suite_lists_its_tests_with_their_whole_time(tmp_path: Path) -> None:
    assert stages(_junit(tmp_path)) == {
        "contract": {
            "test_served_contract_is_exactly_the_pinned_contract": 3.5,
            "test_operation_honours_the_pinned_contract": 17.0,
        },
        "idempotency": {"test_duplicate_webhook_credits_once": 1.25},
    }


def test_the_schemathesis_stage_is_the_contract_test_that_ran_per_operation(tmp_path: Path) -> None:
    junit = _junit(tmp_path)
    assert schemathesis_seconds(stages(junit), junit) == 17.0


def test_operations_without_their_whole_are_added_up_under_an_unknown_suite(tmp_path: Path) -> None:
    text = JUNIT.replace(
        '<testcase classname="" name="test_operation_honours_the_pinned_contract" time="17.0">\n'
        '  <properties><property name="suite" value="contract" /></properties></testcase>\n',
        "",
    )
    breakdown = stages(_junit(tmp_path, text))
    assert breakdown["?"] == {"test_operation_honours_the_pinned_contract": 1.2}
