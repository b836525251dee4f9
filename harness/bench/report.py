"""The bench report: each figure printed with its ratio and goal, ``results.json``, ``summary.md`` and the
chart, in ``reports/<timestamp>-bench/``."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .results import BenchResult, Figure

__all__ = ["figure_line", "run_folder", "summary_markdown", "write_results"]

RESULTS_FILE = "results.json"
SUMMARY_FILE = "summary.md"


def run_folder(report_dir: Path, now: float) -> Path:
    """A new ``<report_dir>/<UTC timestamp>-bench/`` (suffixed when two runs share a second)."""
    stamp = datetime.fromtimestamp(now, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = report_dir / f"{stamp}-bench"
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = report_dir / f"{stamp}-bench-{suffix}"
    candidate.mkdir(parents=True)
    return candidate


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "req/s" or unit == "events/s":
        return f"{value:,.0f} {unit}"
    return f"{value:,.2f} {unit}"


def _verdict(figure: Figure) -> str:
    if figure.goal is None:
        return "no goal"
    met = figure.met
    if met is None:
        return f"goal {figure.goal.describe()}: not judged"
    return f"goal {figure.goal.describe()}: {'met' if met else 'MISSED'}"


def figure_line(figure: Figure) -> str:
    """One line: the figure, its ratio to the baseline, and the goal (or why it is not available)."""
    if figure.unavailable is not None:
        goal = f" (goal {figure.goal.describe()})" if figure.goal else ""
        return f"{figure.name}: not available: {figure.unavailable}{goal}"
    ratio = "n/a" if figure.ratio is None else f"{figure.ratio:.2f}"
    baseline = (
        f" vs {figure.baseline_name} {_number(figure.baseline, figure.unit)}"
        if figure.baseline_name
        else ""
    )
    detail = f" [{figure.detail}]" if figure.detail else ""
    return (
        f"{figure.name}: {_number(figure.value, figure.unit)}{baseline}; "
        f"ratio {ratio}; {_verdict(figure)}{detail}"
    )


def summary_markdown(results: Sequence[BenchResult], *, started_at: str, quick: bool) -> str:
    """A table of every figure, ratio and goal, then each benchmark's notes."""
    lines = [
        "# payharness bench",
        "",
        f"- started: {started_at}",
        f"- mode: {'quick (smoke check: numbers are not meaningful)' if quick else 'full'}",
        f"- machine: {platform.node()} {platform.machine()}, Python {platform.python_version()}",
        "",
        "| benchmark | figure | value | baseline | ratio | goal | verdict | detail |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        if result.unavailable or result.error:
            why = result.unavailable or f"error: {result.error}"
            lines.append(f"| {result.name} | (all) | not available: {_cell(why)} | | | | | |")
            continue
        for f in result.figures:
            if f.unavailable is not None:
                lines.append(
                    f"| {result.name} | {_cell(f.name)} | not available: {_cell(f.unavailable)} | | "
                    f"| {f.goal.describe() if f.goal else ''} | | |"
                )
                continue
            baseline = (
                f"{f.baseline_name}: {_number(f.baseline, f.unit)}" if f.baseline_name else ""
            )
            lines.append(
                f"| {result.name} | {_cell(f.name)} | {_number(f.value, f.unit)} | {_cell(baseline)} "
                f"| {'n/a' if f.ratio is None else f'{f.ratio:.2f}'} "
                f"| {f.goal.describe() if f.goal else ''} "
                f"| {'' if f.met is None else ('met' if f.met else 'MISSED')} | {_cell(f.detail)} |"
            )
    for result in results:
        if result.notes:
            lines += ["", f"## {result.name}: notes", ""]
            lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_results(
    run_dir: Path, results: Sequence[BenchResult], *, started_at: str, quick: bool, generator: str
) -> Path:
    """``results.json`` and ``summary.md`` in ``run_dir``; returns the JSON path."""
    document: dict[str, Any] = {
        "started_at": started_at,
        "quick": quick,
        "generator": generator,
        "machine": {
            "node": platform.node(),
            "machine": platform.machine(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "benchmarks": [r.to_json() for r in results],
    }
    path = run_dir / RESULTS_FILE
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (run_dir / SUMMARY_FILE).write_text(
        summary_markdown(results, started_at=started_at, quick=quick), encoding="utf-8"
    )
    return path
