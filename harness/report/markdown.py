"""`summary.md`: the gate's verdict, per suite and test, and for each failure what happened and how to replay.

Plain GitHub-flavoured Markdown, so it reads in a terminal, in a CI job summary and in a pull request.
"""

from __future__ import annotations

from ..redaction import redact_text
from .junit import GateResult, TestResult
from .run import RunInfo

__all__ = ["render_markdown"]

_MARK = {"passed": "pass", "failed": "**FAIL**", "error": "**ERROR**", "skipped": "skip"}
_MAX_DETAILS = 6_000


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _reproduce(test: TestResult, run: RunInfo) -> list[str]:
    lines = [test.reproduce or run.command]
    if test.reproduce_pytest:
        lines.append(test.reproduce_pytest)
    return lines


def _failure(test: TestResult, run: RunInfo) -> list[str]:
    details = test.details or test.message
    if len(details) > _MAX_DETAILS:
        details = details[:_MAX_DETAILS] + "\n... (truncated; the full text is in junit.xml)"
    out = [f"### {test.suite} :: {test.name} ({test.outcome})", ""]
    if test.message:
        out += [f"> {_cell(test.message[:500])}", ""]
    out += ["```text", details.replace("```", "`` `"), "```", "", "Reproduce:", "", "```sh"]
    out += _reproduce(test, run)
    out += ["```", ""]
    return out


def render_markdown(result: GateResult, run: RunInfo) -> str:
    """The whole `summary.md`."""
    generated = result.properties.get("generated_cases", "not reported")
    out = [
        f"# payharness gate: {run.verdict}",
        "",
        f"- target: `{run.target}`",
        f"- suites: {', '.join(run.suites)}",
        f"- seed: `{run.seed}`, examples per operation: {run.examples}, workers: {run.workers}",
        f"- generated cases (schemathesis): {generated}",
        f"- started: {run.started_at}, wall time: {run.wall_seconds:.1f} s",
        f"- tests: {result.count('passed')} passed, {result.count('failed')} failed, "
        f"{result.count('error')} errors, {result.count('skipped')} skipped",
        f"- replay the whole run: `{run.command}`",
        "",
    ]
    out += [f"> {note}" for note in run.notes]
    if run.notes:
        out.append("")
    for suite in result.suites:
        out += [f"## {suite.name}: {'passed' if suite.passed else 'FAILED'}", ""]
        out += ["| test | outcome | seconds |", "|---|---|---|"]
        for test in suite.tests:
            out.append(
                f"| `{_cell(test.name)}` | {_MARK[test.outcome]} | {test.duration_seconds:.2f} |"
            )
        out.append("")
    failures = [t for t in result.tests if t.outcome in ("failed", "error")]
    if failures:
        out += ["## Failures", ""]
        for test in failures:
            out += _failure(test, run)
    if not result.tests:
        out += ["No test ran: the gate could not run its suites (see the console output).", ""]
    return redact_text("\n".join(out).rstrip() + "\n")
