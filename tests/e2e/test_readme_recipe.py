"""The README's CI recipes, run verbatim from README.md against the reference as "your service".

The GitHub Actions `run:` steps and the GitLab `script:` lines are read out of the README's YAML blocks and
run in a fresh folder, with only what the README itself says to substitute: `./start-my-payments-service`
is `payharness reference`, and `pip install payharness` is already done (this checkout is installed).
The port 8000 is swapped for a free one so parallel runs do not collide. If the README drifts (a step that
no longer works, a gate that starts before the service listens, a JUnit path that is not written), this
fails."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.report import GateResult, parse_junit
from harness.selftest.command import BEHAVIOUR_SUITES

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
SERVICE = "./start-my-payments-service"


def _yaml_blocks() -> list[Any]:
    text = README.read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def github_steps() -> list[str]:
    """The `run:` steps of the README's GitHub Actions job, in order."""
    for block in _yaml_blocks():
        jobs = block.get("jobs") if isinstance(block, dict) else None
        if jobs:
            (job,) = jobs.values()
            return [step["run"] for step in job["steps"] if "run" in step]
    raise AssertionError("README.md has no GitHub Actions block")


def gitlab_script() -> tuple[list[str], str]:
    """The `script:` lines of the README's GitLab job, and its JUnit report path."""
    for block in _yaml_blocks():
        if isinstance(block, dict) and "jobs" not in block:
            (job,) = block.values()
            return list(job["script"]), job["artifacts"]["reports"]["junit"]
    raise AssertionError("README.md has no GitLab CI block")


def github_junit_path() -> str:
    for block in _yaml_blocks():
        if isinstance(block, dict) and "jobs" in block:
            (job,) = block["jobs"].values()
            for step in job["steps"]:
                if "action-junit-report" in step.get("uses", ""):
                    return str(step["with"]["report_paths"])
    raise AssertionError("README.md's GitHub Actions job has no JUnit step")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_here(command: str, port: int) -> str | None:
    """A README command as it runs here: None for the install step (this checkout is installed)."""
    if command.strip().startswith("pip install"):
        return None
    return (
        command.replace(SERVICE, "payharness reference")
        .replace(":8000", f":{port}")
        .replace("--port 8000", f"--port {port}")
    )


def _shim(folder: Path) -> dict[str, str]:
    """An environment whose `payharness` is this checkout run by this interpreter."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "payharness"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m harness "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "ADMIN_SECRET" and "_API_" not in k}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(README.parent)
    return env


class Job:
    """Shell steps run like a CI runner: each step a `bash -e` of its own, background processes kept."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env = _shim(workdir)
        self.groups: list[int] = []
        self.log = workdir / "job.log"

    def step(self, script: str, timeout: float = 480) -> int:
        # output to a file, not a pipe: a step ending in `cmd &` leaves `cmd` holding its output open
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"\n$ {script}\n")
            log.flush()
            process = subprocess.Popen(
                ["bash", "-e", "-c", script],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.groups.append(process.pid)
            return process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def stop(self) -> None:
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)


def _judge(job: Job, junit_glob: str) -> None:
    output = job.output()
    assert "payharness gate: PASSED; tests:" in output, output[-4000:]
    verdict = next(
        line for line in output.splitlines() if "payharness gate: PASSED; tests:" in line
    )
    assert "/ 0 not run /" in verdict, verdict
    (junit,) = job.workdir.glob(junit_glob)
    assert 'name="verdict" value="PASSED"' in junit.read_text(encoding="utf-8")
    summary = (junit.parent / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# payharness gate: PASSED")
    for mentioned in re.findall(r"\b[\w-]+\.(?:txt|xml|html)\b", summary):
        assert (junit.parent / mentioned).exists(), f"summary.md names {mentioned}, which is absent"
    _judge_suites_at_a_url(parse_junit(junit))


#: At a URL, all a test may be not applicable for: what a running service cannot be rebuilt with.
URL_REASON = "cannot be rebuilt"


def _judge_suites_at_a_url(result: GateResult) -> None:
    """Every behaviour suite ran against the reference served at a URL, as a user's own service is: the
    checks over sockets (streams, disconnects, concurrent deliveries, tier flips) passed, and only what a
    running service cannot be rebuilt with is not applicable."""
    suites = {t.suite for t in result.tests}
    assert suites >= set(BEHAVIOUR_SUITES), sorted(set(BEHAVIOUR_SUITES) - suites)
    unexplained = [
        (t.suite, t.name, t.message)
        for t in result.tests
        if t.outcome == "not_applicable" and URL_REASON not in t.message
    ]
    assert unexplained == []
    assert sum(t.outcome == "not_applicable" for t in result.tests) <= 12
    passed = {t.name.partition("[")[0] for t in result.tests if t.outcome == "passed"}
    for test in (
        "test_a_client_that_hangs_up_mid_stream_is_settled_exactly_once",
        "test_an_sse_response_settles_once_after_its_last_event",
        "test_concurrent_deliveries_of_one_event_credit_once",
        "test_the_debit_is_the_contract_formula_in_integer_micros",
        "test_a_paid_plan_flips_the_tier",
    ):
        assert test in passed, f"{test} did not pass at a URL"


@pytest.mark.timeout(600)  # a whole gate over HTTP, on a box running another test beside it
def test_the_readme_github_actions_recipe_passes_verbatim_against_the_reference(
    tmp_path: Path,
) -> None:
    port = _free_port()
    job = Job(tmp_path)
    try:
        for step in github_steps():
            command = _as_here(step, port)
            if command is not None:
                assert job.step(command) == 0, job.output()[-4000:]
    finally:
        job.stop()
    _judge(job, github_junit_path())


@pytest.mark.timeout(600)  # a whole gate over HTTP, on a box running another test beside it
def test_the_readme_gitlab_recipe_passes_verbatim_against_the_reference(tmp_path: Path) -> None:
    port = _free_port()
    lines, junit_glob = gitlab_script()
    script = "\n".join(c for c in (_as_here(line, port) for line in lines) if c is not None)
    job = Job(tmp_path)
    try:
        assert job.step(script) == 0, job.output()[-4000:]
    finally:
        job.stop()
    _judge(job, junit_glob)
