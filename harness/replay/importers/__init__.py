"""Importers: every source of recorded deliveries the replayer reads, one module per source.

| format | module | reads |
|---|---|---|
| ``recording`` | (canonical) | payharness JSONL recordings (``contracts/webhook-recording.schema.json``) |
| ``har`` | `har` | HAR 1.2: POSTs to a webhook path |
| ``stripe-events`` | `stripe_events` | Stripe ``event`` objects: JSON array, JSON Lines, or a list object |
| ``razorpay-webhooks`` | `razorpay` | Razorpay envelopes with their ``x-razorpay-event-id`` header |
| ``cdp-webhooks`` | `cdp` | CDP (Hook0) webhook bodies |
| ``xendit-callbacks`` | `xendit` | Xendit callback bodies (flat invoice or enveloped) |

`load_files` picks the importer by sniffing each file's first JSON value, in the order above, unless a
format is named. Problems in a file (bad lines, foreign objects) are collected, never raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.replay.errors import RecordingUnreadable, UnknownRecordingFormat
from harness.replay.importers._json import first_item
from harness.replay.importers.base import Importer, ImportOptions
from harness.replay.importers.cdp import CdpWebhookImporter
from harness.replay.importers.har import HarImporter
from harness.replay.importers.razorpay import RazorpayWebhookImporter
from harness.replay.importers.stripe_events import StripeEventsImporter
from harness.replay.importers.xendit import XenditCallbackImporter
from harness.replay.recording import LoadResult, parse_recording

__all__ = [
    "IMPORTERS",
    "CdpWebhookImporter",
    "HarImporter",
    "ImportOptions",
    "Importer",
    "RazorpayWebhookImporter",
    "RecordingImporter",
    "StripeEventsImporter",
    "XenditCallbackImporter",
    "detect_importer",
    "load_file",
    "load_files",
]


class RecordingImporter:
    """The canonical JSONL recording (what ``payharness record`` writes)."""

    name = "recording"

    def sniff(self, first: Any, path: Path) -> bool:
        """An object with ``version``, ``rail`` and ``body_encoding``."""
        return isinstance(first, dict) and {"version", "rail", "body_encoding"} <= first.keys()

    def parse(self, data: bytes, *, source: str, options: ImportOptions) -> LoadResult:
        """Every valid line; each invalid one becomes a problem with its line number."""
        return parse_recording(data, source=source)


IMPORTERS: Mapping[str, Importer] = MappingProxyType(
    {
        importer.name: importer
        for importer in (
            RecordingImporter(),
            HarImporter(),
            StripeEventsImporter(),
            RazorpayWebhookImporter(),
            CdpWebhookImporter(),
            XenditCallbackImporter(),
        )
    }
)
"""Format name → importer, in sniffing order. The importers hold no state, so sharing them is safe."""


def detect_importer(data: bytes, path: Path) -> Importer:
    """The first importer that recognises ``data``; `UnknownRecordingFormat` when none does."""
    first = first_item(data, unwrap_key="data")
    for importer in IMPORTERS.values():
        if importer.sniff(first, path):
            return importer
    raise UnknownRecordingFormat(
        f"{path}: not a format payharness can import; name one with --format "
        f"({', '.join(IMPORTERS)})"
    )


def load_file(
    path: str | Path, *, format: str | None = None, options: ImportOptions | None = None
) -> LoadResult:
    """Read one file with the named importer, or the one that recognises it."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordingUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    if format is not None:
        importer = IMPORTERS.get(format)
        if importer is None:
            raise UnknownRecordingFormat(
                f"unknown format {format!r}; known: {', '.join(IMPORTERS)}"
            )
    else:
        importer = detect_importer(data, path)
    return importer.parse(data, source=str(path), options=options or ImportOptions())


def load_files(
    paths: Iterable[str | Path],
    *,
    format: str | None = None,
    options: ImportOptions | None = None,
) -> LoadResult:
    """Every delivery of every file, in the order given; problems of all files together."""
    total = LoadResult()
    for path in paths:
        total = total + load_file(path, format=format, options=options)
    return total
