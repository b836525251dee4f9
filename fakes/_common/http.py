"""The request, response and router the fakes are built on: a deliberately small HTTP core.

The fakes are benchmarked (``GET /v1/customers/{id}`` must run at a good fraction of a no-op ASGI app), so
the core does no per-request regex work: static paths are a dict lookup and templated paths are matched
segment by segment against routes indexed by method and segment count.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any
from urllib.parse import parse_qsl

__all__ = [
    "FakeRequest",
    "FakeResponse",
    "Handler",
    "Route",
    "Router",
    "json_response",
]


@dataclass(slots=True, kw_only=True)
class FakeRequest:
    """One HTTP request as the fake sees it: header names lowercased, body fully read."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)
    route: str | None = None
    # Per-request scratch space for a processor (for example the authenticated API key).
    context: dict[str, Any] = field(default_factory=dict)

    def query_items(self) -> list[tuple[str, str]]:
        """The query string as ordered ``(key, value)`` pairs, blank values kept."""
        return parse_qsl(self.query_string, keep_blank_values=True)

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.body) if self.body else None


@dataclass(slots=True, kw_only=True)
class FakeResponse:
    """What a handler answers: a status, a body and extra headers (``content-type`` included)."""

    status: int
    body: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    content_type: bytes = b"application/json"

    def json(self) -> Any:
        """The body parsed as JSON, for tests and for replaying saved responses."""
        return json.loads(self.body)

    def copy(self) -> FakeResponse:
        """A shallow copy whose header list can be extended without touching the original."""
        return FakeResponse(
            status=self.status,
            body=self.body,
            headers=list(self.headers),
            content_type=self.content_type,
        )


def json_response(
    status: int, payload: Any, headers: Iterable[tuple[bytes, bytes]] = ()
) -> FakeResponse:
    """A compact JSON response."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return FakeResponse(status=status, body=body, headers=list(headers))


Handler = Callable[[FakeRequest], Awaitable[FakeResponse]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """A method, a path template (``/v1/customers/{customer}``) and its handler, with a stable name.

    The name is what journals and fault rules refer to (``"customers.retrieve"``).
    """

    method: str
    template: str
    handler: Handler
    name: str


#: a templated route: registration order, the route, and its parameters' (position, name)
_Templated = tuple[int, "Route", tuple[tuple[int, str], ...]]


def _literals(parts: list[str], positions: tuple[int, ...]) -> Any:
    # itemgetter answers a bare item for one position and a tuple for several: the same on both sides.
    return itemgetter(*positions)(parts) if positions else ()


class Router:
    """Matches ``(method, path)`` to a :class:`Route` and its path parameters.

    A templated route is found by one dict lookup per literal pattern: routes with the same method, segment
    count and literal positions share a table keyed by their literal segments (a path's candidates used to
    be scanned one by one, ~10% of a ``GET /v1/customers/{id}`` in the fake's own code). When routes of
    different patterns match one path, the first registered wins, as before.
    """

    def __init__(self, routes: Sequence[Route]) -> None:
        self._static: dict[tuple[str, str], Route] = {}
        # (method, segment count) -> [(literal positions, literals at them -> (order, route, params))]
        self._dynamic: dict[
            tuple[str, int], list[tuple[tuple[int, ...], dict[Any, _Templated]]]
        ] = {}
        self._routes = tuple(routes)
        for order, route in enumerate(self._routes):
            self._add(order, route)

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every route, in registration order."""
        return self._routes

    def _add(self, order: int, route: Route) -> None:
        method = route.method.upper()
        if "{" not in route.template:
            self._static[(method, route.template)] = route
            return
        parts = route.template.split("/")
        literal_at = tuple(
            i for i, part in enumerate(parts) if not (part.startswith("{") and part.endswith("}"))
        )
        params = tuple((i, parts[i][1:-1]) for i in range(len(parts)) if i not in literal_at)
        patterns = self._dynamic.setdefault((method, len(parts)), [])
        table = next((t for positions, t in patterns if positions == literal_at), None)
        if table is None:
            table = {}
            patterns.append((literal_at, table))
        table.setdefault(_literals(parts, literal_at), (order, route, params))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The first route matching ``method`` and ``path``, and its parameters; ``None`` if none does."""
        route = self._static.get((method, path))
        if route is not None:
            return route, {}
        parts = path.split("/")
        best: _Templated | None = None
        for literal_at, table in self._dynamic.get((method, len(parts)), ()):
            found = table.get(_literals(parts, literal_at))
            if found is None or (best is not None and best[0] < found[0]):
                continue
            if all(parts[i] for i, _ in found[2]):  # a parameter is never an empty segment
                best = found
        if best is None:
            return None
        return best[1], {name: parts[i] for i, name in best[2]}
