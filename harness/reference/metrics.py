"""Prometheus metrics of one reference-service instance, in its own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["ServiceMetrics"]


class ServiceMetrics:
    """Counters a black-box suite can read from `/metrics`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.webhooks = Counter(
            "payments_webhooks_total",
            "Webhook deliveries by rail and outcome",
            ["rail", "outcome"],
            registry=self.registry,
        )
        self.signature_failures = Counter(
            "payments_webhook_signature_failures_total",
            "Webhook deliveries refused for a missing or bad signature",
            ["rail", "reason"],
            registry=self.registry,
        )
        self.settle_at_close = Counter(
            "payments_settle_at_close_total",
            "Settle-at-close attempts of paid requests by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.charges = Counter(
            "payments_charges_total",
            "Charges by status",
            ["status"],
            registry=self.registry,
        )
        self.processor_calls = Counter(
            "payments_processor_calls_total",
            "Outbound processor calls by rail and result",
            ["rail", "result"],
            registry=self.registry,
        )
        for outcome in ("settled", "failed", "unconfirmed", "skipped"):
            self.settle_at_close.labels(outcome=outcome)
