"""CDP webhooks for settled x402 transfers, signed with ``X-Hook0-Signature`` at send time.

CDP sends its webhooks through Hook0 (PROCESSORS.md 3.2, CDP-WH, HOOK0). CDP documents no event for an
x402 settlement, so the fake chooses one and keeps it stable. **Body** (JSON, compact)::

    {"eventId": "<uuid>",                         # also the x-event-id header
     "eventType": "x402.settlement.completed",    # also the x-event-type header
     "createdAt": "2025-01-01T00:00:00.000Z",     # the injected clock at settlement, UTC
     "data": {"transaction": "0x<64 hex>",        # the hash /settle answered with
              "network": "base-sepolia",          # as the settle request named it (v1 name or CAIP-2)
              "from": "0x...", "to": "0x...",     # authorization.from / .to (checksummed)
              "payer": "0x...",                   # = from, as in the settle response
              "value": "10000",                   # atomic USDC units, a string as on the x402 wire
              "asset": "0x036C...",               # the USDC contract
              "nonce": "0x<64 hex>",              # the EIP-3009 nonce (one settlement per payer+nonce)
              "x402Version": 1}}

**Headers**: ``content-type: application/json``, ``x-event-id``, ``x-event-type`` and
``X-Hook0-Signature: t=<unix>,h=content-type x-event-id x-event-type,v1=<hex>``, made by
``fakes.signing.Hook0Signer`` with the endpoint's secret at each attempt (fresh ``t`` on retries).
A receiver dedupes by ``eventId`` or, across the settle it already credited, by ``data.transaction``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from fakes._common.delivery import WebhookEndpoint
from fakes.cdp.facilitator import Settlement
from fakes.signing import HOOK0_DEFAULT_SIGNED_HEADERS, Hook0Signer

__all__ = [
    "EVENT_TYPES",
    "HOOK0_RETRY_DELAYS_SECONDS",
    "SETTLEMENT_EVENT_TYPE",
    "EventFactory",
    "hook0_signer",
]

SETTLEMENT_EVENT_TYPE = "x402.settlement.completed"
#: Every webhook event the CDP fake sends: the catalog ``payharness trigger cdp`` must cover.
EVENT_TYPES: frozenset[str] = frozenset({SETTLEMENT_EVENT_TYPE})

#: Waits before each retry of a failed delivery. Hook0's real schedule is not in PROCESSORS.md
#: (UNVERIFIED); this increasing schedule is the fake's choice, time-scaled like every schedule.
HOOK0_RETRY_DELAYS_SECONDS: tuple[float, ...] = (3, 10, 180, 1800, 3600, 10800, 18000, 36000)


def _isoformat(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class EventFactory:
    """Builds settlement event bodies with deterministic event ids (seed + counter, per instance)."""

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._count = 0
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Restart the event-id sequence."""
        with self._lock:
            self._count = 0

    def settlement_event(self, settlement: Settlement) -> tuple[str, bytes]:
        """Return ``(event_id, body)`` for one settlement (see the module docstring for the shape)."""
        with self._lock:
            self._count += 1
            number = self._count
        digest = hashlib.sha256(f"{self._seed}:event:{number}".encode()).digest()
        event_id = str(uuid.UUID(bytes=digest[:16], version=4))
        event: dict[str, Any] = {
            "eventId": event_id,
            "eventType": SETTLEMENT_EVENT_TYPE,
            "createdAt": _isoformat(settlement.settled_at),
            "data": {
                "transaction": settlement.transaction,
                "network": settlement.network,
                "from": settlement.payer,
                "to": settlement.pay_to,
                "payer": settlement.payer,
                "value": str(settlement.value_atomic),
                "asset": settlement.asset,
                "nonce": settlement.nonce,
                "x402Version": settlement.x402_version,
            },
        }
        return event_id, json.dumps(event, separators=(",", ":")).encode()


def hook0_signer(now: Callable[[], float]) -> Callable[[WebhookEndpoint, bytes], Mapping[str, str]]:
    """The delivery signer: event headers plus ``X-Hook0-Signature`` under the endpoint's secret.

    The event id and type are read back from the body the fake itself built, so the signed headers
    always agree with the body.
    """

    def sign(endpoint: WebhookEndpoint, body: bytes) -> Mapping[str, str]:
        event = json.loads(body)
        headers = {
            "content-type": "application/json",
            "x-event-id": str(event.get("eventId", "")),
            "x-event-type": str(event.get("eventType", "")),
        }
        signer = Hook0Signer(endpoint.secret, now=now)
        signature = signer.sign(
            body, headers=headers, signed_header_names=HOOK0_DEFAULT_SIGNED_HEADERS
        )
        return headers | signature

    return sign
