"""The catch matrix: which suite caught which defective variant, as Markdown and JSON.

Built from the self-test plugin's JSON lines (:mod:`harness.selftest.plugin`). A cell is

* ``caught``: the suite failed on the variant (an `AssertionError`: it found the target wrong), with the
  first test that did and its message;
* ``missed``: every test of the suite ran and passed (or skipped) on the variant;
* ``error``: a test could not run (an exception that is not a suite failure);
* ``not run``: no test of the suite ran against the variant.

A cell also counts its catches: how many tests of the suite failed on the variant (the self-test plugin
stops a suite after :data:`CATCHES_PER_SUITE` of them).

The verdict: the clean service passes every test (no catch, no error), every defective variant is caught
by at least :data:`MIN_CATCHES` tests (no single point of catch: issue 11, class 5), and no suite that
declares it catches a variant (:mod:`harness.selftest.catchers`) runs and misses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .catchers import catchers
from .variants import Variant

__all__ = [
    "CATCHES_PER_SUITE",
    "MIN_CATCHES",
    "CatchMatrix",
    "Cell",
    "build_matrix",
    "read_records",
]

#: Tests that must catch each defective variant.
MIN_CATCHES = 2
#: Catches a suite records for one variant before the self-test plugin skips its remaining tests.
CATCHES_PER_SUITE = 2


@dataclass(slots=True, kw_only=True)
class Cell:
    """One (variant, suite) outcome."""

    status: str = "not run"
    test: str = ""
    message: str = ""
    tests: int = 0
    skipped: int = 0
    seconds: float = 0.0
    skip_reasons: list[str] = field(default_factory=list)
    #: the tests of this suite that caught the variant, in the order they did
    catches: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class CatchMatrix:
    """Outcomes of every suite against every variant, and what they add up to."""

    variants: tuple[Variant, ...]
    suites: tuple[str, ...]
    cells: dict[tuple[str, str], Cell]
    wall_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def cell(self, variant: str, suite: str) -> Cell:
        """The cell of one variant and suite."""
        return self.cells.setdefault((variant, suite), Cell())

    def caught_by(self, variant: str) -> list[str]:
        """The suites that caught `variant`."""
        return [s for s in self.suites if self.cell(variant, s).status == "caught"]

    def catches(self, variant: str) -> list[str]:
        """Every test that caught `variant`, as `suite::test`; a test the clean reference fails too
        catches nothing (it fails whatever the defect)."""
        clean = {
            (s, t)
            for v in self.variants
            if v.clean
            for s in self.suites
            for t in self.cell(v.name, s).catches
        }
        return [
            f"{s}::{t}"
            for s in self.suites
            for t in self.cell(variant, s).catches
            if (s, t) not in clean
        ]

    def problems(self) -> list[str]:
        """Why the self-test fails (empty when it passes)."""
        found = []
        for v in self.variants:
            row = [self.cell(v.name, s) for s in self.suites]
            if v.clean:
                bad = [
                    f"{s}: {c.status} in {c.test}"
                    for s, c in zip(self.suites, row, strict=True)
                    if c.status in ("caught", "error")
                ]
                found += [f"the clean reference fails {b}" for b in bad]
                if all(c.status == "not run" for c in row):
                    found.append("the clean reference was not run")
            elif not self.caught_by(v.name):
                errors = [s for s, c in zip(self.suites, row, strict=True) if c.status == "error"]
                found.append(
                    f"{v.name} is caught by no suite"
                    + (f" (errors in {', '.join(errors)})" if errors else "")
                )
            elif len(self.catches(v.name)) < MIN_CATCHES:
                found.append(
                    f"{v.name} is caught by only {len(self.catches(v.name))} test(s): "
                    f"{', '.join(self.catches(v.name))} (at least {MIN_CATCHES} wanted)"
                )
            if not v.clean:
                found += [
                    f"{v.name} is declared caught by {s} (harness/selftest/catchers.py), but {s} "
                    "ran and missed it"
                    for s in catchers(v.name)
                    if s in self.suites and self._ran_and_missed(v.name, s)
                ]
        return found

    def _ran_and_missed(self, variant: str, suite: str) -> bool:
        """Whether `suite` ran tests against `variant` and none caught it (a suite skipped whole because
        the variant was already caught elsewhere did not miss it)."""
        cell = self.cell(variant, suite)
        return cell.status == "missed" and cell.tests > cell.skipped

    @property
    def passed(self) -> bool:
        """The clean service passes everything and every defect is caught."""
        return not self.problems()

    def to_json(self) -> dict[str, Any]:
        """The matrix as JSON (what `catch-matrix.json` holds)."""
        return {
            "passed": self.passed,
            "problems": self.problems(),
            "wall_seconds": round(self.wall_seconds, 1),
            "suites": list(self.suites),
            "notes": list(self.notes),
            "variants": [
                {
                    "name": v.name,
                    "defect": v.defect,
                    "source": v.source,
                    "component": v.component or None,
                    "caught_by": self.caught_by(v.name),
                    "catches": len(self.catches(v.name)),
                    "caught_by_tests": self.catches(v.name),
                    "seconds": round(sum(self.cell(v.name, s).seconds for s in self.suites), 2),
                    "suites": {
                        s: {
                            "status": self.cell(v.name, s).status,
                            "test": self.cell(v.name, s).test or None,
                            "message": self.cell(v.name, s).message or None,
                            "tests": self.cell(v.name, s).tests,
                            "skipped": self.cell(v.name, s).skipped,
                        }
                        for s in self.suites
                    },
                }
                for v in self.variants
            ],
        }

    def label(self, variant: Variant, suite: str, *, markdown: bool = False) -> str:
        """How one cell reads: the clean row passes or fails, a defect row is caught or missed."""
        cell = self.cell(variant.name, suite)
        status = cell.status
        if status == "missed" and cell.tests and cell.tests == cell.skipped:
            status = (
                "not run"  # every test skipped: the variant was already caught, or none could run
            )
        if variant.clean:
            words = {"missed": "pass", "caught": "FAIL", "error": "ERROR", "not run": "-"}
        elif markdown:
            words = {"caught": "**caught**", "missed": "·", "error": "error", "not run": "-"}
        else:
            words = {"caught": "CAUGHT", "missed": ".", "error": "ERROR", "not run": "-"}
        return words.get(status, status)

    def to_markdown(self) -> str:
        """The matrix as a Markdown report: the grid, then each catch with its first failing test."""
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            "# payharness self-test: catch matrix",
            "",
            f"**{verdict}**: the clean reference must pass every suite and every defective variant must be "
            f"caught by at least {MIN_CATCHES} tests. Wall time {self.wall_seconds:.1f} s.",
            "",
            "| variant (swapped component) | " + " | ".join(self.suites) + " | tests |",
            "|---|" + "---|" * len(self.suites) + "---|",
        ]
        for v in self.variants:
            name = f"**{v.name}**" + (f" (`{v.component}`)" if v.component else "")
            row = [self.label(v, s, markdown=True) for s in self.suites]
            count = "" if v.clean else str(len(self.catches(v.name)))
            lines.append(f"| {name} | " + " | ".join(row) + f" | {count} |")
        lines += ["", "## Defects and the checks that caught them", ""]
        for v in self.variants:
            if v.clean:
                continue
            lines.append(f"- **{v.name}**: {v.defect} ({v.source})")
            for s in self.caught_by(v.name):
                c = self.cell(v.name, s)
                first = c.message.splitlines()[0] if c.message else ""
                lines.append(f"  - {s}: `{c.test}`: {first}")
                lines += [f"    - also `{t}`" for t in c.catches[1:]]
            if not self.caught_by(v.name):
                lines.append("  - **not caught**")
        problems = self.problems()
        if problems:
            lines += ["", "## Problems", ""] + [f"- {p}" for p in problems]
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def to_text(self) -> str:
        """A compact console grid."""
        width = max(len(v.name) for v in self.variants)
        columns = [max(len(s), 6) for s in self.suites]
        rows = [
            " " * width
            + "  "
            + "  ".join(f"{s:^{w}}" for s, w in zip(self.suites, columns, strict=True))
            + "  tests"
        ]
        for v in self.variants:
            cells = [f"{self.label(v, s):^{w}}" for s, w in zip(self.suites, columns, strict=True)]
            count = "" if v.clean else f"{len(self.catches(v.name)):>5}"
            rows.append(f"{v.name:<{width}}  " + "  ".join(cells) + f"  {count}")
        return "\n".join(rows) + "\n"


def build_matrix(
    variants: Sequence[Variant],
    suites: Sequence[str],
    records: Iterable[Mapping[str, Any]],
) -> CatchMatrix:
    """Fold the plugin's records into a matrix."""
    matrix = CatchMatrix(variants=tuple(variants), suites=tuple(suites), cells={})
    for record in records:
        cell = matrix.cell(str(record["variant"]), str(record["suite"]))
        outcome = str(record["outcome"])
        cell.seconds += float(record.get("seconds", 0.0))
        if record.get("phase") == "call" or outcome in ("caught", "error", "skipped"):
            cell.tests += 1 if record.get("phase") != "teardown" else 0
        if outcome == "skipped":
            cell.skipped += 1
            reason = str(record.get("message", ""))
            if reason and reason not in cell.skip_reasons:
                cell.skip_reasons.append(reason)
        if outcome == "caught" and str(record["test"]) not in cell.catches:
            cell.catches.append(str(record["test"]))
        if outcome == "caught" and cell.status != "caught":
            cell.status, cell.test, cell.message = (
                "caught",
                str(record["test"]),
                str(record["message"]),
            )
        elif outcome == "error" and cell.status not in ("caught", "error"):
            cell.status, cell.test, cell.message = (
                "error",
                str(record["test"]),
                str(record["message"]),
            )
        elif outcome in ("passed", "skipped") and cell.status == "not run":
            cell.status = "missed"
    return matrix


def read_records(text: str) -> list[dict[str, Any]]:
    """The JSON lines the plugin wrote."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
