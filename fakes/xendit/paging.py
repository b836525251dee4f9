"""Filtering and cursor pagination shared by the fake Xendit's list endpoints.

Xendit's newer list endpoints page with ``limit`` plus ``after_id``/``before_id`` (ids of the previous
page's last/first item) and answer ``has_more`` and ``links`` (``[{"href", "rel": "next", "method":
"GET"}]``). Filters arrive as repeated query parameters (``statuses=SUCCESS&statuses=PENDING``, or
``statuses[]=...``); an item matches when its field equals any of the given values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fakes.xendit.errors import validation_error

__all__ = ["Page", "page"]

MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its items, whether more follow, and the ``next`` link if they do."""

    items: list[dict[str, Any]]
    has_more: bool
    links: list[dict[str, str]]


def page(
    items: Sequence[dict[str, Any]],
    query: Sequence[tuple[str, str]],
    filters: Mapping[str, str],
    *,
    default_limit: int,
) -> Page:
    """Filter ``items`` (already in list order) by ``query`` through ``filters`` (query name → field)
    and cut the page ``limit``/``after_id``/``before_id`` ask for."""
    wanted: dict[str, set[str]] = {}
    single: dict[str, str] = {}
    for raw_name, value in query:
        name = raw_name.removesuffix("[]")
        if name in filters:
            wanted.setdefault(filters[name], set()).add(value)
        else:
            single[name] = value
    kept = [
        item for item in items if all(str(item.get(f)) in values for f, values in wanted.items())
    ]
    limit = _limit(single.get("limit"), default_limit)
    after, before = single.get("after_id"), single.get("before_id")
    ids = [item.get("id") for item in kept]
    if after is not None:
        kept = kept[ids.index(after) + 1 :] if after in ids else []
    elif before is not None:
        kept = kept[: ids.index(before)][-limit:] if before in ids else []
    chosen, has_more = kept[:limit], len(kept) > limit
    links: list[dict[str, str]] = []
    if has_more:
        params = [(k, v) for k, v in query if k not in ("after_id", "before_id")]
        href = "?" + urlencode([*params, ("after_id", str(chosen[-1]["id"]))])
        links.append({"href": href, "rel": "next", "method": "GET"})
    return Page(items=chosen, has_more=has_more, links=links)


def _limit(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        limit = int(float(raw))  # xendit-python sends `limit` typed float for some APIs ("10.0")
    except ValueError as exc:
        raise validation_error('"limit" must be a number') from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise validation_error(f'"limit" must be between 1 and {MAX_LIMIT}')
    return limit
