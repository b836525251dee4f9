"""The CLI as a user runs it: `payharness reference` and `payharness fakes` in subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _running(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_for(url: str, proc: subprocess.Popen[bytes], deadline_s: float = 30) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"process exited early ({proc.returncode}):\n{out}")
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(
                0.1
            )  # polling for a subprocess to bind its port, not waiting for time to pass
    raise AssertionError(f"{url} never answered")


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "XENDIT_", "CDP_", "PAYMENTS_"))
    }
    env["PAYHARNESS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    return env


def test_reference_serves_dormant_by_default(tmp_path: Path) -> None:
    port = _free_port()
    with _running(["reference", "--port", str(port)], _clean_env(tmp_path), tmp_path) as proc:
        r = _wait_for(f"http://127.0.0.1:{port}/v1/payments/status", proc)
    assert r.status_code == 200
    assert r.json()["live"] is False
    assert all(not rail["configured"] for rail in r.json()["rails"].values())


def test_fakes_print_the_settings_a_live_reference_uses(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    env_file = tmp_path / "fakes.env"
    port = _free_port()
    with _running(
        ["fakes", "--env-file", str(env_file), "--webhook-target", f"http://127.0.0.1:{port}"],
        env,
        tmp_path,
    ) as fakes:
        deadline = time.monotonic() + 30
        while not env_file.exists() and time.monotonic() < deadline and fakes.poll() is None:
            time.sleep(0.1)
        lines = env_file.read_text().splitlines()
        settings = dict(line.removeprefix("export ").split("=", 1) for line in lines)
        assert set(settings) >= {"STRIPE_API_BASE", "XENDIT_CALLBACK_TOKEN", "CDP_FACILITATOR_URL"}
        live_env = {**env, **settings, "PAYMENTS_LIVE": "1"}
        with _running(["reference", "--port", str(port)], live_env, tmp_path) as ref:
            r = _wait_for(f"http://127.0.0.1:{port}/v1/payments/status", ref)
            assert r.json() == {
                "live": True,
                "rails": {name: {"configured": True} for name in ("stripe", "cdp", "xendit")},
            }
            account = httpx.post(f"http://127.0.0.1:{port}/v1/accounts", json={}).json()["id"]
            topup = httpx.post(
                f"http://127.0.0.1:{port}/v1/payments/topup/xendit",
                json={"account_id": account, "amount_micros": 3_000_000},
            )
            assert topup.status_code == 201, topup.text
            invoice = topup.json()["processor_ref"]
            paid = httpx.post(
                f"{settings['XENDIT_API_BASE']}/_fake/invoices/{invoice}/pay", json={}
            )
            assert paid.status_code == 200
            deadline = time.monotonic() + 10
            balance = 0
            while time.monotonic() < deadline and balance == 0:
                balance = httpx.get(f"http://127.0.0.1:{port}/v1/accounts/{account}").json()[
                    "balance_micros"
                ]
                time.sleep(0.05)  # the webhook travels between two processes
            assert balance == 3_000_000


def test_bad_input_gets_a_stable_error_code(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "harness", "fakes", "--host", "10.1.2.3"],
        env=_clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "[invalid_argument]" in r.stderr


def test_reference_workers_serve_one_database_on_one_port(tmp_path: Path) -> None:
    port = _free_port()
    args = ["reference", "--port", str(port), "--workers", "2"]
    with _running(args, _clean_env(tmp_path), tmp_path) as proc:
        assert _wait_for(f"http://127.0.0.1:{port}/healthz", proc, deadline_s=60).status_code == 200
        base = f"http://127.0.0.1:{port}"
        created = httpx.post(f"{base}/v1/accounts", json={"is_test_cohort": True}, timeout=10)
        assert created.status_code == 201
        # new connections may land on either worker: each reads the account the other wrote
        reads = {
            httpx.get(f"{base}/v1/accounts/{created.json()['id']}", timeout=10).status_code
            for _ in range(8)
        }
        assert reads == {200}
    out = proc.stdout.read().decode() if proc.stdout else ""
    assert out.count("Started server process") == 2, out
