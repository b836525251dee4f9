"""The `Importer` plug point and what every importer shares: options and building a `Delivery`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from harness.replay.rails import DEFAULT_WEBHOOK_PATH, event_id_of
from harness.replay.recording import (
    Delivery,
    LoadProblem,
    LoadResult,
    format_timestamp,
    parse_timestamp,
)

__all__ = [
    "ImportOptions",
    "Importer",
    "Problems",
    "build_delivery",
    "received_at_from",
    "result",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportOptions:
    """How sources without a full delivery are completed.

    ``webhook_path`` is the path recorded for imported events (``{rail}`` replaced); the replayer posts
    to the target's own path whatever is recorded. ``har_path_pattern`` picks the webhook POSTs out of
    a HAR file (a regular expression searched in the URL path). ``now`` gives ``received_at`` to events
    whose source has no time at all.
    """

    webhook_path: str = DEFAULT_WEBHOOK_PATH
    har_path_pattern: str = r"/webhooks?(/|$)"
    now: Callable[[], float] = time.time


class Importer(Protocol):
    """Turns one kind of source file into deliveries, keeping body bytes exact where the source has them."""

    @property
    def name(self) -> str:
        """The format's name (``--format``): ``recording``, ``stripe-events``, ``har``, ..."""
        ...

    def sniff(self, first: Any, path: Path) -> bool:
        """Whether this importer reads a file whose first JSON value is ``first``."""
        ...

    def parse(self, data: bytes, *, source: str, options: ImportOptions) -> LoadResult:
        """Every delivery in ``data``; what cannot be read becomes a problem with its line number."""
        ...


class Problems:
    """Collects `LoadProblem`s for one source file."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[LoadProblem] = []

    def add(self, line: int | None, code: str, message: str) -> None:
        """Record one skipped line or element."""
        self.items.append(LoadProblem(file=self.source, line=line, code=code, message=message))


def received_at_from(value: Any, options: ImportOptions) -> str:
    """``received_at`` from a source's own time: unix seconds or an ISO 8601 string; else the clock."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return format_timestamp(float(value))
    if isinstance(value, str) and value:
        try:
            return format_timestamp(parse_timestamp(value))
        except ValueError:
            pass
    return format_timestamp(options.now())


def build_delivery(
    *,
    rail: str,
    body: bytes,
    headers: Sequence[tuple[str, str]],
    received_at: str,
    options: ImportOptions,
    importer: str,
    origin: str,
    path: str | None = None,
    method: str = "POST",
    meta: Mapping[str, Any] | None = None,
) -> Delivery:
    """A `Delivery` for an imported event; the event id follows `harness.replay.rails.event_id_of`."""
    return Delivery(
        rail=rail,
        event_id=event_id_of(rail, headers, body),
        received_at=received_at,
        method=method,
        path=path or options.webhook_path.replace("{rail}", rail),
        headers=tuple(headers),
        body=body,
        source=f"import:{importer}",
        meta=dict(meta or {}),
        origin=origin,
    )


def result(deliveries: list[Delivery], problems: Problems) -> LoadResult:
    """The `LoadResult` of one file."""
    return LoadResult(deliveries=tuple(deliveries), problems=tuple(problems.items))
