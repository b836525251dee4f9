"""`payharness reference` and its database: a per-run temporary SQLite file unless `--database-url` names
one, and a restart on a kept database serves the gate as well as the first start did."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_gate_verdicts import _env, _free_port, _gate, _read_env_file, _sourced, service

pytestmark = pytest.mark.e2e


@contextmanager
def _reference(workdir: Path, port: int, *args: str) -> Iterator[subprocess.Popen[str]]:
    env = {**_env(), **_read_env_file(workdir / "fakes.env"), "PAYMENTS_LIVE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "reference", "--port", str(port), *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_default_database_is_temporary_and_leaves_nothing_behind(tmp_path: Path) -> None:
    with service(tmp_path, live=True) as url:
        run = _gate(
            tmp_path,
            "--target",
            url,
            "--suite",
            "margin-math",
            "--examples",
            "2",
            env=_sourced(tmp_path),
        )
    assert run.returncode == 0, run.stdout[-3000:]
    assert "(temporary)" in (tmp_path / "servers.log").read_text()
    assert not list(tmp_path.glob("*.sqlite3*"))


@contextmanager
def _fakes(workdir: Path, url: str) -> Iterator[None]:
    env_file = workdir / "fakes.env"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "fakes",
            "--webhook-target",
            url,
            "--env-file",
            str(env_file),
        ],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists():  # polling for a subprocess to write its file
            assert process.poll() is None and time.monotonic() < deadline, "fakes never started"
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_restart_on_a_kept_database_passes_the_gate_again(tmp_path: Path) -> None:
    kept = f"sqlite+aiosqlite:///{tmp_path / 'kept.sqlite3'}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    args = ("--target", url, "--suite", "upgrade-tier-flip", "--examples", "2")
    outcomes = []
    with _fakes(tmp_path, url):
        env = _sourced(tmp_path)
        for _ in range(2):  # the same fakes; the service stopped and started on its kept database
            with _reference(tmp_path, port, "--database-url", kept):
                outcomes.append(_gate(tmp_path, *args, env=env))
    for run in outcomes:
        assert run.returncode == 0, run.stdout[-3000:]
        assert "PASSED; tests:" in run.stdout
    assert (tmp_path / "kept.sqlite3").exists()
