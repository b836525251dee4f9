"""Live progress of a gate run: a pytest plugin that prints one line per finished test to stderr.

The gate runs pytest in a subprocess with pytest's own terminal output sent to a log file, and streams this
plugin's lines to the console, so a person watching a CI job sees each test as it ends.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

import pytest

from harness.report import NOT_APPLICABLE

__all__ = ["Progress", "pytest_configure"]


class Progress:
    """Counts finished tests and prints a line for each (registered once, on the xdist controller)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._done = 0
        self._started = time.monotonic()
        #: tests whose results came per subtest (schemathesis: one per API operation)
        self._with_subtests: dict[str, int] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Say how many tests will run."""
        self._print(
            f"payharness gate: {len(session.items)} test(s) collected (the contract suite's "
            "schemathesis test reports one result per API operation)"
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """One line per test outcome (and per schemathesis operation, which runs as a subtest)."""
        if report.when != "call" and report.outcome == "passed":
            return
        label = report.nodeid.split("::", 1)[-1]
        context = getattr(report, "context", None)
        if context is not None:  # a subtest (schemathesis: one per API operation)
            parent = report.nodeid.split("[", 1)[0]
            self._with_subtests[parent] = self._with_subtests.get(parent, 0) + 1
            if getattr(context, "msg", None):
                label = f"{label} [{context.msg}]"
        elif report.passed and report.nodeid in self._with_subtests:
            # the container of the subtests above: its outcome is theirs, not one more result
            count = self._with_subtests[report.nodeid]
            self._print(f"         {label}: the {count} results above")
            return
        self._done += 1
        outcome, reason = _outcome(report)
        elapsed = time.monotonic() - self._started
        self._print(
            f"[{self._done:>4}] {outcome:<8} {label}  "
            f"({report.duration:.2f}s, {elapsed:.1f}s total)"
        )
        if reason:
            self._print(f"         {reason}")

    def _print(self, line: str) -> None:
        print(line, file=self._stream, flush=True)


def _outcome(report: pytest.TestReport) -> tuple[str, str]:
    """The word for a finished test (the verdict model's, so console and summary agree) and a short why."""
    if report.skipped:
        longrepr = report.longrepr
        reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr)
        reason = reason.removeprefix("Skipped: ")
        if reason.startswith(NOT_APPLICABLE):
            return "N/A", reason.removeprefix(NOT_APPLICABLE)
        return "NOT RUN", reason
    if report.failed and report.when == "call":
        lines = str(report.longrepr).strip().splitlines()
        said = [ln for ln in lines if ln.startswith(("[", "expected:", "E   "))][:3]
        return "FAILED", "\n         ".join(ln[:300] for ln in said)
    if report.failed:
        return f"ERROR ({report.when})", str(report.longrepr).strip().splitlines()[-1][:300]
    return report.outcome.upper(), ""


def pytest_configure(config: pytest.Config) -> None:
    """Register the progress printer on the controller (xdist workers report through it)."""
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(Progress(sys.stderr), "payharness-progress")
