"""The prober's Prometheus metrics, in a `CollectorRegistry` of its own (never the global default).

| metric | type | labels | meaning |
|---|---|---|---|
| `payment_probe_outcome_total` | counter | leg, result | one increment per leg per run; `result` is the outcome kind: pass, degraded, dormant, fail, security, misconfigured |
| `payment_probe_result` | gauge | leg, result | 1 for the outcome kind of the leg's last run, 0 for every other kind (what the alerts read) |
| `payment_probe_service` | gauge | state | 1 for the last run's one dormancy verdict (live, dormant, half_switched_off), 0 for the others |
| `payment_probe_cohort_leaked` | gauge | | test-cohort accounts the last run could not reap (or a reap guard that did not hold) |
| `payment_probe_latency_seconds` | histogram | leg | leg latency, observed only when a real answer came back |
| `probe_success` | gauge | leg | 1 when the leg's last result was pass or degraded (slow but working), 0 otherwise |
| `payment_probe_last_run_timestamp_seconds` | gauge | | unix time the last run completed |

`probe_success` follows the blackbox-exporter name and answers "does this leg of the money path work?":
a dormant leg exports 0 (the route is switched off, so it does not work), and so do fail, security and
misconfigured. It is for dashboards; the alert rules read `payment_probe_result` and
`payment_probe_service`, so a dormant service shows red on the board but pages nobody.

Every series is lazy: nothing is exposed before the first run completes, so an inert prober
(`PAYMENT_PROBE_ENABLED=false`) emits nothing at all, not even a zero timestamp.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .results import OUTCOMES, LegResult, RunReport
from .service import SERVICE_STATES

__all__ = ["LATENCY_BUCKETS_SECONDS", "METRIC_NAMES", "ProbeMetrics"]

#: Buckets that cover every leg budget (2 s, 5 s, 8 s) and the 15 s timeout cap.
LATENCY_BUCKETS_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 8.0, 10.0, 15.0)

#: The metric families the prober exposes (what alert rules and dashboards may reference).
METRIC_NAMES = (
    "payment_probe_outcome_total",
    "payment_probe_result",
    "payment_probe_service",
    "payment_probe_cohort_leaked",
    "payment_probe_latency_seconds",
    "probe_success",
    "payment_probe_last_run_timestamp_seconds",
)


class ProbeMetrics:
    """The probe metrics on one registry; two instances in one process never share a series."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.outcomes = Counter(
            "payment_probe_outcome",
            "Probe leg outcomes: one increment per leg per run.",
            ["leg", "result"],
            registry=self.registry,
        )
        self.result = Gauge(
            "payment_probe_result",
            "1 for the outcome kind of the leg's last run, 0 for the other kinds.",
            ["leg", "result"],
            registry=self.registry,
        )
        self.service = Gauge(
            "payment_probe_service",
            "1 for the last run's dormancy verdict (live, dormant, half_switched_off).",
            ["state"],
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
            "1 when the leg's last result was pass or degraded, 0 otherwise (dormant included).",
            ["leg"],
            registry=self.registry,
        )
        # Registered on the first completed run only: unlabelled gauges would otherwise be exposed
        # as 0 from the start.
        self.leaked = Gauge(
            "payment_probe_cohort_leaked",
            "Test-cohort accounts the last run could not reap (or a reap guard that did not hold).",
            registry=None,
        )
        self.last_run = Gauge(
            "payment_probe_last_run_timestamp_seconds",
            "Unix time the last probe run completed.",
            registry=None,
        )
        self._run_gauges_registered = False

    def record(self, result: LegResult) -> None:
        """Count one leg's outcome, observe its latency when it had a real round trip, set its gauges."""
        outcome = result.outcome
        self.outcomes.labels(leg=result.leg, result=outcome).inc()
        for kind in OUTCOMES:
            self.result.labels(leg=result.leg, result=kind).set(1 if kind == outcome else 0)
        if result.observed:
            self.latency.labels(leg=result.leg).observe(result.latency_seconds)
        self.success.labels(leg=result.leg).set(1 if outcome in ("pass", "degraded") else 0)

    def completed(self, report: RunReport, timestamp: float) -> None:
        """Mark a run as completed at `timestamp` (unix seconds), with its service state and leaks."""
        if not self._run_gauges_registered:
            self.registry.register(self.leaked)
            self.registry.register(self.last_run)
            self._run_gauges_registered = True
        for state in SERVICE_STATES:
            self.service.labels(state=state).set(1 if state == report.service else 0)
        self.leaked.set(len(report.reap_failures))
        self.last_run.set(timestamp)
