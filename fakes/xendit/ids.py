"""Deterministic Xendit-style identifiers and ISO-8601 timestamps for one fake instance.

Xendit invoice ids look like MongoDB ObjectIds (24 hex: ``62f00ac409accd62c85673c4``, PROCESSORS.md 2.4);
customers are ``cust-<uuid>``; recurring plans, schedules and cycles carry ``repl_``, ``resc_`` and
``recy_`` prefixes. Each id here is derived from the instance's seed and a per-kind counter, never from a
global, so two fakes with the same seed produce the same ids and two side by side do not interfere.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import uuid
from datetime import UTC, datetime

__all__ = ["IdFactory", "isoformat"]


def isoformat(timestamp: float) -> str:
    """Xendit's timestamp format: UTC, milliseconds, ``Z`` (``2022-08-07T18:56:04.761Z``)."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class IdFactory:
    """Mints ids from ``seed`` and one counter per kind (thread-safe)."""

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._counters: dict[str, itertools.count[int]] = {}

    def reset(self) -> None:
        """Restart every counter (ids repeat after a reset, like a fresh instance)."""
        with self._lock:
            self._counters.clear()

    def _digest(self, kind: str) -> bytes:
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count(1))
            number = next(counter)
        return hashlib.sha256(f"{self._seed}:{kind}:{number}".encode()).digest()

    def object_id(self, kind: str, timestamp: float) -> str:
        """A 24-hex ObjectId-like id: 4 bytes of the creation time, 8 derived bytes."""
        return f"{int(timestamp) & 0xFFFFFFFF:08x}" + self._digest(kind)[:8].hex()

    def uuid(self, kind: str) -> str:
        """A version-4-shaped UUID string."""
        return str(uuid.UUID(bytes=self._digest(kind)[:16], version=4))

    def prefixed(self, prefix: str) -> str:
        """``prefix`` followed by a UUID (``repl_``, ``resc_``, ``recy_``, ``cust-``)."""
        return prefix + self.uuid(prefix)
