"""Rendering of run results: a gate's JUnit XML into `summary.md` and a self-contained `report.html`."""

from __future__ import annotations

from .html import render_html
from .junit import GateResult, JUnitUnreadable, SuiteResult, TestResult, parse_junit
from .markdown import render_markdown
from .run import RunInfo

__all__ = [
    "GateResult",
    "JUnitUnreadable",
    "RunInfo",
    "SuiteResult",
    "TestResult",
    "parse_junit",
    "render_html",
    "render_markdown",
]
