"""README "Your own service: a profile", run as written: fakes, Acme, init, profile check and the gate.

The `sh` block of that section is read out of README.md and run by bash in a fresh folder, with only the
port 8100 swapped for a free one and the example's paths made absolute (the README runs from the
repository root). If the README drifts (a command that no longer works, a profile check that fails, a gate
that does not pass), this fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]


def _block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Your own service: a profile") :]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match is not None, "the section has no sh block"
    return match.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop_group(pgid: int) -> None:
    """Stop what the block started in the background (its own process group), then make sure."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
            time.sleep(2)


def test_the_readme_profile_route_runs_as_written(tmp_path: Path) -> None:
    script = _block().replace("8100", str(_free_port()))
    script = script.replace("examples/acme_billing/", f"{ROOT}/examples/acme_billing/")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tmp_path / "readme-block.log"
    # output to a file, not a pipe: the block leaves the fakes and Acme running, holding their output open
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            process.wait(timeout=800)
        finally:
            _stop_group(process.pid)
    output = log.read_text(encoding="utf-8")
    assert process.returncode == 0, output
    assert "the profile matches the service" in output
    assert "payharness gate: PASSED" in output
    assert re.search(r"tests: \d+ passed / 0 not run / 0 failed / \d+ not applicable", output)
    assert "5 legs: 5 pass, 0 degraded, 0 fail, 0 misconfigured" in output
    starter = (tmp_path / "my-profile.toml").read_text(encoding="utf-8")
    assert 'create_path = "/api/v1/users"' in starter
    assert "GAP: " in starter
