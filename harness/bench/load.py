"""Load generators: wrk where it is installed, else a bounded async httpx loop. Loopback targets only.

Both take a :class:`LoadSpec` (a pool of requests, cycled or each sent once, over N keep-alive
connections, bounded in time and count) and return a :class:`LoadResult` (answered requests, errors,
non-2xx answers, requests per second, p50/p99 latency).

* :class:`WrkGenerator` drives wrk with a Lua script that pre-formats the pool in ``init()`` (wrk's own
  advice for fast servers) and prints a JSON summary in ``done()``. wrk is bounded by its duration, and a
  once-each pool stops its thread when exhausted (wrk still waits out the duration, so the rate of an
  exhausted pool is a lower bound: :attr:`LoadResult.exhausted` says so).
* :class:`HttpxGenerator` runs ``connections`` workers on one event loop (uvloop when installed). It is
  bounded by both time and count. It saturates near the limit of a single Python core, so a ratio to a
  very fast limit (the no-op app) measured with it understates the gap; the report names the generator.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import shutil
import subprocess
import tempfile
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx

from .errors import LoadFailed, NotLoopback

__all__ = [
    "HttpxGenerator",
    "LoadGenerator",
    "LoadResult",
    "LoadSpec",
    "Request",
    "WrkGenerator",
    "best_of",
    "is_loopback",
    "percentile",
    "pick_generator",
    "run_async",
]

T = TypeVar("T")

_WRK_MARKER = "PAYHARNESS_WRK "

# One record per line: method, path, body, then "Name: value" headers, separated by tabs (a JSON or form
# body has no raw tab or newline). -H headers from the command line stay in wrk.headers and are merged in.
_WRK_SCRIPT = r"""
local pool = {}
local position = 0
local once_each = false
local threads_seen = 0

function setup(thread)
  thread:set("thread_index", threads_seen)
  threads_seen = threads_seen + 1
end

local function split(line)
  local fields, start = {}, 1
  while true do
    local tab = string.find(line, "\t", start, true)
    if not tab then
      table.insert(fields, string.sub(line, start))
      return fields
    end
    table.insert(fields, string.sub(line, start, tab - 1))
    start = tab + 1
  end
end

function init(args)
  local threads = tonumber(args[2])
  once_each = args[3] == "once"
  local index = 0
  for line in io.lines(args[1]) do
    if index % threads == thread_index then
      local fields = split(line)
      local headers = {}
      for name, value in pairs(wrk.headers) do headers[name] = value end
      for i = 4, #fields do
        local name, value = string.match(fields[i], "^([^:]+): ?(.*)$")
        headers[name] = value
      end
      local body = nil
      if fields[3] ~= "" then body = fields[3] end
      table.insert(pool, wrk.format(fields[1], fields[2], headers, body))
    end
    index = index + 1
  end
end

function request()
  position = position + 1
  if position > #pool then
    if once_each then
      wrk.thread:stop()
      position = #pool
    else
      position = 1
    end
  end
  return pool[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'PAYHARNESS_WRK {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50.0), latency:percentile(99.0)))
end
"""


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine: 127.0.0.0/8, ::1 or localhost."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One HTTP request of a load pool."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadSpec:
    """A bounded load against one loopback server: the pool, connections, time and count limits."""

    base_url: str
    requests: tuple[Request, ...]
    #: send each request of the pool at most once (signed webhooks with unique event ids)
    once_each: bool = False
    connections: int = 16
    duration_seconds: float = 5.0
    max_requests: int = 100_000
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not is_loopback(self.base_url):
            raise NotLoopback(f"benchmark load goes to loopback only, not {self.base_url!r}")
        if not self.requests:
            raise LoadFailed("a load needs at least one request")
        if self.connections < 1 or self.max_requests < 1 or not self.duration_seconds > 0:
            raise LoadFailed("connections, max_requests and duration_seconds must be positive")

    @property
    def request_limit(self) -> int:
        """How many requests at most: the pool size for a once-each load, else ``max_requests``."""
        return min(self.max_requests, len(self.requests)) if self.once_each else self.max_requests


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    """What a load generator saw."""

    generator: str
    requests: int
    errors: int
    non_2xx: int
    seconds: float
    p50_ms: float | None
    p99_ms: float | None
    exhausted: bool = False

    @property
    def rps(self) -> float:
        """Answered requests per second."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form, rounded for reading."""
        return {
            "generator": self.generator,
            "requests": self.requests,
            "errors": self.errors,
            "non_2xx": self.non_2xx,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": None if self.p50_ms is None else round(self.p50_ms, 3),
            "p99_ms": None if self.p99_ms is None else round(self.p99_ms, 3),
            "exhausted": self.exhausted,
        }


class LoadGenerator(Protocol):
    """Runs a :class:`LoadSpec` to completion (blocking) and reports what it saw."""

    @property
    def name(self) -> str:
        """How the report names the generator."""
        ...

    def run(self, spec: LoadSpec) -> LoadResult:
        """Send the load and return the result."""
        ...


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile ``q`` (0-100) of already sorted values; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a fresh event loop: uvloop when installed (as uvicorn uses), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] installs it
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


class HttpxGenerator:
    """``connections`` async workers sharing one httpx client; bounded by time and by count."""

    name = "httpx"

    def run(self, spec: LoadSpec) -> LoadResult:
        """Send the load on a fresh event loop."""
        return run_async(self.run_async(spec))

    async def run_async(self, spec: LoadSpec) -> LoadResult:
        """Send the load on the running event loop."""
        limits = httpx.Limits(
            max_connections=spec.connections, max_keepalive_connections=spec.connections
        )
        latencies: list[float] = []
        counts = {"sent": 0, "errors": 0, "non_2xx": 0}
        limit = spec.request_limit
        pool = spec.requests
        clock = time.perf_counter
        async with httpx.AsyncClient(
            base_url=spec.base_url, limits=limits, timeout=spec.timeout_seconds
        ) as client:
            started = clock()
            deadline = started + spec.duration_seconds

            async def worker() -> None:
                while counts["sent"] < limit and clock() < deadline:
                    request = pool[counts["sent"] % len(pool)]
                    counts["sent"] += 1
                    sent_at = clock()
                    try:
                        response = await client.request(
                            request.method,
                            request.path,
                            headers=request.headers,
                            content=request.body or None,
                        )
                    except httpx.HTTPError:
                        counts["errors"] += 1
                        continue
                    latencies.append(clock() - sent_at)
                    if response.status_code >= 400:
                        counts["non_2xx"] += 1

            await asyncio.gather(*(worker() for _ in range(spec.connections)))
            seconds = clock() - started
        latencies.sort()
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        return LoadResult(
            generator=self.name,
            requests=len(latencies),
            errors=counts["errors"],
            non_2xx=counts["non_2xx"],
            seconds=seconds,
            p50_ms=None if p50 is None else p50 * 1000,
            p99_ms=None if p99 is None else p99 * 1000,
            exhausted=spec.once_each and counts["sent"] >= len(pool),
        )


class WrkGenerator:
    """wrk with the payharness Lua script; one thread (the server under test has the other core)."""

    def __init__(self, executable: str, *, threads: int = 1) -> None:
        self._executable = executable
        self._threads = threads
        self._version: str | None = None

    @property
    def name(self) -> str:
        """``wrk <version>``."""
        if self._version is None:
            try:
                probe = subprocess.run(
                    [self._executable, "--version"], capture_output=True, text=True, timeout=10
                )
                words = (probe.stdout or probe.stderr).split()
                self._version = words[1] if len(words) > 1 else "?"
            except (OSError, subprocess.SubprocessError):
                self._version = "?"
        return f"wrk {self._version}"

    def run(self, spec: LoadSpec) -> LoadResult:
        """Write the pool and script to a scratch folder, run wrk, parse its JSON summary."""
        # wrk takes whole seconds only
        seconds = max(1, round(spec.duration_seconds))
        pool = spec.requests[: spec.request_limit]
        with tempfile.TemporaryDirectory(prefix="payharness-wrk-") as scratch:
            script = Path(scratch) / "pool.lua"
            script.write_text(_WRK_SCRIPT, encoding="utf-8")
            pool_file = Path(scratch) / "pool.tsv"
            pool_file.write_bytes(b"".join(_record(r) for r in pool))
            first = spec.base_url.rstrip("/") + pool[0].path
            argv = [
                self._executable,
                f"-t{self._threads}",
                f"-c{max(spec.connections, self._threads)}",
                f"-d{seconds}s",
                f"--timeout={max(1, round(spec.timeout_seconds))}s",
                "-s",
                str(script),
                first,
                "--",
                str(pool_file),
                str(self._threads),
                "once" if spec.once_each else "cycle",
            ]
            try:
                done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
            except (OSError, subprocess.SubprocessError) as exc:
                raise LoadFailed(f"wrk could not run: {exc}") from exc
        for line in done.stdout.splitlines():
            if line.startswith(_WRK_MARKER):
                summary = json.loads(line[len(_WRK_MARKER) :])
                break
        else:
            raise LoadFailed(
                f"wrk exited {done.returncode} without a summary: {(done.stderr or done.stdout)[-500:]}"
            )
        requests = int(summary["requests"])
        socket_errors = sum(int(summary[k]) for k in ("connect", "read", "write", "timeout"))
        return LoadResult(
            generator=self.name,
            requests=requests,
            errors=socket_errors,
            non_2xx=int(summary["status"]),
            seconds=int(summary["duration_us"]) / 1e6,
            p50_ms=int(summary["p50_us"]) / 1000 if requests else None,
            p99_ms=int(summary["p99_us"]) / 1000 if requests else None,
            exhausted=spec.once_each and requests >= len(pool),
        )


def _record(request: Request) -> bytes:
    fields = [request.method.encode(), request.path.encode(), request.body]
    fields += [f"{name}: {value}".encode() for name, value in request.headers]
    for field in fields:
        if b"\t" in field or b"\n" in field or b"\r" in field:
            raise LoadFailed("wrk pool records cannot hold a tab or newline (send compact bodies)")
    return b"\t".join(fields) + b"\n"


def pick_generator(preference: str) -> LoadGenerator:
    """``wrk`` (where installed), ``python`` (the httpx loop), or ``auto``: wrk if found, else httpx."""
    if preference not in ("auto", "wrk", "python"):
        raise LoadFailed(f"unknown load generator {preference!r}: choose auto, wrk or python")
    if preference == "python":
        return HttpxGenerator()
    executable = shutil.which("wrk")
    if executable is None:
        if preference == "wrk":
            raise LoadFailed("wrk is not installed (Debian: apt-get install wrk)")
        return HttpxGenerator()
    return WrkGenerator(executable)


def best_of(
    generator: LoadGenerator, spec: LoadSpec, *, warmup_seconds: float, repeats: int
) -> LoadResult:
    """A short warm-up (discarded), then ``repeats`` runs of ``spec``; the run with the highest rate.

    Best-of is the usual defence against a noisy neighbour on a shared machine: interference only ever
    slows a run down. A once-each pool is sent once, without warm-up (a second pass would only repeat).
    """
    if spec.once_each:
        return generator.run(spec)
    if warmup_seconds > 0:
        generator.run(replace(spec, duration_seconds=warmup_seconds))
    runs = [generator.run(spec) for _ in range(max(1, repeats))]
    return max(runs, key=lambda r: r.rps)
