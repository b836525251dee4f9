"""The gate's verdict, and the JUnit file that always carries it.

PASSED only when every selected test ran (tests *not applicable* to the target's profile aside) and none
failed; INCOMPLETE when some did not run (exit 3, or 0 with ``--allow-skips``); FAILED when the target is
wrong (exit 1); COULD NOT RUN when the gate itself could not run its suites (exit 2). Whatever happened,
`junit.xml` exists afterwards: the CI's JUnit step must never find nothing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from .junit import GateResult

__all__ = ["EXIT_INCOMPLETE", "Verdict", "annotate_junit", "judge", "write_could_not_run_junit"]

#: The exit code of a gate in which some selected tests did not run.
EXIT_INCOMPLETE = 3
_SUITE_NAME = "payharness-gate"


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What the gate says about a run, in one word, one line and one exit code."""

    word: str
    line: str
    exit_code: int


def judge(
    result: GateResult, *, pytest_code: int | None, could_not_run: str | None, allow_skips: bool
) -> Verdict:
    """The verdict of a run: `pytest_code` is pytest's exit code (None when it never started)."""
    if could_not_run is not None or pytest_code is None:
        return Verdict(word="COULD NOT RUN", line=f"COULD NOT RUN: {could_not_run}", exit_code=2)
    failed = result.count("failed")
    if failed and pytest_code == 1:
        return Verdict(word="FAILED", line=f"FAILED: {failed} failed", exit_code=1)
    if pytest_code not in (0, 1) or result.count("error") or not result.tests:
        why = "no test ran" if not result.tests else f"{result.count('error')} test(s) errored"
        if pytest_code not in (0, 1):
            why = f"pytest exited with {pytest_code}"
        return Verdict(word="COULD NOT RUN", line=f"COULD NOT RUN: {why}", exit_code=2)
    missing = len(result.not_run)
    if missing and allow_skips:
        return Verdict(
            word="PASSED",
            line=f"PASSED with {missing} not run (allowed by --allow-skips)",
            exit_code=0,
        )
    if missing:
        return Verdict(
            word="INCOMPLETE",
            line=f"INCOMPLETE: {missing} not run (--allow-skips accepts that)",
            exit_code=EXIT_INCOMPLETE,
        )
    return Verdict(word="PASSED", line="PASSED", exit_code=0)


def _testsuite(root: ET.Element) -> ET.Element:
    if root.tag == "testsuite":
        return root
    suite = root.find("testsuite")
    if suite is None:
        suite = ET.SubElement(root, "testsuite", name=_SUITE_NAME)
    return suite


def annotate_junit(path: Path, result: GateResult, verdict: Verdict) -> None:
    """Add the verdict and each suite's counts (``8 passed / 0 not run / 0 failed``) as properties."""
    tree = ET.parse(path)
    suite = _testsuite(tree.getroot())
    properties = suite.find("properties")
    if properties is None:
        properties = ET.Element("properties")
        suite.insert(0, properties)
    ET.SubElement(properties, "property", name="verdict", value=verdict.line)
    for one in result.suites:
        ET.SubElement(properties, "property", name=f"suite {one.name}", value=one.counts())
    tree.write(path, encoding="utf-8", xml_declaration=True)


def write_could_not_run_junit(
    path: Path, reason: str, *, case: str = "the gate could run", verdict: str | None = None
) -> None:
    """A JUnit file with one test case saying why the suites did not run: an error (the gate could not
    run), or a failure when `verdict` says FAILED (the target is not what `--expect` said)."""
    failed = verdict is not None and verdict.startswith("FAILED")
    root = ET.Element("testsuites", name="payharness")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=_SUITE_NAME,
        tests="1",
        errors="0" if failed else "1",
        failures="1" if failed else "0",
        skipped="0",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(
        properties, "property", name="verdict", value=verdict or f"COULD NOT RUN: {reason}"
    )
    testcase = ET.SubElement(suite, "testcase", classname="payharness.gate", name=case)
    ET.SubElement(testcase, "failure" if failed else "error", message=reason).text = reason
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
