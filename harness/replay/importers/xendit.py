"""Xendit callback JSON: one callback object, an array of them, or JSON Lines.

Xendit callbacks are the request bodies themselves: flat invoice objects (PROCESSORS.md 2.4) or the
``{event, created, business_id, data}`` envelope of newer products (2.1). The only header is the static
``x-callback-token`` (2.1), which the replayer sets from the test token, so the importer records just
``content-type``. ``received_at`` is the callback's ``updated``, ``paid_at`` or ``created`` time.
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

__all__ = ["XenditCallbackImporter"]


def _is_callback(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    enveloped = "event" in value and isinstance(value.get("data"), dict)
    flat_invoice = "external_id" in value and "status" in value and "id" in value
    return enveloped or flat_invoice


class XenditCallbackImporter:
    """Xendit callback bodies → deliveries on the ``xendit`` rail (see the module docstring)."""

    name = "xendit-callbacks"

    def sniff(self, first: Any, path: Path) -> bool:
        """A flat invoice callback (``id``, ``external_id``, ``status``) or an ``event``/``data`` envelope."""
        return _is_callback(first)

    def parse(self, data: bytes, *, source: str, options: ImportOptions) -> LoadResult:
        """Every callback in the file, body bytes as the source has them."""
        problems = Problems(source)
        deliveries = []
        try:
            for item in iter_items(data):
                if item.error is not None:
                    problems.add(item.line, "invalid_json", item.error)
                    continue
                callback = item.value
                if not _is_callback(callback):
                    problems.add(
                        item.line,
                        "not_a_xendit_callback",
                        "expected a flat invoice callback or an event/data envelope",
                    )
                    continue
                data_part = callback.get("data") if isinstance(callback.get("data"), dict) else {}
                when = (
                    callback.get("updated")
                    or callback.get("paid_at")
                    or callback.get("created")
                    or data_part.get("created")
                )
                deliveries.append(
                    build_delivery(
                        rail="xendit",
                        body=item.raw,
                        headers=(("content-type", "application/json"),),
                        received_at=received_at_from(when, options),
                        options=options,
                        importer=self.name,
                        origin=f"{source}:{item.line}",
                    )
                )
        except JsonShapeError as exc:
            problems.add(exc.line, "invalid_json", str(exc))
        return result(deliveries, problems)
