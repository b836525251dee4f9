"""The gate's verdict over HTTP, as a user's own service gets it: `payharness fakes` and `payharness reference`
in subprocesses, the gate and the pytest route against them.

A dormant service passes with `--expect dormant` (its dormant checks run, the live-only ones are not
applicable); a service that is not what `--expect` says fails; a service that refuses the harness's admin
secret is INCOMPLETE, never PASSED; the pytest route takes the fakes from `--payments-env-file`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "XENDIT_", "CDP_"))}
    keep.pop("ADMIN_SECRET", None)
    keep.pop("PAYMENTS_LIVE", None)
    return keep


def _read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in path.read_text().splitlines())
    return {name: value for name, value in pairs}


@contextmanager
def service(workdir: Path, *, live: bool, admin_secret: str | None = None) -> Iterator[str]:
    """The fakes and the reference as a user starts them (README); yields the service's URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env_file = workdir / "fakes.env"
    harness = [sys.executable, "-m", "harness"]
    log = (workdir / "servers.log").open("w")
    fakes = subprocess.Popen(
        [*harness, "fakes", "--webhook-target", url, "--env-file", str(env_file)],
        env=_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    reference = None
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists():  # polling for a subprocess to write its file
            assert fakes.poll() is None and time.monotonic() < deadline, (
                "payharness fakes never started"
            )
            time.sleep(0.1)
        env = {**_env(), **_read_env_file(env_file)}
        if live:
            env["PAYMENTS_LIVE"] = "1"
        if admin_secret is not None:
            env["ADMIN_SECRET"] = admin_secret
        reference = subprocess.Popen(
            [*harness, "reference", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        yield url
    finally:
        for process in (reference, fakes):
            if process is not None:
                process.terminate()
                process.wait(timeout=20)
        log.close()


def _gate(workdir: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "gate", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _sourced(workdir: Path) -> dict[str, str]:
    """The gate's environment after `set -a; . ./fakes.env; set +a`."""
    return {**_env(), **_read_env_file(workdir / "fakes.env")}


def test_a_correct_dormant_service_passes_the_whole_gate_and_a_live_expectation_fails(
    tmp_path: Path,
) -> None:
    with service(tmp_path, live=False) as url:
        env = _sourced(tmp_path)
        run = _gate(tmp_path, "--target", url, "--expect", "dormant", "--examples", "2", env=env)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr
        assert "[dormant, per its /v1/payments/status]" in run.stdout
        assert "payharness gate: PASSED; tests:" in run.stdout and "/ 0 not run /" in run.stdout
        for suite in ("margin-math", "idempotency", "close-time-settle", "upgrade-tier-flip"):
            assert f"{suite}" in run.stdout
        assert "not applicable: " in run.stdout
        wrong = _gate(tmp_path, "--target", url, "--expect", "live", "--suite", "contract", env=env)
    assert wrong.returncode == 1, wrong.stdout
    assert "FAILED: " in wrong.stdout and "--expect live" in wrong.stdout
    (junit,) = sorted((tmp_path / "reports").glob("*-gate*/junit.xml"))[-1:]
    assert 'failures="1"' in junit.read_text(encoding="utf-8")


def test_a_service_refusing_the_admin_secret_is_incomplete_not_passed(tmp_path: Path) -> None:
    with service(tmp_path, live=True, admin_secret="another-secret") as url:
        env = _sourced(tmp_path)  # the gate has the ADMIN_SECRET fakes printed, the service another
        args = ("--target", url, "--suite", "margin-math", "--examples", "2")
        run = _gate(tmp_path, *args, env=env)
        allowed = _gate(tmp_path, *args, "--allow-skips", env=env)
    assert run.returncode == 3, run.stdout[-3000:]
    assert "payharness gate: INCOMPLETE: " in run.stdout
    assert "not run: " in run.stdout and "ADMIN_SECRET" in run.stdout
    assert "ERROR (setup)" not in run.stdout
    summaries = sorted((tmp_path / "reports").glob("*-gate*/summary.md"))
    first = summaries[0].read_text(encoding="utf-8")
    assert first.startswith("# payharness gate: INCOMPLETE")
    assert "margin-math: incomplete" in first and "**not run**" in first
    assert allowed.returncode == 0 and "PASSED with " in allowed.stdout


def test_the_pytest_route_takes_the_fakes_and_secrets_from_the_env_file(tmp_path: Path) -> None:
    with service(tmp_path, live=True) as url:
        # the service was started with the env file's ADMIN_SECRET; pytest's own environment has none
        for _ in range(300):  # polling for the reference subprocess to listen
            try:
                socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        run = subprocess.run(
            [
                sys.executable, "-m", "pytest", "--pyargs", "harness.suites.test_margin_math",
                "-p", "no:cacheprovider", "-c", os.devnull, "-q", "-rs",
                "--payments-target", url, "--payments-env-file", str(tmp_path / "fakes.env"),
                "--payments-examples", "2",
            ],
            cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout, run.stdout[-3000:]
