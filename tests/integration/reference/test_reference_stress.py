"""The money stress (harness.bench.stress) at small counts on both databases: the printed run is clean."""

from __future__ import annotations

import pytest

from harness.bench.stress import main


def test_a_small_stress_run_loses_no_credit_serves_nothing_unpaid_and_answers_no_5xx(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--database-url", database_url, "--races", "6", "--sessions", "12", "--forged", "1"]
    )
    out = capsys.readouterr().out
    counts = {
        line.split()[0]: int(line.split()[1])
        for line in out.splitlines()
        if len(line.split()) == 2 and line.split()[1].isdigit()
    }
    assert code == 0, out
    assert counts["races"] == 6 and counts["sessions"] == 12
    for name in ("lost_credits", "double_credits", "unpaid_micros", "forged_units_served"):
        assert counts[name] == 0, out
    assert counts["server_errors"] == 0 and counts["requests"] > 50
    assert out.rstrip().endswith("clean")
