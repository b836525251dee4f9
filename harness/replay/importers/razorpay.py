"""Razorpay webhook JSON with its event id header.

Razorpay's envelope (``{"entity": "event", "event": ..., "payload": ...}``) has no event id field: the
receiver dedupes on the ``x-razorpay-event-id`` header, "unique per event" and the same across retries
(PROCESSORS.md 4, RZP-VT). So the importer reads deliveries in this shape (a single object, an array,
or JSON Lines)::

    {"headers": {"x-razorpay-event-id": "Ev_123", ...}, "body": {"entity": "event", ...}}

``headers`` may also be a list of ``[name, value]`` pairs. ``body`` is either the envelope object (its
exact bytes in the file are the body) or a string holding the raw body as received. A bare envelope
without the wrapper is accepted too, but then the id header is missing: the importer sets a
deterministic one (``ph_sha256_<hex of the body>``) so copies still dedupe, and marks it in
``meta.synthesized_event_id``. ``received_at`` is the envelope's ``created_at`` (unix seconds).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from harness.replay.importers._json import JsonShapeError, iter_items, member_raw
from harness.replay.importers.base import (
    ImportOptions,
    Problems,
    build_delivery,
    received_at_from,
    result,
)
from harness.replay.recording import LoadResult

__all__ = ["RazorpayWebhookImporter"]

EVENT_ID_HEADER = "x-razorpay-event-id"


def _is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and value.get("entity") == "event"


def _headers(raw: Any) -> list[tuple[str, str]] | None:
    if isinstance(raw, dict):
        return [(str(k), str(v)) for k, v in raw.items()]
    if isinstance(raw, list) and all(isinstance(p, list) and len(p) == 2 for p in raw):
        return [(str(k), str(v)) for k, v in raw]
    return None


class RazorpayWebhookImporter:
    """Razorpay webhook deliveries → the ``razorpay`` rail (see the module docstring)."""

    name = "razorpay-webhooks"

    def sniff(self, first: Any, path: Path) -> bool:
        """A ``{"headers", "body"}`` wrapper naming ``x-razorpay-event-id``, or a bare envelope."""
        if isinstance(first, dict) and "body" in first:
            headers = _headers(first.get("headers")) or []
            return any(name.lower() == EVENT_ID_HEADER for name, _ in headers)
        return _is_envelope(first)

    def parse(self, data: bytes, *, source: str, options: ImportOptions) -> LoadResult:
        """Every delivery in the file; the body bytes are the envelope's bytes in the source."""
        problems = Problems(source)
        deliveries = []
        try:
            for item in iter_items(data):
                if item.error is not None:
                    problems.add(item.line, "invalid_json", item.error)
                    continue
                value = item.value
                meta: dict[str, Any] = {}
                if isinstance(value, dict) and "body" in value:
                    headers = _headers(value.get("headers", {}))
                    if headers is None:
                        problems.add(
                            item.line, "invalid_headers", "headers must be an object or pairs"
                        )
                        continue
                    inner = value["body"]
                    if isinstance(inner, str):
                        body = inner.encode("utf-8")
                        try:
                            envelope = json.loads(inner)
                        except ValueError:
                            envelope = None
                    else:
                        body = member_raw(item.raw, "body") or b""
                        envelope = inner
                elif _is_envelope(value):
                    headers, body, envelope = [], item.raw, value
                else:
                    problems.add(
                        item.line,
                        "not_a_razorpay_webhook",
                        "expected {headers, body} or an entity:event envelope",
                    )
                    continue
                if not any(name.lower() == EVENT_ID_HEADER for name, _ in headers):
                    synthesized = "ph_sha256_" + hashlib.sha256(body).hexdigest()[:32]
                    headers.append((EVENT_ID_HEADER, synthesized))
                    meta["synthesized_event_id"] = True
                if not any(name.lower() == "content-type" for name, _ in headers):
                    headers.insert(0, ("content-type", "application/json"))
                created = envelope.get("created_at") if isinstance(envelope, dict) else None
                deliveries.append(
                    build_delivery(
                        rail="razorpay",
                        body=body,
                        headers=headers,
                        received_at=received_at_from(created, options),
                        options=options,
                        importer=self.name,
                        origin=f"{source}:{item.line}",
                        meta=meta,
                    )
                )
        except JsonShapeError as exc:
            problems.add(exc.line, "invalid_json", str(exc))
        return result(deliveries, problems)
