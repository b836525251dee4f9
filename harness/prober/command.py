"""`payharness probe`: the function the CLI wires with typer (the environment arrives as a mapping).

`harness/cli.py` owns argv and `os.environ`; it calls `probe_command(..., env=dict(os.environ))` and exits
with the code it returns.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import httpx
from prometheus_client.exposition import default_handler

from harness.errors import HarnessError, InvalidArgument

from .audit import AuditTrail
from .config import (
    DEFAULT_TARGET,
    ProbeConfig,
    Redactor,
    parse_enabled_flag,
    secrets_from_env,
)
from .daemon import DEFAULT_METRICS_PORT, DaemonConfig, push_metrics, run_daemon
from .explain import explain_profile
from .metrics import ProbeMetrics
from .profile import DEFAULT_PROFILE, load_profile
from .results import RunReport
from .runner import Prober
from .table import render_table

__all__ = ["DEFAULT_AUDIT_PATH", "EXIT_ERROR", "EXIT_FAILED", "EXIT_OK", "probe_command"]

DEFAULT_AUDIT_PATH = Path("reports/payment-probe-audit.jsonl")

EXIT_OK = 0  # no leg failed or was misconfigured (degraded and dormant legs do not fail a run)
EXIT_FAILED = 1  # a leg failed (security included) or a test-cohort account leaked
EXIT_ERROR = (
    2  # the prober could not run (bad option, profile or flag; the Pushgateway refused), or
)
# could not do its job: a leg was misconfigured (a variable unset, a wrong token, an unknown plan id)


def probe_command(
    *,
    target: str | None = None,
    profile: str = DEFAULT_PROFILE,
    once: bool = False,
    interval: float | None = None,
    metrics_port: int = DEFAULT_METRICS_PORT,
    pushgateway: str | None = None,
    audit_path: Path | None = DEFAULT_AUDIT_PATH,
    env: Mapping[str, str],
    metrics_host: str = "127.0.0.1",
    out: TextIO | None = None,
    err: TextIO | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    max_runs: int | None = None,
    push_handler: Callable[..., Callable[[], None]] = default_handler,
    explain: bool = False,
) -> int:
    """Probe a payments service's money path; return the exit code.

    Options for the typer command (`payharness probe`):

    | option | type | default | meaning |
    |---|---|---|---|
    | `--target URL` | str | `PAYMENT_PROBE_BASE_URL`, else `http://127.0.0.1:8000` | the service's base URL |
    | `--profile NAME_OR_PATH` | str | `reference` | a shipped profile (`reference`, `razorpay-subscriptions`) or a `.toml` file |
    | `--once` | flag | | one run: print a table, exit 0 when no leg failed, 1 otherwise |
    | `--interval SECONDS` | float | | daemon: a run every SECONDS, serving `/metrics` |
    | `--metrics-port PORT` | int | 9469 | the daemon's `/metrics` port |
    | `--metrics-host HOST` | str | `127.0.0.1` | the daemon's `/metrics` interface (`0.0.0.0` to be scraped from elsewhere) |
    | `--pushgateway URL` | str | | with `--once`: push the run's metrics to this Pushgateway (cron-style) |
    | `--explain` | flag | | print what the profile needs (variables, routes, test-cohort API) and exit 0 |
    | `--audit-path PATH` | path | `reports/payment-probe-audit.jsonl` | JSONL audit trail (failed and degraded legs, run summaries); the CLI may map `--no-audit` to None |

    Neither `--once` nor `--interval` means `--once`. `--pushgateway` goes with the one-shot mode only.

    Environment (`env`; names from the profile, shown for the shipped ones):
    `PAYMENT_PROBE_ENABLED` (unset/1/true/yes/on: run; 0/false/no/off: inert, anything else exit 2),
    `PAYMENT_PROBE_BASE_URL`, `PAYMENT_PROBE_TOKEN` (bearer), `PAYMENT_PROBE_ACCOUNT_ID` (reference: a
    standing probe account instead of a minted one), `STRIPE_WEBHOOK_SECRET` (reference) or
    `RAZORPAY_TEST_WEBHOOK_SECRET` / `E2E_RAZORPAY_WEBHOOK_SECRET` and `PAYMENT_PROBE_TEST_PLAN_ID_PRO`
    (razorpay-subscriptions). Secret values are never printed, logged, exported or audited.

    `PAYMENT_PROBE_ENABLED` off makes the daemon inert (`/metrics` served, no leg, nothing emitted) and the
    one-shot mode a no-op that exits 0 without pushing: the flag is the kill switch of every schedule.

    Exit codes: 0 no leg failed; 1 a leg failed (or a cohort account leaked); 2 the prober could not run
    (`error [code] message` on stderr) or a leg was misconfigured (the reason names the variable to set). The remaining keyword arguments are seams for tests and embedding: `out`/`err` streams, an
    httpx `transport`, the clock `now`, the daemon's `sleep` and `max_runs`, the `push_handler`.
    """
    stdout = out if out is not None else sys.stdout
    stderr = err if err is not None else sys.stderr
    try:
        if once and interval is not None:
            raise InvalidArgument("choose one of --once and --interval")
        if pushgateway and interval is not None:
            raise InvalidArgument(
                "--pushgateway pushes a one-shot run: use it with --once, not --interval"
            )
        chosen = load_profile(profile)
        if explain:
            stdout.write(explain_profile(chosen))
            return EXIT_OK
        enabled = parse_enabled_flag(env.get("PAYMENT_PROBE_ENABLED"))
        config = ProbeConfig(
            target=target or env.get("PAYMENT_PROBE_BASE_URL") or DEFAULT_TARGET,
            profile=chosen,
            secrets=secrets_from_env(chosen, env),
        )
        daemon = None
        if interval is not None:
            daemon = DaemonConfig(
                interval_seconds=interval,
                enabled=enabled,
                metrics_host=metrics_host,
                metrics_port=metrics_port,
                max_runs=max_runs,
            )
        redact = Redactor(config.secrets.secret_values())
        prober = Prober(
            config,
            metrics=ProbeMetrics(),
            audit=AuditTrail(audit_path, redact=redact),
            now=now,
            transport=transport,
        )
        if daemon is not None:
            return _daemon(prober, daemon, sleep, stdout)
        if not enabled:
            stdout.write("payment probe disabled (PAYMENT_PROBE_ENABLED is off): no leg run\n")
            return EXIT_OK
        report = asyncio.run(prober.run_once())
        stdout.write(render_table(report))
        if pushgateway:
            push_metrics(
                prober.metrics.registry,
                pushgateway,
                grouping_key=_grouping_key(prober),
                handler=push_handler,
            )
            stdout.write(f"pushed to the Pushgateway (job {_job_line(prober)})\n")
        if report.failed:
            return EXIT_FAILED
        return EXIT_ERROR if report.misconfigured else EXIT_OK
    except HarnessError as exc:
        stderr.write(f"error [{exc.code}] {exc}\n")
        return EXIT_ERROR


def _daemon(
    prober: Prober,
    daemon: DaemonConfig,
    sleep: Callable[[float], Awaitable[None]],
    stdout: TextIO,
) -> int:
    def show(report: RunReport) -> None:
        stdout.write(render_table(report))
        stdout.flush()

    try:
        asyncio.run(run_daemon(prober, daemon, sleep=sleep, on_report=show))
    except KeyboardInterrupt:
        stdout.write("payment probe stopped\n")
    return EXIT_OK


def _grouping_key(prober: Prober) -> dict[str, str]:
    # Several probers (staging, a second region) can share one gateway without overwriting each other.
    parts = urlsplit(prober.target)
    return {"target": parts.netloc + parts.path, "profile": prober.config.profile.name}


def _job_line(prober: Prober) -> str:
    key = _grouping_key(prober)
    return f"payharness_payment_probe, target {key['target']}, profile {key['profile']}"
