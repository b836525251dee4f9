"""`summary.md`: the gate's verdict, per suite and test, and for each failure what happened and how to replay.

Plain GitHub-flavoured Markdown, so it reads in a terminal, in a CI job summary and in a pull request.
"""

from __future__ import annotations

from ..redaction import redact_text
from .junit import GateResult, TestResult
from .run import RunInfo

__all__ = ["headline", "render_markdown"]

_MARK = {
    "passed": "pass",
    "failed": "**FAIL**",
    "error": "**ERROR**",
    "not_run": "**not run**",
    "not_applicable": "not applicable",
}
_MAX_DETAILS = 6_000
_MAX_HEADLINE = 300


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def headline(message: str) -> str:
    """The first line of a failure message, cut at a word (never mid-token) when very long."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    if len(first) <= _MAX_HEADLINE:
        return first
    cut = first[:_MAX_HEADLINE].rsplit(" ", 1)[0]
    return f"{cut} … (the whole text is below)"


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
        out += [f"> {_cell(headline(test.message))}", ""]
    out += ["```text", details.replace("```", "`` `"), "```", "", "Reproduce:", "", "```sh"]
    out += _reproduce(test, run)
    out += ["```", ""]
    return out


def _reason(test: TestResult) -> str:
    return f" {_cell(test.message)}" if test.outcome in ("not_run", "not_applicable") else ""


def render_markdown(result: GateResult, run: RunInfo) -> str:
    """The whole `summary.md`."""
    generated = result.properties.get("generated_cases", "not reported")
    out = [
        f"# payharness gate: {run.verdict_line or run.verdict}",
        "",
        f"- target: `{run.target}`" + (f" ({run.liveness})" if run.liveness else ""),
        f"- suites: {', '.join(run.suites)}",
        f"- seed: `{run.seed}`, examples per operation: {run.examples}, workers: {run.workers}",
        f"- generated cases (schemathesis): {generated}",
        f"- started: {run.started_at}, wall time: {run.wall_seconds:.1f} s",
        f"- tests: {result.counts()}",
        f"- replay the whole run: `{run.command}`",
        "",
    ]
    out += [f"> {note}" for note in run.notes]
    if run.notes:
        out.append("")
    if result.suites:
        out += ["| suite | result |", "|---|---|"]
        out += [f"| {suite.name}: {suite.state} | {suite.counts()} |" for suite in result.suites]
        out.append("")
    for suite in result.suites:
        out += [f"## {suite.name}: {suite.state} ({suite.counts()})", ""]
        out += ["| test | outcome | seconds |", "|---|---|---|"]
        for test in suite.tests:
            out.append(
                f"| `{_cell(test.name)}` | {_MARK[test.outcome]}{_reason(test)} | "
                f"{test.duration_seconds:.2f} |"
            )
        out.append("")
    failures = [t for t in result.tests if t.outcome in ("failed", "error")]
    if failures:
        out += ["## Failures", ""]
        for test in failures:
            out += _failure(test, run)
    if not result.tests:
        out += ["No test ran: the gate could not run its suites (the reason is above).", ""]
    return redact_text("\n".join(out).rstrip() + "\n")
