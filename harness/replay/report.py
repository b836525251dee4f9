"""The replay report: ``reports/<timestamp>-replay/`` with ``summary.md``, ``junit.xml``, ``events.jsonl``.

* ``events.jsonl``: one line per send (pass, seq, copy, rail, event id, where it was read, sent, HTTP
  status, the target's status word, outcome, error code, latency, mismatches).
* ``junit.xml``: one test suite per pass with one test case per send (a mismatch is a ``failure``, a
  delivery that got no answer an ``error``, a dry-run send ``skipped``), a suite for the exactly-once
  state checks, and one for input lines that were skipped (``error``, with file and line).
* ``summary.md``: the verdict, totals per pass, the state before and after each pass, every input
  anomaly, why the non-applied sends changed nothing (grouped by the target's reason), every mismatch
  and skipped line, and the first sends of each pass with their reasons (all of them are in
  ``events.jsonl``).

No secret and no signature header is ever written.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from harness.redaction import redact_url
from harness.replay.exactly_once import StateSnapshot
from harness.replay.results import Outcome, SendResult
from harness.replay.runner import ReplayRun

__all__ = ["SUMMARY_EVENT_ROWS", "not_json_line", "report_folder", "write_report"]

#: Sends listed per pass in ``summary.md``; the rest are in ``events.jsonl`` and ``junit.xml``.
SUMMARY_EVENT_ROWS = 200

_OUTCOME_COLUMNS = (
    Outcome.APPLIED,
    Outcome.DUPLICATE,
    Outcome.IGNORED,
    Outcome.ACCEPTED,
    Outcome.REJECTED,
    Outcome.ERROR,
    Outcome.NOT_SENT,
)


def report_folder(report_dir: str | Path, at: float) -> Path:
    """A new ``<report_dir>/<UTC timestamp>-replay`` folder (``-2``, ``-3``... if one exists)."""
    stamp = datetime.fromtimestamp(at, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path(report_dir)
    folder = base / f"{stamp}-replay"
    suffix = 2
    while folder.exists():
        folder = base / f"{stamp}-replay-{suffix}"
        suffix += 1
    folder.mkdir(parents=True)
    return folder


def write_report(run: ReplayRun, folder: Path) -> Path:
    """Write the three files into ``folder``; returns the path of ``summary.md``."""
    with (folder / "events.jsonl").open("w", encoding="utf-8") as handle:
        for results in run.passes:
            for result in results:
                handle.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    _junit(run).write(folder / "junit.xml", encoding="utf-8", xml_declaration=True)
    summary = folder / "summary.md"
    summary.write_text(_summary(run), encoding="utf-8")
    return summary


def _case(result: SendResult) -> ET.Element:
    case = ET.Element(
        "testcase",
        name=f"{result.rail} {result.event_id} (send {result.seq}, copy {result.copy})",
        classname=f"replay.pass{result.pass_number}.{result.rail}",
        time=f"{(result.latency_ms or 0) / 1000:.6f}",
    )
    if result.outcome is Outcome.NOT_SENT:
        ET.SubElement(case, "skipped", message="dry run")
    elif result.outcome is Outcome.ERROR:
        error = ET.SubElement(case, "error", message=result.message or "no answer")
        error.text = f"read from {result.origin}"
    elif result.mismatches:
        first = result.mismatches[0]
        failure = ET.SubElement(case, "failure", message=first.message, type=first.code)
        failure.text = "\n".join(f"{m.code}: {m.message}" for m in result.mismatches) + (
            f"\nread from {result.origin}"
        )
    ET.SubElement(case, "system-out").text = (
        f"outcome={result.outcome.value} http={result.http_status} status={result.status} "
        f"error_code={result.error_code} reason={result.reason}"
    )
    return case


def _suite(name: str, cases: Sequence[ET.Element]) -> ET.Element:
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(sum(1 for c in cases if c.find("failure") is not None)),
        errors=str(sum(1 for c in cases if c.find("error") is not None)),
        skipped=str(sum(1 for c in cases if c.find("skipped") is not None)),
    )
    suite.extend(cases)
    return suite


def _junit(run: ReplayRun) -> ET.ElementTree[ET.Element]:
    root = ET.Element("testsuites", name="payharness replay")
    for number, results in enumerate(run.passes, start=1):
        root.append(_suite(f"replay pass {number}", [_case(r) for r in results]))
    checks = []
    for mismatch in run.state_mismatches:
        case = ET.Element("testcase", name=mismatch.code, classname="replay.exactly_once")
        ET.SubElement(case, "failure", message=mismatch.message, type=mismatch.code)
        checks.append(case)
    if run.state_checked and not run.state_mismatches:
        checks.append(
            ET.Element(
                "testcase", name="later_passes_changed_nothing", classname="replay.exactly_once"
            )
        )
    root.append(_suite("exactly-once state", checks))
    inputs = []
    for problem in run.problems:
        case = ET.Element("testcase", name=problem.where, classname="replay.input")
        ET.SubElement(case, "error", message=problem.message, type=problem.code)
        inputs.append(case)
    for anomaly in run.anomalies:
        case = ET.Element("testcase", name=anomaly.code, classname="replay.input.anomaly")
        failure = ET.SubElement(case, "failure", message=anomaly.message, type=anomaly.code)
        failure.text = "read from " + ", ".join(anomaly.origins)
        inputs.append(case)
    root.append(_suite("recording input", inputs))
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in root)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in root)))
    root.set("errors", str(sum(int(s.get("errors", "0")) for s in root)))
    return ET.ElementTree(root)


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _state_rows(run: ReplayRun) -> list[str]:
    snapshots = [s for s in run.states if s is not None and s.served]
    if not snapshots or not run.account_ids:
        return []
    header = ["account", "before pass 1"] + [
        f"after pass {n}" for n in range(1, len(run.passes) + 1)
    ]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for account_id in run.account_ids:
        cells = [f"`{account_id}`"]
        for snapshot in run.states:
            cells.append(_cell(snapshot, account_id))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _cell(snapshot: StateSnapshot | None, account_id: str) -> str:
    if snapshot is None or not snapshot.served:
        return "not read"
    state = snapshot.accounts.get(account_id)
    if state is None:
        return "missing" if account_id in snapshot.missing else "not read"
    return (
        f"{state.balance_micros} µUSD, {len(state.entries)}"
        f"{'' if state.complete else '+'} entries, {state.plan_tier}"
    )


def not_json_line(run: ReplayRun) -> str | None:
    """One line saying the target's answers cannot be judged, or None when they all were JSON."""
    odd = run.non_json_answers()
    if not odd:
        return None
    sent = sum(1 for results in run.passes for r in results if r.http_status)
    return (
        f"could not judge: {len(odd)} of {sent} answers from {redact_url(run.config.target)} were "
        f"not JSON (first: HTTP {odd[0].http_status}); point --target at the payments service"
    )


def _verdict(run: ReplayRun) -> str:
    if run.config.dry_run and not run.anomalies:
        return "DRY RUN: nothing was sent."
    unjudged = not_json_line(run)
    if unjudged:
        return f"COULD NOT JUDGE: {unjudged.removeprefix('could not judge: ')}."
    if run.ok:
        tail = (
            " and the later passes changed nothing"
            if run.state_checked
            else " (the target's state was not checked; see the notes)"
        )
        return f"PASS: every event took effect at most once{tail}."
    parts = []
    if run.mismatches():
        parts.append(f"{len(run.mismatches())} mismatch(es)")
    if run.problems:
        parts.append(f"{len(run.problems)} input line(s) skipped")
    if run.anomalies:
        parts.append(f"{len(run.anomalies)} input anomaly(ies): exactly-once cannot be established")
    return ("DRY RUN, " if run.config.dry_run else "FAIL: ") + ", ".join(parts) + "."


def _reason_rows(run: ReplayRun) -> list[str]:
    reasons = run.reasons()
    if not reasons:
        return []
    rows = [
        "",
        "## Why events changed nothing (all passes)",
        "",
        "| outcome | reason | sends | e.g. events | first reason given |",
        "|---|---|---|---|---|",
    ]
    for r in reasons:
        rows.append(
            f"| {r.outcome} | {_md(r.code)} | {r.count} | "
            f"{', '.join(f'`{_md(e)}`' for e in r.examples)} | {_md(r.detail or '')} |"
        )
    return rows


def _anomaly_rows(run: ReplayRun) -> list[str]:
    if not run.anomalies:
        return []
    rows = ["", f"## Input anomalies ({len(run.anomalies)})", ""]
    for a in run.anomalies:
        where = ", ".join(a.origins[:5]) + (", ..." if len(a.origins) > 5 else "")
        rows.append(
            f"- **{a.code}**: {_md(a.message)}" + (f" (read from {where})" if where else "")
        )
    return rows


def _summary(run: ReplayRun) -> str:
    config = run.config
    lines = [
        "# payharness replay",
        "",
        f"**{_verdict(run)}**",
        "",
        f"- target: `{redact_url(config.target)}` (webhook path `{config.webhook_path}`)",
        f"- deliveries: {run.deliveries} ({run.events} distinct events); passes: {len(run.passes)}",
        f"- order: {config.order.value}"
        + (f" (seed {config.seed})" if config.seed is not None else "")
        + f"; duplicate: {config.duplicate}; concurrency: {config.concurrency}; rate: "
        + (f"{config.rate_per_second}/s" if config.rate_per_second else "unlimited"),
        f"- started {datetime.fromtimestamp(run.started_at, tz=UTC).isoformat()}, took "
        f"{run.finished_at - run.started_at:.2f} s",
        "",
        "## Totals",
        "",
        "| pass | sends | " + " | ".join(o.value for o in _OUTCOME_COLUMNS) + " | mismatched |",
        "|---|---|" + "---|" * len(_OUTCOME_COLUMNS) + "---|",
    ]
    for summary in run.summaries():
        counts = " | ".join(str(summary.count(o)) for o in _OUTCOME_COLUMNS)
        lines.append(
            f"| {summary.pass_number} | {summary.sends} | {counts} | {summary.mismatched_sends} |"
        )
    lines += _anomaly_rows(run)
    lines += _reason_rows(run)
    state_rows = _state_rows(run)
    if state_rows:
        lines += ["", "## Accounts (balance, ledger entries, tier)", "", *state_rows]
    if run.notes:
        lines += ["", "## Notes", "", *[f"- {_md(n)}" for n in run.notes]]
    mismatches = run.mismatches()
    lines += ["", f"## Mismatches ({len(mismatches)})", ""]
    if not mismatches:
        lines.append("None.")
    for m in mismatches:
        where = (
            f"pass {m.pass_number} send {m.seq} `{m.event_id}`" if m.seq else f"`{m.account_id}`"
        )
        lines.append(f"- **{m.code}** ({where}): {_md(m.message)}")
    if run.problems:
        lines += ["", f"## Skipped input ({len(run.problems)})", ""]
        lines += [f"- `{p.where}` **{p.code}**: {_md(p.message)}" for p in run.problems]
    for number, results in enumerate(run.passes, start=1):
        lines += [
            "",
            f"## Pass {number}: sends",
            "",
            "| seq | rail | event | copy | sent | HTTP | status | outcome | reason | mismatch |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in results[:SUMMARY_EVENT_ROWS]:
            lines.append(
                f"| {r.seq} | {r.rail} | `{_md(r.event_id)}` | {r.copy} | {'yes' if r.sent else 'no'} "
                f"| {r.http_status or ''} | {_md(r.status or r.error_code or '')} "
                f"| {r.outcome.value} | {_md(r.reason or '')} "
                f"| {', '.join(m.code for m in r.mismatches)} |"
            )
        if len(results) > SUMMARY_EVENT_ROWS:
            lines.append(
                f"\n{len(results) - SUMMARY_EVENT_ROWS} more sends in `events.jsonl` and `junit.xml`."
            )
    return "\n".join(lines) + "\n"
