"""Bad input to every command ends as one clean line and exit 2: no traceback, and it says what to do.

A table of the inputs a new user actually got wrong (issue 13), each run as `payharness ...` in a subprocess.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def _payharness(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A loopback port something already listens on."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield int(held.getsockname()[1])


@pytest.fixture(scope="module")
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def html_server() -> Iterator[str]:
    """A web server that answers every path with an HTML page (a proxy's or another app's)."""

    class Html(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body>It works!</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Html)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


#: (name, argv with {file} {busy} {closed} {html} placeholders, a word the one line must contain)
BAD_INPUTS = [
    ("gate report dir under a file", ["gate", "--report-dir", "{file}/reports"], "--report-dir"),
    ("gate unknown suite", ["gate", "--suite", "nope"], "unknown suite"),
    ("gate zero examples", ["gate", "--examples", "0"], "--examples"),
    ("gate expect nonsense", ["gate", "--expect", "maybe"], "--expect"),
    ("gate unknown option", ["gate", "--bogus"], "--bogus"),
    ("gate self-test with a target", ["gate", "--self-test", "--target", "{html}"], "--self-test"),
    ("gate variant without self-test", ["gate", "--variant", "settle-twice"], "--self-test"),
    (
        "gate self-test unknown variant",
        ["gate", "--self-test", "--variant", "nope"],
        "unknown variant",
    ),
    (
        "replay report dir under a file",
        ["replay", "{file}", "--target", "{html}", "--report-dir", "{file}/r"],
        "--report-dir",
    ),
    (
        "bench report dir under a file",
        ["bench", "fakes", "--quick", "--report-dir", "{file}/b"],
        "--report-dir",
    ),
    (
        "record out under a file",
        ["record", "--forward-to", "{html}", "--out", "{file}/out.jsonl"],
        "--out",
    ),
    (
        "probe metrics port in use",
        [
            "probe",
            "--target",
            "{html}",
            "--interval",
            "5",
            "--metrics-port",
            "{busy}",
            "--no-audit",
        ],
        "in use",
    ),
    (
        "reference foreign database url",
        ["reference", "--database-url", "foo://bar"],
        "--database-url",
    ),
    ("reference nonsense log level", ["reference", "--log-level", "nonsense"], "--log-level"),
    ("reference port out of range", ["reference", "--port", "99999"], "65535"),
    ("reference port in use", ["reference", "--port", "{busy}"], "in use"),
    (
        "reference unreachable postgres",
        ["reference", "--database-url", "postgresql+asyncpg://postgres@127.0.0.1:{closed}/x"],
        "does not answer",
    ),
    (
        "fakes env file in a missing folder",
        ["fakes", "--env-file", "{missing}/fakes.env"],
        "--env-file",
    ),
    ("fakes port out of range", ["fakes", "--stripe-port", "70000"], "65535"),
]


@pytest.mark.parametrize(
    ("argv", "word"), [(a, w) for _, a, w in BAD_INPUTS], ids=[n for n, _, _ in BAD_INPUTS]
)
def test_a_bad_input_gets_one_clean_line_and_exit_2(
    argv: list[str], word: str, tmp_path: Path, busy_port: int, closed_port: int, html_server: str
) -> None:
    a_file = tmp_path / "a-file.jsonl"
    a_file.write_text("", encoding="utf-8")
    values = {
        "file": str(a_file),
        "busy": str(busy_port),
        "closed": str(closed_port),
        "html": html_server,
        "missing": str(tmp_path / "missing"),
    }
    run = _payharness(*(part.format(**values) for part in argv), cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error ["), run.stderr
    assert word in lines[0], lines[0]
    assert "export " not in run.stdout  # no secret printed before the error


def test_the_gate_against_a_server_answering_html_could_not_run_and_says_why(
    tmp_path: Path, html_server: str
) -> None:
    run = _payharness("gate", "--target", html_server, "--wait-for-target", "0", cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "not the payments contract's status JSON" in run.stdout
    (junit,) = (tmp_path / "reports").glob("*-gate/junit.xml")
    assert "target_not_payments" in junit.read_text(encoding="utf-8")


def test_an_unreachable_target_still_leaves_a_junit_error_saying_why(
    tmp_path: Path, closed_port: int
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    run = _payharness("gate", "--target", url, "--wait-for-target", "0.5", cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    (run_dir,) = (tmp_path / "reports").glob("*-gate")
    junit = (run_dir / "junit.xml").read_text(encoding="utf-8")
    assert 'errors="1"' in junit and "target_unreachable" in junit
    summary = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# payharness gate: COULD NOT RUN: [target_unreachable]")
    assert "pytest-output.txt" not in summary  # never points to a file that is not there


def test_debug_shows_the_traceback_the_one_line_hides(tmp_path: Path) -> None:
    run = _payharness(
        "--debug", "reference", "--port", "1", "--database-url", "foo://bar", cwd=tmp_path
    )
    assert run.returncode != 0
    assert "Traceback" in run.stderr


def test_version_and_every_help_has_an_example_and_no_type_tags(tmp_path: Path) -> None:
    version = _payharness("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("payharness ")
    env = {**os.environ, "COLUMNS": "200"}
    commands = [
        ["reference"], ["fakes"], ["probe"], ["gate"], ["replay"], ["record"], ["bench"],
        ["contract", "check"], ["contract", "diff"], ["trigger"], ["resend"],
    ]  # fmt: skip
    for command in commands:
        shown = _payharness(*command, "--help", cwd=tmp_path, env=env)
        assert shown.returncode == 0, shown.stderr
        assert "Example" in shown.stdout, command
        assert (
            "<list[" not in shown.stdout
            and "<str>" not in shown.stdout
            and "<bool>" not in shown.stdout
        ), command
