"""Scheduling: the daemon loop that serves `/metrics`, and the push of a one-shot run to a Pushgateway.

Daemon (`--interval`): a run right away, then one every `interval_seconds`, while prometheus-client's own
HTTP server exposes the prober's registry on `/metrics`. With `PAYMENT_PROBE_ENABLED` off the daemon is
inert: `/metrics` is served (empty), no leg runs, nothing is recorded, no request reaches the target
(PRIOR_ART.md §3 "zero HTTP, zero metrics"). The wait between runs is injected (`sleep`), and `max_runs`
bounds the loop, so tests drive it without waiting for time to pass.

Push (`--pushgateway`): cron-style scheduling, one run per process, then a PUT of the registry under
job `payharness_payment_probe`, grouped by target and profile so several probers share one gateway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from prometheus_client import CollectorRegistry, push_to_gateway, start_http_server
from prometheus_client.exposition import default_handler

from harness.errors import InvalidArgument

from .config import display_target
from .errors import PushFailed
from .results import RunReport
from .runner import Prober

__all__ = [
    "DEFAULT_METRICS_PORT",
    "PUSH_JOB",
    "DaemonConfig",
    "MetricsServer",
    "push_metrics",
    "run_daemon",
]

log = logging.getLogger("payharness.prober")

DEFAULT_METRICS_PORT = 9469
PUSH_JOB = "payharness_payment_probe"


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonConfig:
    """How the daemon runs: every `interval_seconds`, serving `/metrics` on `metrics_host:metrics_port`.

    `metrics_host` defaults to loopback; set `0.0.0.0` for a Prometheus on another machine to scrape it.
    `max_runs` bounds the number of ticks (None: until cancelled).
    """

    interval_seconds: float
    enabled: bool = True
    metrics_host: str = "127.0.0.1"
    metrics_port: int = DEFAULT_METRICS_PORT
    max_runs: int | None = None

    def __post_init__(self) -> None:
        if not self.interval_seconds > 0:
            raise InvalidArgument(f"interval must be > 0 seconds, got {self.interval_seconds}")
        if self.max_runs is not None and self.max_runs < 1:
            raise InvalidArgument(f"max_runs must be >= 1, got {self.max_runs}")
        if not 0 <= self.metrics_port <= 65535:
            raise InvalidArgument(f"metrics port {self.metrics_port} is not a TCP port")


class MetricsServer:
    """prometheus-client's threaded HTTP server for one registry (port 0 picks a free port)."""

    def __init__(self, registry: CollectorRegistry, *, host: str, port: int) -> None:
        self._registry = registry
        self._host = host
        self._port = port
        self._server: Any = None

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("the metrics server is not started")
        return int(self._server.server_port)

    def start(self) -> MetricsServer:
        """Bind and serve in a daemon thread."""
        self._server, _thread = start_http_server(
            self._port, addr=self._host, registry=self._registry
        )
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def run_daemon(
    prober: Prober,
    config: DaemonConfig,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_report: Callable[[RunReport], None] | None = None,
    on_started: Callable[[MetricsServer], None] | None = None,
) -> int:
    """Serve `/metrics` and run the legs every interval; return how many runs were made."""
    runs = ticks = 0
    with MetricsServer(
        prober.metrics.registry, host=config.metrics_host, port=config.metrics_port
    ) as server:
        log.info(
            "payment_probe_daemon_started target=%s interval_s=%g metrics=http://%s:%d/metrics enabled=%s",
            prober.target,
            config.interval_seconds,
            config.metrics_host,
            server.port,
            config.enabled,
        )
        if not config.enabled:
            log.info("payment_probe_disabled: PAYMENT_PROBE_ENABLED is off; no leg will run")
        if on_started is not None:
            on_started(server)
        while config.max_runs is None or ticks < config.max_runs:
            if ticks:
                await sleep(config.interval_seconds)
            ticks += 1
            if not config.enabled:
                continue
            report = await prober.run_once()
            runs += 1
            if on_report is not None:
                on_report(report)
    return runs


def push_metrics(
    registry: CollectorRegistry,
    gateway: str,
    *,
    grouping_key: Mapping[str, str],
    timeout_seconds: float = 10.0,
    handler: Callable[..., Callable[[], None]] = default_handler,
) -> None:
    """PUT the registry to the Pushgateway at `gateway`; raise `PushFailed` when it does not take it."""
    try:
        push_to_gateway(
            gateway,
            job=PUSH_JOB,
            registry=registry,
            grouping_key=dict(grouping_key),
            timeout=timeout_seconds,
            handler=handler,
        )
    except Exception as exc:  # urllib raises URLError, HTTPError, OSError, ValueError...
        shown = display_target(gateway) if "://" in gateway else gateway
        raise PushFailed(f"the Pushgateway at {shown} did not take the metrics: {exc}") from exc
