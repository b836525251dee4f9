"""Servers and workers in their own processes: the thing measured owns its CPU and its memory.

A benchmark never serves the measured app in its own process: the Python load generator would share the
GIL with it, and the RSS read would be the benchmark's. :class:`Child` starts a command, waits (bounded)
until it is ready, reads its RSS from ``/proc``, and stops it. Readiness is either a line the child
prints (``harness.bench.child`` prints :data:`READY_PREFIX` and its URL) or an HTTP answer from a URL
(``payharness reference``, localstripe, Prism). Output goes to a log file whose tail explains a failure.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn

import httpx

from .errors import ChildFailed

__all__ = ["READY_PREFIX", "Child", "bench_child", "child_env", "free_port", "read_rss"]

#: The line a `harness.bench.child` server prints once it accepts connections: `PREFIX http://...`.
READY_PREFIX = "PAYHARNESS_BENCH_READY "

_POLL_SECONDS = 0.05


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for commands that need ``--port N`` up front)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_rss(pid: int) -> tuple[int, int]:
    """``(current, peak)`` resident set size of ``pid`` in bytes (``VmRSS``, ``VmHWM``), Linux only."""
    values: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    values[name] = int(rest.split()[0]) * 1024  # the kernel reports kB
    except OSError as exc:
        raise ChildFailed(f"cannot read the memory of process {pid}: {exc}") from exc
    if "VmRSS" not in values:
        raise ChildFailed(f"process {pid} reports no VmRSS (not Linux, or a zombie)")
    return values["VmRSS"], values.get("VmHWM", values["VmRSS"])


class Child:
    """One command run as a child process; a context manager that always stops it."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.name = name
        self.log_path = log_path
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.url: str | None = None

    @property
    def pid(self) -> int:
        """The child's process id."""
        if self._process is None:
            raise ChildFailed(f"{self.name} is not started")
        return self._process.pid

    def start_with_ready_line(self, *, timeout_seconds: float = 30.0) -> str:
        """Start, and wait for the child's :data:`READY_PREFIX` line; return the URL it printed."""
        self._spawn(pipe_stdout=True)
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self._fail(f"{self.name} printed no ready line within {timeout_seconds:g} s")
            if line is None:
                self._fail(f"{self.name} exited before it was ready")
            if line.startswith(READY_PREFIX):
                self.url = line[len(READY_PREFIX) :].strip()
                return self.url

    def start_with_ready_url(self, url: str, *, timeout_seconds: float = 30.0) -> str:
        """Start, and poll ``url`` until the child answers it with any HTTP status below 500."""
        self._spawn(pipe_stdout=False)
        deadline = time.monotonic() + timeout_seconds
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self._process is not None and self._process.poll() is not None:
                    self._fail(f"{self.name} exited with {self._process.returncode} while starting")
                try:
                    if client.get(url).status_code < 500:
                        self.url = url
                        return url
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    self._fail(f"{self.name} did not answer {url} within {timeout_seconds:g} s")
                # a start-up handshake with another process, not a test waiting for time to pass
                time.sleep(_POLL_SECONDS)

    def rss(self) -> tuple[int, int]:
        """``(current, peak)`` RSS of the child in bytes."""
        self.check_alive()
        return read_rss(self.pid)

    def check_alive(self) -> None:
        """Raise :class:`ChildFailed` (with the log's tail) if the child has exited."""
        if self._process is None or self._process.poll() is not None:
            self._fail(f"{self.name} is not running")

    def lines(self) -> queue.Queue[str | None]:
        """The child's stdout lines (for a child started with a ready line); None marks the end."""
        return self._lines

    def stop(self, *, timeout_seconds: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout_seconds``; closes the log."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            if process.stdin is not None:
                process.stdin.close()  # a bench child exits at the end of its stdin
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_seconds)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout_seconds)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 800) -> str:
        """The end of the child's log, for error messages."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> Child:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, *, pipe_stdout: bool) -> None:
        if self._process is not None:
            raise ChildFailed(f"{self.name} is already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w", encoding="utf-8")
        try:
            self._process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE if pipe_stdout else self._log,
                stderr=self._log,
                env=self._env if self._env is not None else dict(os.environ),
                cwd=self._cwd,
                text=True,
            )
        except OSError as exc:
            self._fail(f"{self.name} could not start: {exc}")
        if pipe_stdout:
            threading.Thread(target=self._pump, name=f"bench-{self.name}", daemon=True).start()

    def _pump(self) -> None:
        process = self._process
        if process is None or process.stdout is None:
            self._lines.put(None)
            return
        for line in process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _fail(self, message: str) -> NoReturn:
        tail = self.log_tail()
        self.stop()
        raise ChildFailed(message + (f"; its log ends: {tail.strip()}" if tail.strip() else ""))


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` plus a ``PYTHONPATH`` that finds this very ``harness`` and ``fakes`` first, so a child
    runs the code being measured even where payharness is not installed."""
    root = str(Path(__file__).resolve().parents[2])
    merged = dict(env)
    existing = merged.get("PYTHONPATH")
    merged["PYTHONPATH"] = root + (os.pathsep + existing if existing else "")
    return merged


def bench_child(
    role: Sequence[str],
    *,
    name: str,
    log_dir: Path,
    env: Mapping[str, str],
    timeout_seconds: float = 30.0,
) -> Child:
    """Start ``python -m harness.bench.child <role...>`` and wait for its ready line (stop it after)."""
    child = Child(
        [sys.executable, "-m", "harness.bench.child", *role],
        name=name,
        log_path=log_dir / f"{name}.log",
        env=child_env(env),
    )
    child.start_with_ready_line(timeout_seconds=timeout_seconds)
    return child
