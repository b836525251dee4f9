"""Stripe-style ids (``cus_``, ``cbtxn_``, ``ccsbtxn_``, ``cs_test_``, ``sub_``, ``in_``, ...).

Each fake owns an :class:`IdFactory`. Without a seed its ids come from the operating system's randomness, as
Stripe's do, so a restarted fake never hands out an id it handed out before (a service that kept its database
across the restart would otherwise see the same ``cus_`` twice, issue 12.6). With a seed they are
reproducible: a re-run with the same seed produces the same ids. Request ids come from a separate stream so
that reads do not shift the ids of objects created later.
"""

from __future__ import annotations

import itertools
import random
import secrets
import string
import threading

__all__ = ["IdFactory"]

_ALPHABET = string.ascii_letters + string.digits


class IdFactory:
    """A prefix plus base62 characters: random per instance, or from a seeded RNG when ``seed`` is given."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Start the streams again: from the seed when there is one, from fresh randomness otherwise."""
        stream = str(self._seed) if self._seed is not None else secrets.token_hex(16)
        with self._lock:
            self._objects = random.Random(f"objects:{stream}")
            # Request ids are minted on every call, so they are a stream prefix plus a counter: cheap.
            self._request_prefix = "".join(
                random.Random(f"requests:{stream}").choices(_ALPHABET, k=6)
            )
            self._requests = itertools.count(1)

    def new(self, prefix: str, length: int = 24) -> str:
        """A new object id, e.g. ``new("cus_")`` → ``cus_Xy...``."""
        with self._lock:
            return prefix + "".join(self._objects.choices(_ALPHABET, k=length))

    def request_id(self) -> str:
        """A new ``req_`` id for the ``Request-Id`` header."""
        return f"req_{self._request_prefix}{next(self._requests):08x}"
