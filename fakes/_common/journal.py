"""The journal: a bounded record of every processor request a fake received, with its final status.

Modelled on respx's ``calls``: tests read what the code under test actually sent (method, path, headers, body,
idempotency key) and what the fake answered, without reaching into the fake's state.
"""

from __future__ import annotations

import base64
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Journal", "JournalEntry"]


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalEntry:
    """One processor request as received, and the status the fake answered with."""

    seq: int
    at: float
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    idempotency_key: str | None
    status: int
    route: str | None

    def body_text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced), for assertions and logs."""
        return self.body.decode("utf-8", errors="replace")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; the body is text when it is UTF-8, else base64 with ``body_encoding``."""
        try:
            body, encoding = self.body.decode("utf-8"), "text"
        except UnicodeDecodeError:
            body, encoding = base64.b64encode(self.body).decode("ascii"), "base64"
        return {
            "seq": self.seq,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": dict(self.headers),
            "body": body,
            "body_encoding": encoding,
            "idempotency_key": self.idempotency_key,
            "status": self.status,
            "route": self.route,
        }


class Journal:
    """A bounded, thread-safe log of :class:`JournalEntry` (oldest dropped first past ``maxlen``).

    The fake records from its server thread while a test reads from its own thread, so every access takes a
    lock; the critical sections are a deque append or a copy, which keeps the request path cheap.
    """

    def __init__(self, maxlen: int = 10_000, *, now: Callable[[], float] = time.time) -> None:
        if maxlen < 1:
            raise ValueError(f"journal maxlen must be >= 1, got {maxlen}")
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = 0
        self._now = now

    @property
    def maxlen(self) -> int:
        """How many entries are kept before the oldest is dropped."""
        return self._entries.maxlen or 0

    def record(
        self,
        *,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        idempotency_key: str | None,
        status: int,
        route: str | None,
    ) -> JournalEntry:
        """Append one request; ``seq`` keeps counting across drops and clears so entries stay orderable."""
        with self._lock:
            self._seq += 1
            entry = JournalEntry(
                seq=self._seq,
                at=self._now(),
                method=method,
                path=path,
                query=query,
                headers=headers,
                body=body,
                idempotency_key=idempotency_key,
                status=status,
                route=route,
            )
            self._entries.append(entry)
        return entry

    def entries(self) -> list[JournalEntry]:
        """Every kept entry, oldest first."""
        with self._lock:
            return list(self._entries)

    def calls(
        self,
        method: str | None = None,
        path_prefix: str | None = None,
        route: str | None = None,
    ) -> list[JournalEntry]:
        """Entries filtered by method (case-insensitive), path prefix and route name, oldest first."""
        wanted_method = method.upper() if method is not None else None
        return [
            entry
            for entry in self.entries()
            if (wanted_method is None or entry.method == wanted_method)
            and (path_prefix is None or entry.path.startswith(path_prefix))
            and (route is None or entry.route == route)
        ]

    def clear(self) -> None:
        """Forget every entry (``seq`` keeps counting)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
