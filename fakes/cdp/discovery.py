"""The x402 Bazaar discovery list: ``GET /discovery/resources`` (PROCESSORS.md 3.1 "Discovery").

A facilitator catalogues the resources it has settled payments for; a buyer lists them to find paid
APIs. The response shape is the one the x402 package's Bazaar client reads
(``x402.extensions.bazaar.facilitator_client``: ``DiscoveryResourcesResponse``)::

    {"x402Version": 2, "items": [DiscoveryResource, ...], "pagination": {"limit", "offset", "total"}}

where a ``DiscoveryResource`` is ``{"resource": url, "type": "http", "x402Version", "accepts":
[requirements as sent], "lastUpdated": ISO 8601, "description"?, "mimeType"?}``. One item per resource
URL and x402 version; a later settlement for the same resource replaces its ``accepts`` and
``lastUpdated``. Query filters (all optional): ``type``, ``payTo``, ``scheme``, ``network``,
``limit`` (1..1000, default 100), ``offset`` (default 0); the list is ordered by first settlement.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fakes._common import InvalidFakeArgument
from fakes.cdp.payloads import FacilitatorRequest

__all__ = ["Bazaar"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
RESOURCE_TYPE = "http"


class Bazaar:
    """The catalogue of settled resources, listed with filters and pagination."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, int], dict[str, Any]] = {}

    def reset(self) -> None:
        """Forget every catalogued resource."""
        with self._lock:
            self._items.clear()

    def record(self, request: FacilitatorRequest, settled_at: float) -> None:
        """Catalogue the resource ``request`` paid for (no-op when the payment names no resource)."""
        url = request.resource.get("url")
        if not isinstance(url, str) or not url:
            return
        item: dict[str, Any] = {
            "resource": url,
            "type": RESOURCE_TYPE,
            "x402Version": request.x402_version,
            "accepts": [dict(request.raw_requirements)],
            "lastUpdated": datetime.fromtimestamp(settled_at, UTC)
            .isoformat()
            .replace("+00:00", "Z"),
        }
        for field in ("description", "mimeType"):
            value = request.resource.get(field)
            if isinstance(value, str) and value:
                item[field] = value
        with self._lock:
            self._items[(url, request.x402_version)] = item

    def list(self, query: Mapping[str, str]) -> dict[str, Any]:
        """The ``GET /discovery/resources`` body for ``query`` (see the module docstring)."""
        limit = _bounded(query.get("limit"), "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
        offset = _bounded(query.get("offset"), "offset", 0, low=0, high=None)
        with self._lock:
            items = [item for item in self._items.values() if _matches(item, query)]
        return {
            "x402Version": 2,
            "items": items[offset : offset + limit],
            "pagination": {"limit": limit, "offset": offset, "total": len(items)},
        }


def _matches(item: Mapping[str, Any], query: Mapping[str, str]) -> bool:
    wanted_type = query.get("type")
    if wanted_type is not None and item["type"] != wanted_type:
        return False
    for parameter, field in (("payTo", "payTo"), ("scheme", "scheme"), ("network", "network")):
        wanted = query.get(parameter)
        if wanted is None:
            continue
        values = {str(accept.get(field, "")).lower() for accept in item["accepts"]}
        if wanted.lower() not in values:
            return False
    return True


def _bounded(raw: str | None, name: str, default: int, *, low: int, high: int | None) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():
        raise InvalidFakeArgument(f"{name} must be a non-negative integer")
    value = int(raw)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidFakeArgument(f"{name} must be {bound}")
    return value
