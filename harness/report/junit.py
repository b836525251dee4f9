"""Read a gate's JUnit XML into plain results: per suite and test, the outcome, message and reproduce line.

pytest writes one ``<testcase>`` per test (and per schemathesis subtest, named ``test_x[POST /v1/charges]``);
the payharness plugin adds ``suite``, ``seed`` and ``reproduce`` properties, and each contract test its
``generated_cases`` and ``generated_negative_cases``, which :func:`parse_junit` sums into the run's properties.
"""

from __future__ import annotations

import hmac
import os
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.errors import HarnessError

__all__ = [
    "NOT_APPLICABLE",
    "NOT_APPLICABLE_CODE",
    "OUTCOMES",
    "RULED_OUT_HEADER",
    "RULED_OUT_TOKEN_ENV",
    "GateResult",
    "JUnitUnreadable",
    "Outcome",
    "SuiteResult",
    "TestResult",
    "parse_junit",
    "ruled_out_by_profile",
]

#: The verdict model of one test. `not_run` is a selected test that did not run (a pytest skip: the reason
#: says why) and keeps a gate from PASSED; `not_applicable` is a test the target's own profile rules out
#: (a live-only check on a dormant service), shown with its reason and not counted against the gate.
Outcome = Literal["passed", "failed", "error", "not_run", "not_applicable"]
OUTCOMES: tuple[Outcome, ...] = ("passed", "not_run", "failed", "error", "not_applicable")
#: How a suite marks a skip as "not applicable" (`harness.suites._support.not_applicable` adds it).
NOT_APPLICABLE = "not applicable: "
#: Per-test counts that add up to a run-level property of the same name.
SUMMED_PROPERTIES = ("generated_cases", "generated_negative_cases")
#: The error code a contract adapter (harness.adapter) answers, with HTTP 501, for an operation the
#: service's profile rules out; the suites turn it into a not-applicable test.
NOT_APPLICABLE_CODE = "not_applicable"
#: The header carrying the adapter's proof that a 501 not_applicable is its own: a secret of the gate's
#: process (`RULED_OUT_TOKEN_ENV` hands it to the suites). A target answering 501 not_applicable by
#: itself, without a profile, has its answer judged like any other instead of excusing the test.
RULED_OUT_HEADER = "x-payharness-ruled-out"
RULED_OUT_TOKEN_ENV = "PAYHARNESS_RULED_OUT_TOKEN"


def _header(headers: Any, name: str) -> str:
    """One header's value from httpx's, requests' or schemathesis' (name -> list of values) headers."""
    for key, value in headers.items():
        if key.lower() == name:
            if isinstance(value, list):
                return str(value[0]) if value else ""
            return str(value)
    return ""


def ruled_out_by_profile(response: Any) -> str | None:
    """The reason of a contract adapter's `501 not_applicable` answer, None for any other answer (a
    target's own 501 included: its header must carry this run's token)."""
    token = os.environ.get(RULED_OUT_TOKEN_ENV)
    if response.status_code != 501 or not token:
        return None
    if not hmac.compare_digest(_header(response.headers, RULED_OUT_HEADER), token):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    found = body.get("error") if isinstance(body, dict) else None
    if not isinstance(found, dict) or found.get("code") != NOT_APPLICABLE_CODE:
        return None
    return str(found.get("message") or "ruled out by the target's profile")


class JUnitUnreadable(HarnessError, ValueError):
    """The JUnit file is missing or is not JUnit XML (the run did not complete)."""

    code = "junit_unreadable"


@dataclass(frozen=True, slots=True, kw_only=True)
class TestResult:
    """One test of one suite."""

    __test__ = False  # not a pytest test class, whatever its name

    suite: str
    name: str
    outcome: Outcome
    duration_seconds: float
    message: str = ""
    details: str = ""
    reproduce: str = ""
    reproduce_pytest: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteResult:
    """The tests of one suite, in run order."""

    name: str
    tests: tuple[TestResult, ...]

    def count(self, outcome: Outcome) -> int:
        """How many tests ended with `outcome`."""
        return sum(1 for t in self.tests if t.outcome == outcome)

    @property
    def passed(self) -> bool:
        """No failure and no error (tests not run are counted separately: see :attr:`complete`)."""
        return not (self.count("failed") or self.count("error"))

    @property
    def complete(self) -> bool:
        """Every selected test ran (or was not applicable to this target)."""
        return not self.count("not_run")

    def counts(self) -> str:
        """``8 passed / 0 not run / 0 failed`` (plus errors and not applicable when there are any)."""
        text = (
            f"{self.count('passed')} passed / {self.count('not_run')} not run / "
            f"{self.count('failed')} failed"
        )
        if self.count("error"):
            text += f" / {self.count('error')} errors"
        if self.count("not_applicable"):
            text += f" / {self.count('not_applicable')} not applicable"
        return text

    @property
    def state(self) -> str:
        """`passed`, `incomplete` or `FAILED`, for the suite's heading."""
        if not self.passed:
            return "FAILED"
        return "passed" if self.complete else "incomplete"


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult:
    """Every suite of a run, plus the run-level properties (e.g. `generated_cases`)."""

    suites: tuple[SuiteResult, ...]
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def tests(self) -> tuple[TestResult, ...]:
        """All tests, suite by suite."""
        return tuple(t for s in self.suites for t in s.tests)

    @property
    def passed(self) -> bool:
        """True when at least one test ran and none failed or errored."""
        return bool(self.tests) and all(s.passed for s in self.suites)

    @property
    def not_run(self) -> tuple[TestResult, ...]:
        """The selected tests that did not run, each with its reason."""
        return tuple(t for t in self.tests if t.outcome == "not_run")

    def counts(self) -> str:
        """The run's counts, in the same words as each suite's."""
        return SuiteResult(name="all", tests=self.tests).counts()

    def count(self, outcome: Outcome) -> int:
        """How many tests of the run ended with `outcome`."""
        return sum(s.count(outcome) for s in self.suites)


def _suite_name(classname: str, properties: dict[str, str]) -> str:
    if "suite" in properties:
        return properties["suite"]
    module = classname.split(".")
    last = next((part for part in reversed(module) if part.startswith("test_")), module[-1])
    return last.removeprefix("test_")


def _without_traceback(details: str) -> str:
    """A pytest traceback reduced to what the assertion said (its ``E`` lines) and where, if it has any."""
    said = [line[4:] for line in details.splitlines() if line.startswith("E   ")]
    if not said:
        return details
    where = [
        line for line in details.splitlines() if line.rstrip().endswith("Error") and ":" in line
    ]
    text = "\n".join(said).strip()
    for prefix in ("AssertionError: ", "harness.suites.failures."):
        text = text.removeprefix(prefix)
    return text + (f"\n(at {where[-1].strip()})" if where else "")


def _readable(details: str) -> str:
    """What a person needs from a failure, not the harness's internals.

    A suite failure arrives as its own four parts (observed / expected / reproduce / seed: the plugin
    reports it without a traceback); a schemathesis failure as an exception-group traceback, of which its
    own report is kept, unindented; any other assertion as its ``E`` lines. The full text stays in junit.xml.
    """
    start = details.find("Schemathesis found")
    if start < 0:
        return _without_traceback(details)
    lines = []
    for line in details[start:].splitlines():
        text = line.lstrip()
        text = text[1:] if text.startswith("|") else line
        if text.strip().startswith("(") and "sub-exception" in text:
            break
        lines.append(text[1:] if text.startswith(" ") else text)
    return "\n".join(lines).strip()


def _testcase(case: ET.Element, inherited: dict[str, dict[str, str]]) -> TestResult:
    name = case.get("name", "?")
    properties = {
        p.get("name", ""): p.get("value", "") for p in case.iterfind("properties/property")
    }
    if properties:
        inherited[name] = properties
    else:  # a subtest (`test_x[POST /path]`) carries no properties of its own: take its parent's
        properties = inherited.get(name.split("[", 1)[0], {})
    outcome: Outcome = "passed"
    message = details = ""
    for tag, kind in (("failure", "failed"), ("error", "error"), ("skipped", "not_run")):
        node = case.find(tag)
        if node is not None:
            outcome = kind  # type: ignore[assignment]
            message = node.get("message", "") or ""
            details = _readable((node.text or "").strip())
            kinds = [ln[2:] for ln in details.splitlines() if ln.startswith("- ")]
            if details.startswith("Schemathesis found") and kinds:
                message = "; ".join(kinds)  # "ST201 Schema-violating request accepted; ..."
            if kind == "not_run":
                message = message.removeprefix("Skipped: ")
                details = ""
                if message.startswith(NOT_APPLICABLE):
                    outcome, message = "not_applicable", message.removeprefix(NOT_APPLICABLE)
            break
    return TestResult(
        suite=_suite_name(case.get("classname", ""), properties),
        name=name,
        outcome=outcome,
        duration_seconds=float(case.get("time", "0") or 0),
        message=message,
        details=details,
        reproduce=properties.get("reproduce", ""),
        reproduce_pytest=properties.get("reproduce_pytest", ""),
    )


def _without_containers(tests: list[TestResult]) -> tuple[TestResult, ...]:
    """Drop a passing test whose subtests (``name[...]``) are listed: they carry the outcomes."""
    parents = {t.name.split("[", 1)[0] for t in tests if "[" in t.name}
    return tuple(t for t in tests if not (t.name in parents and t.outcome == "passed"))


def parse_junit(path: str | Path) -> GateResult:
    """Parse pytest's JUnit XML (one or several `<testsuite>`s) into a :class:`GateResult`."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise JUnitUnreadable(f"cannot read JUnit report {path}: {exc}") from exc
    suites_xml = [root] if root.tag == "testsuite" else list(root.iterfind("testsuite"))
    properties: dict[str, str] = {}
    summed: Counter[str] = Counter()
    by_suite: dict[str, list[TestResult]] = {}
    for suite in suites_xml:
        for prop in suite.iterfind("properties/property"):
            properties[prop.get("name", "")] = prop.get("value", "")
        inherited: dict[str, dict[str, str]] = {}
        for case in suite.iterfind("testcase"):
            result = _testcase(case, inherited)
            by_suite.setdefault(result.suite, []).append(result)
            for prop in case.iterfind("properties/property"):
                if prop.get("name") in SUMMED_PROPERTIES:
                    summed[prop.get("name", "")] += int(prop.get("value", "0") or 0)
    properties.update({name: str(total) for name, total in summed.items()})
    return GateResult(
        suites=tuple(
            SuiteResult(name=n, tests=_without_containers(ts)) for n, ts in by_suite.items()
        ),
        properties=properties,
    )
