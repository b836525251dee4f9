"""CDP webhook JSON: one event body, an array of them, or JSON Lines.

CDP webhooks arrive through Hook0, which signs ``content-type``, ``x-event-id`` and ``x-event-type``
besides the body (``h=`` in ``X-Hook0-Signature``, PROCESSORS.md 3.2). A body-only export does not keep
those headers, so the importer sets them from the body (``eventId``/``id`` and ``eventType``/``type``,
as the fake CDP sends them) and the replayer signs them again. ``received_at`` is ``createdAt``.
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

__all__ = ["CdpWebhookImporter"]


def _ident(event: dict[str, Any]) -> tuple[str | None, str | None]:
    event_id = event.get("eventId") or event.get("id")
    event_type = event.get("eventType") or event.get("type")
    return (
        str(event_id) if isinstance(event_id, str | int) else None,
        str(event_type) if isinstance(event_type, str) else None,
    )


class CdpWebhookImporter:
    """CDP (Hook0) webhook bodies → deliveries on the ``cdp`` rail (see the module docstring)."""

    name = "cdp-webhooks"

    def sniff(self, first: Any, path: Path) -> bool:
        """An object with ``eventType`` (CDP's field name) and ``eventId`` or ``id``."""
        return (
            isinstance(first, dict)
            and "eventType" in first
            and ("eventId" in first or "id" in first)
        )

    def parse(self, data: bytes, *, source: str, options: ImportOptions) -> LoadResult:
        """Every event in the file, body bytes as the source has them."""
        problems = Problems(source)
        deliveries = []
        try:
            for item in iter_items(data):
                if item.error is not None:
                    problems.add(item.line, "invalid_json", item.error)
                    continue
                event = item.value
                event_id, event_type = _ident(event) if isinstance(event, dict) else (None, None)
                if not event_id or not event_type:
                    problems.add(
                        item.line, "not_a_cdp_event", "event has no eventId/id and eventType/type"
                    )
                    continue
                deliveries.append(
                    build_delivery(
                        rail="cdp",
                        body=item.raw,
                        headers=(
                            ("content-type", "application/json"),
                            ("x-event-id", event_id),
                            ("x-event-type", event_type),
                        ),
                        received_at=received_at_from(
                            event.get("createdAt") or event.get("created_at"), options
                        ),
                        options=options,
                        importer=self.name,
                        origin=f"{source}:{item.line}",
                    )
                )
        except JsonShapeError as exc:
            problems.add(exc.line, "invalid_json", str(exc))
        return result(deliveries, problems)
