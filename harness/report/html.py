"""`report.html`: the same content as `summary.md` as one self-contained page (inline CSS, no scripts, no
external assets), so it opens from a CI artifact with no network."""

from __future__ import annotations

from html import escape

from ..redaction import redact_text
from .junit import GateResult, TestResult
from .markdown import headline
from .run import RunInfo

__all__ = ["render_html"]

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24}
h1 .passed{color:#1a7f37} h1 .failed,h1 .could,h1 .incomplete{color:#cf222e}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa} code,pre{font:12.5px/1.4 ui-monospace,monospace}
pre{background:#f6f8fa;padding:.75rem;overflow:auto;white-space:pre-wrap;word-break:break-word}
.passed{color:#1a7f37} .failed,.error,.not_run{color:#cf222e;font-weight:600}
.incomplete{color:#9a6700;font-weight:600} .not_applicable{color:#57606a}
details{margin:.5rem 0 1rem} summary{cursor:pointer;font-weight:600}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem} dt{font-weight:600}
"""


def _test_row(test: TestResult) -> str:
    words = test.outcome.replace("_", " ")
    reason = test.message if test.outcome in ("not_run", "not_applicable") else ""
    return (
        f"<tr><td><code>{escape(test.name)}</code></td>"
        f'<td class="{test.outcome}">{words}</td><td>{escape(reason)}</td>'
        f"<td>{test.duration_seconds:.2f}</td></tr>"
    )


def _failure(test: TestResult, run: RunInfo) -> str:
    reproduce = [test.reproduce or run.command]
    if test.reproduce_pytest:
        reproduce.append(test.reproduce_pytest)
    return (
        f'<details open><summary class="{test.outcome}">{escape(test.suite)} :: '
        f"{escape(test.name)} ({test.outcome})</summary>"
        f"<p>{escape(headline(test.message))}</p>"
        f"<pre>{escape(test.details or test.message)}</pre>"
        f"<p>Reproduce:</p><pre>{escape(chr(10).join(reproduce))}</pre></details>"
    )


def render_html(result: GateResult, run: RunInfo) -> str:
    """The whole `report.html`."""
    verdict_class = run.verdict.split()[0].lower()
    facts = [
        ("target", run.target + (f" ({run.liveness})" if run.liveness else "")),
        ("suites", ", ".join(run.suites)),
        ("seed", str(run.seed)),
        ("examples per operation", str(run.examples)),
        ("workers", str(run.workers)),
        ("generated cases", result.properties.get("generated_cases", "not reported")),
        ("started", run.started_at),
        ("wall time", f"{run.wall_seconds:.1f} s"),
        ("tests", result.counts()),
        ("replay", run.command),
    ]
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>payharness gate: {escape(run.verdict)}</title><style>{_CSS}</style></head><body>",
        f'<h1>payharness gate: <span class="{verdict_class}">'
        f"{escape(run.verdict_line or run.verdict)}</span></h1>",
        "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts) + "</dl>",
    ]
    parts += [f"<p><em>{escape(note)}</em></p>" for note in run.notes]
    for suite in result.suites:
        state = suite.state
        parts.append(
            f'<h2>{escape(suite.name)}: <span class="{state.lower()}">{state}</span> '
            f"({escape(suite.counts())})</h2>"
        )
        parts.append(
            "<table><tr><th>test</th><th>outcome</th><th>why not run</th><th>seconds</th></tr>"
        )
        parts += [_test_row(t) for t in suite.tests]
        parts.append("</table>")
    failures = [t for t in result.tests if t.outcome in ("failed", "error")]
    if failures:
        parts.append("<h2>Failures</h2>")
        parts += [_failure(t, run) for t in failures]
    if not result.tests:
        parts.append("<p>No test ran: the gate could not run its suites.</p>")
    parts.append("</body></html>\n")
    return redact_text("\n".join(parts))
