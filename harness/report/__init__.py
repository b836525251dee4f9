"""Rendering of run results: a gate's JUnit XML into `summary.md` and a self-contained `report.html`."""

from __future__ import annotations

from .html import render_html
from .junit import (
    NOT_APPLICABLE,
    NOT_APPLICABLE_CODE,
    RULED_OUT_HEADER,
    RULED_OUT_TOKEN_ENV,
    GateResult,
    JUnitUnreadable,
    SuiteResult,
    TestResult,
    parse_junit,
    ruled_out_by_profile,
)
from .markdown import render_markdown
from .run import RunInfo
from .verdict import Verdict, annotate_junit, judge, write_could_not_run_junit

__all__ = [
    "NOT_APPLICABLE",
    "NOT_APPLICABLE_CODE",
    "RULED_OUT_HEADER",
    "RULED_OUT_TOKEN_ENV",
    "GateResult",
    "JUnitUnreadable",
    "RunInfo",
    "SuiteResult",
    "TestResult",
    "Verdict",
    "annotate_junit",
    "judge",
    "parse_junit",
    "render_html",
    "render_markdown",
    "ruled_out_by_profile",
    "write_could_not_run_junit",
]
