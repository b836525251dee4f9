"""An idempotency-key store shared by the fakes; each processor turns its verdicts into its own errors.

Semantics follow Stripe's v1 layer (PROCESSORS.md 1.5, S-IDEM), which is the strictest of our processors:

* the first request with a key claims it (:attr:`Verdict.EXECUTE`); its response is saved once execution has
  begun (:meth:`IdempotencyStore.complete`), 5xx included;
* a later request with the same key and the same endpoint and parameters gets the saved response
  (:attr:`Verdict.REPLAY`);
* the same key with other parameters or another endpoint is refused (:attr:`Verdict.PARAMS_MISMATCH`,
  :attr:`Verdict.ENDPOINT_MISMATCH`);
* the same key while the first request is still executing is refused (:attr:`Verdict.IN_FLIGHT`);
* a request that failed before execution (validation) is not saved (:meth:`IdempotencyStore.abandon`), so
  the key can be retried;
* keys live at least ``retention_seconds`` (Stripe: "at least 24 hours"), measured on the injected clock.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fakes._common.http import FakeResponse

__all__ = ["Claim", "IdempotencyStore", "Verdict"]

DAY_SECONDS = 24 * 3600


class Verdict(enum.Enum):
    """What the store says about a request carrying an idempotency key."""

    EXECUTE = "execute"
    REPLAY = "replay"
    IN_FLIGHT = "in_flight"
    PARAMS_MISMATCH = "params_mismatch"
    ENDPOINT_MISMATCH = "endpoint_mismatch"


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """The verdict, the saved response for a replay, and the first request's endpoint for mismatches."""

    verdict: Verdict
    response: FakeResponse | None = None
    first_endpoint: str | None = None


@dataclass(slots=True)
class _Record:
    endpoint: str
    fingerprint: object
    created_at: float
    response: FakeResponse | None = None  # None while the first request is executing


class IdempotencyStore:
    """Keys scoped by an owner (an API key or account), bounded to ``max_keys`` (oldest pruned first)."""

    def __init__(
        self,
        *,
        now: Callable[[], float] = time.time,
        retention_seconds: float = DAY_SECONDS,
        max_keys: int = 100_000,
    ) -> None:
        self._now = now
        self._retention = retention_seconds
        self._max_keys = max_keys
        self._records: OrderedDict[tuple[str, str], _Record] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, *, scope: str, key: str, endpoint: str, fingerprint: object) -> Claim:
        """Decide what to do with a request; on :attr:`Verdict.EXECUTE` the key is now in flight.

        ``endpoint`` is ``"METHOD /path"``; ``fingerprint`` is any comparable value standing for the
        request's parameters (order-insensitive if the processor treats them so).
        """
        now = self._now()
        with self._lock:
            self._prune(now)
            record = self._records.get((scope, key))
            if record is None:
                self._records[(scope, key)] = _Record(endpoint, fingerprint, now)
                return Claim(verdict=Verdict.EXECUTE)
            if record.endpoint != endpoint:
                return Claim(verdict=Verdict.ENDPOINT_MISMATCH, first_endpoint=record.endpoint)
            if record.fingerprint != fingerprint:
                return Claim(verdict=Verdict.PARAMS_MISMATCH, first_endpoint=record.endpoint)
            if record.response is None:
                return Claim(verdict=Verdict.IN_FLIGHT, first_endpoint=record.endpoint)
            return Claim(verdict=Verdict.REPLAY, response=record.response.copy())

    def complete(self, *, scope: str, key: str, response: FakeResponse) -> None:
        """Save the response of the request that claimed ``key`` (replayed to later requests)."""
        with self._lock:
            record = self._records.get((scope, key))
            if record is not None and record.response is None:
                record.response = response.copy()

    def abandon(self, *, scope: str, key: str) -> None:
        """Release a claimed key without saving (the request failed before execution began)."""
        with self._lock:
            record = self._records.get((scope, key))
            if record is not None and record.response is None:
                del self._records[(scope, key)]

    def clear(self) -> None:
        """Forget every key."""
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def _prune(self, now: float) -> None:
        # Records are kept in creation order, so expired ones are at the front.
        while self._records:
            scope_key, record = next(iter(self._records.items()))
            too_old = now - record.created_at >= self._retention and record.response is not None
            if not too_old and len(self._records) < self._max_keys:  # room for one more
                break
            del self._records[scope_key]
