"""`payharness gate --self-test --quick`: the clean reference passes every behaviour suite and every
defective variant is caught by at least two tests (issue 11: no single point of catch), each variant meeting
only the suites declared to catch it (harness/selftest/catchers.py) until its second catch.

The whole matrix (every suite against every variant, about 25 minutes on two cores) is
`payharness gate --self-test`; it also fails when a declared catcher runs and misses its variant, which keeps
the declarations this test relies on honest."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from harness.selftest import VARIANTS, selftest_command
from harness.selftest.matrix import MIN_CATCHES

SEED = 20261121


def _report(report_dir: Path) -> dict[str, object]:
    [path] = report_dir.glob("*-selftest/catch-matrix.json")
    report: dict[str, object] = json.loads(path.read_text("utf-8"))
    return report


# the clean reference's whole gate plus each variant's declared catchers, beside another worker: the
# timeout stops a hang, not a slow box
@pytest.mark.timeout(1200)
def test_the_self_test_passes_the_clean_reference_and_catches_every_variant_at_least_twice(
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    code = selftest_command(
        report_dir=tmp_path, examples=2, seed=SEED, env=dict(os.environ), quick=True, out=out
    )
    report = _report(tmp_path)
    assert report["problems"] == [], report["problems"]
    assert code == 0 and report["passed"] is True, out.getvalue()
    rows = {str(v["name"]): v for v in report["variants"]}  # type: ignore[attr-defined]
    assert set(rows) == {v.name for v in VARIANTS}
    clean = rows.pop("clean")
    assert {s["status"] for s in clean["suites"].values()} == {"missed"}, clean
    uncaught = [name for name, row in rows.items() if not row["caught_by"]]
    assert not uncaught, f"not caught: {uncaught}"
    single = {name: row["catches"] for name, row in rows.items() if row["catches"] < MIN_CATCHES}
    assert not single, f"caught by fewer than {MIN_CATCHES} tests: {single}"
    markdown = next(tmp_path.glob("*-selftest/catch-matrix.md")).read_text("utf-8")
    assert all(f"**{v.name}**" in markdown for v in VARIANTS)
    assert "## Problems" not in markdown


def test_a_defect_no_chosen_suite_can_see_fails_the_self_test(tmp_path: Path) -> None:
    """Margin math cannot see an unguarded reap: the self-test says so and exits 1."""
    out = io.StringIO()
    code = selftest_command(
        report_dir=tmp_path,
        examples=2,
        seed=SEED,
        env=dict(os.environ),
        variants=["reap-unguarded"],
        suites=["margin-math"],
        workers=1,
        out=out,
    )
    report = _report(tmp_path)
    assert code == 1
    assert report["problems"] == ["reap-unguarded is caught by no suite"]
    assert "reap-unguarded is caught by no suite" in out.getvalue()
