"""The mutation command covers the reference's money paths with suites the gate has, and counts honestly."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from harness.selftest.mutation import MODULE_SUITES, ModuleResult, _config, _test_command
from harness.suites import SUITES

ROOT = Path(__file__).resolve().parents[3]


def test_every_money_path_module_exists_and_is_tested_by_known_suites() -> None:
    for module, suites in MODULE_SUITES.items():
        assert (ROOT / module).is_file(), module
        assert suites and set(suites) <= set(SUITES), (module, suites)
    named = {"money", "ledger", "effects", "sessions", "charges", "usage", "payments", "webhooks"}
    assert named <= {Path(m).stem for m in MODULE_SUITES}
    assert {"stripe", "xendit", "cdp"} <= {Path(m).stem for m in MODULE_SUITES if "/rails/" in m}


def test_the_cosmic_ray_config_runs_the_suites_in_process_and_stops_at_the_first_failure() -> None:
    command = _test_command(("margin-math", "limits"), 7, "-k 'not slow'")
    config = tomllib.loads(_config("harness/reference/money.py", command, 90.0))["cosmic-ray"]
    assert config["module-path"] == "harness/reference/money.py"
    assert config["timeout"] == 90
    assert config["test-command"] == command
    assert "harness.suites.test_margin_math harness.suites.test_limits" in command
    assert (
        " -x " in command and "--payments-seed 7" in command and command.endswith("-k 'not slow'")
    )


def test_the_kill_rate_counts_only_mutants_that_ran_to_a_verdict() -> None:
    result = ModuleResult(module="m", total=10, killed=6, incompetent=2, survivors=["a", "b"])
    assert result.tested == 8 and result.kill_rate == 0.75
    assert ModuleResult(module="empty").kill_rate == 1.0


SOURCE = '''\
from __future__ import annotations

LIMIT: int | None = 3 * 4


def charge(cost: int, margin: int, *, floor: int = 2 * 5) -> int | None:
    """Docstring."""
    return cost + cost * margin // 10_000 - floor
'''


def _mutants_at(source: str) -> list[tuple[int, int]]:
    """Every (row, col) of a binary operator in `source`, as cosmic-ray numbers them (rows from 1)."""
    operators = ("|", "*", "+", "//", "-")
    found = []
    for row, line in enumerate(source.splitlines(), start=1):
        for col, _ in enumerate(line):
            arrow = line.startswith("->", col)
            if any(line.startswith(op, col) for op in operators) and not arrow:
                found.append((row, col))
    return found


def test_only_annotation_and_parameter_marker_mutants_are_excluded(tmp_path: Path) -> None:
    import sqlite3

    from harness.selftest.mutation import _exclude_signatures

    session = tmp_path / "session.sqlite"
    positions = _mutants_at(SOURCE)
    with sqlite3.connect(session) as db:
        db.execute(
            "CREATE TABLE mutation_specs (job_id TEXT, start_pos_row INT, start_pos_col INT)"
        )
        db.execute("CREATE TABLE work_items (job_id TEXT)")
        for i, (row, col) in enumerate(positions):
            db.execute("INSERT INTO mutation_specs VALUES (?, ?, ?)", (str(i), row, col))
            db.execute("INSERT INTO work_items VALUES (?)", (str(i),))
    dropped = _exclude_signatures(session, SOURCE)
    with sqlite3.connect(session) as db:
        left = {
            (r, c) for r, c in db.execute("SELECT start_pos_row, start_pos_col FROM mutation_specs")
        }
    lines = SOURCE.splitlines()
    kept_text = sorted(lines[r - 1][c : c + 2].strip() + f"@{r}" for r, c in left)
    # kept: the constant's `*`, the default's `*`, and every operator of the body
    assert kept_text == sorted(["*@3", "*@6", "+@8", "*@8", "//@8", "-@8"]), kept_text
    # dropped: the `|` of two annotations and the bare `*` marker
    assert dropped == 3


def test_a_survivor_of_its_modules_suites_is_run_against_the_whole_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import subprocess

    from harness.selftest import mutation

    calls: list[list[str]] = []

    def run(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        outcome = "killed" if argv[3] == "core/Killed" else "survived"
        return subprocess.CompletedProcess(argv, 0, json.dumps({"test_outcome": outcome}), "")

    monkeypatch.setattr(subprocess, "run", run)
    result = ModuleResult(
        module="m.py",
        killed=3,
        survivors=["m.py:1 core/Killed #0: a", "m.py:2 core/Missed #1: b"],
        survivor_specs=[("core/Killed", 0), ("core/Missed", 1)],
    )
    mutation._second_pass(tmp_path, {}, result, "pytest all-suites")
    assert [c[:5] for c in calls] == [
        ["cosmic-ray", "mutate-and-test", "m.py", "core/Killed", "0"],
        ["cosmic-ray", "mutate-and-test", "m.py", "core/Missed", "1"],
    ]
    assert all(c[5] == "pytest all-suites" for c in calls)
    assert result.killed == 4 and result.killed_by_gate == ["m.py:1 core/Killed #0: a"]
    assert result.survivors == ["m.py:2 core/Missed #1: b"] and result.tested == 5
