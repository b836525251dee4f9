"""Deterministic Stripe-style ids (``cus_``, ``cbtxn_``, ``ccsbtxn_``, ``cs_test_``, ``sub_``, ``in_``, ...).

Each fake owns an :class:`IdFactory` seeded from its config, so two fakes never share a counter and a
re-run with the same seed produces the same ids. Request ids come from a separate stream so that reads do
not shift the ids of objects created later.
"""

from __future__ import annotations

import itertools
import random
import string
import threading

__all__ = ["IdFactory"]

_ALPHABET = string.ascii_letters + string.digits


class IdFactory:
    """Random-looking, reproducible ids: a prefix plus base62 characters from a seeded RNG."""

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Start the streams again from the seed."""
        with self._lock:
            self._objects = random.Random(f"objects:{self._seed}")
            # Request ids are minted on every call, so they are a seeded prefix plus a counter: cheap.
            self._request_prefix = "".join(
                random.Random(f"requests:{self._seed}").choices(_ALPHABET, k=6)
            )
            self._requests = itertools.count(1)

    def new(self, prefix: str, length: int = 24) -> str:
        """A new object id, e.g. ``new("cus_")`` → ``cus_Xy...``."""
        with self._lock:
            return prefix + "".join(self._objects.choices(_ALPHABET, k=length))

    def request_id(self) -> str:
        """A new ``req_`` id for the ``Request-Id`` header."""
        return f"req_{self._request_prefix}{next(self._requests):08x}"
