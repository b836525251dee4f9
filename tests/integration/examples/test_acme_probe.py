"""The prober runs against Acme billing with the same profile the gate uses (examples/acme_billing/profile.toml)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from acme_stack import running_acme

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[3]


def test_every_probe_leg_passes_against_acme_through_its_profile(tmp_path: Path) -> None:
    profile = str(ROOT / "examples" / "acme_billing" / "profile.toml")
    audit = str(tmp_path / "audit.jsonl")
    with running_acme(tmp_path) as (base_url, _, env):
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness",
                "probe",
                "--once",
                "--target",
                base_url,
                "--profile",
                profile,
                "--audit-path",
                audit,
            ],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 legs: 5 pass, 0 degraded, 0 fail, 0 misconfigured; service live" in run.stdout
    assert "tier advanced to pro" in run.stdout
