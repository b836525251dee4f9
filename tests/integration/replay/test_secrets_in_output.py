"""A password planted in the URLs given to the harness appears in none of its output: the gate's console
and every file of its report folder, and `payharness reference`'s startup line and logs."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from fakes._common import LoopbackServer
from harness.gate import gate_command
from harness.reference import ReferenceSettings, create_app

PLANTED = "Pl4nted-s3cret"
ROOT = Path(__file__).resolve().parents[3]


def _artefacts(report_dir: Path) -> dict[str, str]:
    (run_dir,) = report_dir.glob("*-gate")
    return {p.name: p.read_text(encoding="utf-8", errors="replace") for p in run_dir.iterdir()}


@pytest.fixture
def reference_url(tmp_path: Path) -> Iterator[str]:
    app = create_app(
        ReferenceSettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'ref.sqlite3'}", payments_live=True
        )
    )
    server = LoopbackServer(app).start()
    yield server.base_url
    server.stop()


def test_a_gate_run_against_a_target_with_a_password_never_writes_it(
    tmp_path: Path, reference_url: str
) -> None:
    target = reference_url.replace("http://", f"http://ops:{PLANTED}@")
    console = io.StringIO()

    gate_command(
        target=target,
        suites=["contract"],
        report_dir=tmp_path,
        examples=1,
        seed=3,
        workers=1,
        env={
            k: v for k, v in os.environ.items() if not k.endswith(("_API_BASE", "_FACILITATOR_URL"))
        },
        out=console,
    )

    artefacts = _artefacts(tmp_path)
    assert {"junit.xml", "summary.md", "report.html"} <= set(artefacts)
    assert "ops:***@127.0.0.1" in artefacts["summary.md"]
    for name, text in {**artefacts, "console": console.getvalue()}.items():
        assert PLANTED not in text, name


def test_a_gate_that_cannot_reach_a_target_with_a_password_never_writes_it(tmp_path: Path) -> None:
    console = io.StringIO()

    code = gate_command(
        target=f"http://ops:{PLANTED}@127.0.0.1:9",
        suites=["contract"],
        report_dir=tmp_path,
        examples=1,
        seed=1,
        workers=1,
        env=dict(os.environ),
        out=console,
    )

    assert code == 2
    assert "ops:***@127.0.0.1:9" in console.getvalue()
    for name, text in {**_artefacts(tmp_path), "console": console.getvalue()}.items():
        assert PLANTED not in text, name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.postgres
def test_the_reference_startup_line_and_logs_never_show_the_database_password(
    postgres_url: str, tmp_path: Path
) -> None:
    database_url = (
        make_url(postgres_url).set(password=PLANTED).render_as_string(hide_password=False)
    )
    port = _free_port()
    log = tmp_path / "reference.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PAYMENTS_LIVE": "false"}
    with log.open("w") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness",
                "reference",
                "--port",
                str(port),
                "--database-url",
                database_url,
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 60
            answered = None
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    answered = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
                    break
                except httpx.TransportError:
                    time.sleep(0.1)  # readiness poll: the server is starting
        finally:
            process.terminate()
            process.wait(timeout=30)
    output = log.read_text()
    assert answered == 200, output
    assert f"http://127.0.0.1:{port}" in output and ":***@" in output  # the startup line
    assert PLANTED not in output
