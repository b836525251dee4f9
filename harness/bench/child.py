"""The benchmark's child processes: ``python -m harness.bench.child <role> ...`` (an entry point of its
own, so it reads its argv and environment here, like ``harness/cli.py`` does for the parent).

Roles:

* ``serve stripe [--journal-size N]``: the Stripe fake, ``serve noop``: a no-op raw ASGI app (the limit
  of the server); both on :class:`~fakes._common.LoopbackServer` (the same uvicorn set-up the fakes use),
  a free loopback port, printing :data:`~harness.bench.processes.READY_PREFIX` and the URL, and serving
  until their stdin closes.
* ``localstripe --port P``: the localstripe peer's aiohttp app on 127.0.0.1 only, without its
  per-request access log (the fakes run without one too).
* ``probe-daemon --target URL --runs N --every K``: the prober daemon against ``URL`` for N back-to-back
  runs, printing its own RSS every K runs (``PAYHARNESS_BENCH_SAMPLE {...}``); the webhook secret comes
  from ``STRIPE_WEBHOOK_SECRET`` in the environment, never from argv.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from .processes import READY_PREFIX, read_rss

__all__ = ["SAMPLE_PREFIX", "main", "noop_app"]

SAMPLE_PREFIX = "PAYHARNESS_BENCH_SAMPLE "

_NOOP_BODY = b"{}"


async def noop_app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    """The smallest correct ASGI app: reads the request body and answers ``200 {}``."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:  # drain the body, as any app serving a POST does
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_NOOP_BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _NOOP_BODY})


def _serve(app: Any) -> int:
    from fakes._common.server import LoopbackServer

    with LoopbackServer(app) as server:
        print(READY_PREFIX + server.base_url, flush=True)
        sys.stdin.read()  # the parent closes our stdin (or dies) to stop us
    return 0


def _serve_app(kind: str, journal_size: int) -> int:
    if kind == "noop":
        return _serve(noop_app)
    from fakes.stripe import StripeConfig, create_app

    return _serve(create_app(StripeConfig(journal_size=journal_size)))


def _localstripe(port: int) -> int:
    # localstripe ships no type hints; imported by name so the rest of the module stays typed.
    server = importlib.import_module("localstripe.server")
    web = importlib.import_module("aiohttp.web")
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=None, print=None)
    return 0


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)  # back-to-back runs: the interval is not what is measured


def _probe_daemon(
    target: str, runs: int, every: int, audit: Path | None, env: Mapping[str, str]
) -> int:
    from harness.prober import (
        AuditTrail,
        DaemonConfig,
        MetricsServer,
        ProbeConfig,
        ProbeMetrics,
        Prober,
        RunReport,
        load_profile,
        run_daemon,
        secrets_from_env,
    )

    profile = load_profile("reference")
    prober = Prober(
        ProbeConfig(target=target, profile=profile, secrets=secrets_from_env(profile, env)),
        metrics=ProbeMetrics(),
        audit=AuditTrail(audit),
    )
    state = {"runs": 0, "failed": 0}

    def started(server: MetricsServer) -> None:
        print(f"{READY_PREFIX}http://127.0.0.1:{server.port}/metrics", flush=True)

    def sample(report: RunReport) -> None:
        state["runs"] += 1
        state["failed"] += 1 if report.failed else 0
        if state["runs"] == 1 or state["runs"] % every == 0 or state["runs"] == runs:
            rss, peak = read_rss(os.getpid())
            line = {"run": state["runs"], "rss": rss, "peak": peak, "failed": state["failed"]}
            print(SAMPLE_PREFIX + json.dumps(line), flush=True)

    config = DaemonConfig(interval_seconds=0.001, metrics_port=0, max_runs=runs)
    asyncio.run(run_daemon(prober, config, sleep=_no_wait, on_report=sample, on_started=started))
    return 0


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Parse the role and run it; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m harness.bench.child")
    roles = parser.add_subparsers(dest="role", required=True)
    serve = roles.add_parser("serve")
    serve.add_argument("kind", choices=("stripe", "noop"))
    serve.add_argument("--journal-size", type=int, default=10_000)
    peer = roles.add_parser("localstripe")
    peer.add_argument("--port", type=int, required=True)
    probe = roles.add_parser("probe-daemon")
    probe.add_argument("--target", required=True)
    probe.add_argument("--runs", type=int, required=True)
    probe.add_argument("--every", type=int, default=50)
    probe.add_argument("--audit", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.role == "serve":
        return _serve_app(args.kind, args.journal_size)
    if args.role == "localstripe":
        return _localstripe(args.port)
    environ = env if env is not None else os.environ
    return _probe_daemon(args.target, args.runs, max(1, args.every), args.audit, environ)


if __name__ == "__main__":
    sys.exit(main())
