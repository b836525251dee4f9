"""The mutation command covers the reference's money paths with suites the gate has, and counts honestly."""

from __future__ import annotations

import tomllib
from pathlib import Path

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
