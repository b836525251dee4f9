"""Stripe event objects, as the dashboard or the Stripe CLI exports them: a JSON array, JSON Lines, or a
list object (``{"object": "list", "data": [...]}``, what ``stripe events list`` prints).

A Stripe webhook body *is* the event object (PROCESSORS.md 1.4: ``object: "event"``), so each event's
body is the exact bytes the source holds for it. The recorded ``received_at`` is the event's
``created`` time. Only ``object: "event"`` is taken: v2 "thin" events (``v2.core.event``) are refused
by stripe-python's ``construct_event`` (PROCESSORS.md 1.1) and are reported, not imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.replay.importers._json import JsonShapeError, iter_items
from harness.replay.importers.base import (
    ImportOptions,
    Problems,
    build_delivery,
    received_at_from,
    result,
)
from harness.replay.recording import LoadResult

__all__ = ["StripeEventsImporter"]


class StripeEventsImporter:
    """Stripe ``event`` objects → deliveries on the ``stripe`` rail (see the module docstring)."""

    name = "stripe-events"

    def sniff(self, first: Any, path: Path) -> bool:
        """An object with ``object: "event"`` (or ``v2.core.event``)."""
        return isinstance(first, dict) and str(first.get("object", "")).endswith("event")

    def parse(self, data: bytes, *, source: str, options: ImportOptions) -> LoadResult:
        """Every event in the file, body bytes as the source has them."""
        problems = Problems(source)
        deliveries = []
        try:
            for item in iter_items(data, unwrap_key="data"):
                if item.error is not None:
                    problems.add(item.line, "invalid_json", item.error)
                    continue
                event = item.value
                if not isinstance(event, dict) or event.get("object") != "event":
                    kind = event.get("object") if isinstance(event, dict) else type(event).__name__
                    problems.add(
                        item.line, "not_a_stripe_event", f"expected object 'event', got {kind!r}"
                    )
                    continue
                if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
                    problems.add(item.line, "not_a_stripe_event", "event has no string id and type")
                    continue
                deliveries.append(
                    build_delivery(
                        rail="stripe",
                        body=item.raw,
                        headers=(("content-type", "application/json"),),
                        received_at=received_at_from(event.get("created"), options),
                        options=options,
                        importer=self.name,
                        origin=f"{source}:{item.line}",
                    )
                )
        except JsonShapeError as exc:
            problems.add(exc.line, "invalid_json", str(exc))
        return result(deliveries, problems)
