"""The prober's Prometheus metrics, in a `CollectorRegistry` of its own (never the global default).

| metric | type | labels | meaning |
|---|---|---|---|
| `payment_probe_outcome_total` | counter | leg, result | one increment per leg per run (5 per run) |
| `payment_probe_latency_seconds` | histogram | leg | leg latency, observed only when a real answer came back |
| `probe_success` | gauge | leg | 1 when the leg's last result was pass or degraded, 0 when it failed |
| `payment_probe_last_run_timestamp_seconds` | gauge | | unix time the last run completed |

Every series is lazy: nothing is exposed before the first run completes, so an inert prober
(`PAYMENT_PROBE_ENABLED=false`) emits nothing at all, not even a zero timestamp that the staleness alert
would read as "never ran". `probe_success` follows the blackbox-exporter name; `degraded` counts as
success there because degraded never pages (PRIOR_ART.md §3): the outcome counter keeps the difference.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .results import LegResult

__all__ = ["LATENCY_BUCKETS_SECONDS", "METRIC_NAMES", "ProbeMetrics"]

#: Buckets that cover every leg budget (2 s, 5 s, 8 s) and the 15 s timeout cap.
LATENCY_BUCKETS_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 8.0, 10.0, 15.0)

#: The metric families the prober exposes (what alert rules and dashboards may reference).
METRIC_NAMES = (
    "payment_probe_outcome_total",
    "payment_probe_latency_seconds",
    "probe_success",
    "payment_probe_last_run_timestamp_seconds",
)


class ProbeMetrics:
    """The four probe metrics on one registry; two instances in one process never share a series."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.outcomes = Counter(
            "payment_probe_outcome",
            "Probe leg outcomes: one increment per leg per run.",
            ["leg", "result"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "payment_probe_latency_seconds",
            "Probe leg latency, observed only when the target answered.",
            ["leg"],
            buckets=LATENCY_BUCKETS_SECONDS,
            registry=self.registry,
        )
        self.success = Gauge(
            "probe_success",
            "1 when the leg's last result was pass or degraded, 0 when it failed.",
            ["leg"],
            registry=self.registry,
        )
        # Registered on the first completed run only: an unlabelled gauge would otherwise be exposed
        # as 0 from the start.
        self.last_run = Gauge(
            "payment_probe_last_run_timestamp_seconds",
            "Unix time the last probe run completed.",
            registry=None,
        )
        self._last_run_registered = False

    def record(self, result: LegResult) -> None:
        """Count one leg's result, observe its latency when it had a real round trip, set its success."""
        self.outcomes.labels(leg=result.leg, result=result.result).inc()
        if result.observed:
            self.latency.labels(leg=result.leg).observe(result.latency_seconds)
        self.success.labels(leg=result.leg).set(0 if result.result == "fail" else 1)

    def completed(self, timestamp: float) -> None:
        """Mark a run as completed at `timestamp` (unix seconds)."""
        if not self._last_run_registered:
            self.registry.register(self.last_run)
            self._last_run_registered = True
        self.last_run.set(timestamp)
