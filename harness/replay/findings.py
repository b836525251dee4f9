"""What a replay reports besides mismatches: anomalies in the input, and why events changed nothing.

Anomalies are contradictions in the recordings themselves, found before anything is sent. Each makes
an exactly-once verdict unreliable (the replay judges by event id), so a run with one never reads
"exactly once"; they are warnings with a stable ``code``, counted in the console and the report:

| code | meaning |
|---|---|
| ``event_id_with_different_types`` | one event id carries bodies of different event types |
| ``event_id_with_different_bodies`` | one event id carries different bodies of one type (e.g. the same Xendit invoice callback with another amount) |
| ``object_under_several_event_ids`` | one payment object (payment, invoice, transfer) is reported by several event ids of one type: a target deduping by event id credits it twice |

Reasons: every non-``applied`` answer's reason is grouped by its code (the text before ``:``, as the
reference contract writes ``<code>: <detail>``) for the summary; an answer without one is counted
under `NO_REASON`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.replay.rails import event_type_of, payment_object_of
from harness.replay.recording import Delivery
from harness.replay.results import Outcome, SendResult

__all__ = ["NO_REASON", "Anomaly", "ReasonCount", "find_anomalies", "reason_code", "reason_counts"]

#: The group of non-applied answers that gave no reason.
NO_REASON = "(no reason given by the target)"

_EXAMPLES = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Anomaly:
    """A contradiction in the input (see the module table); ``origins`` are the ``file:line``s involved."""

    code: str
    message: str
    rail: str
    origins: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "code": self.code,
            "message": self.message,
            "rail": self.rail,
            "origins": list(self.origins),
        }


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _differing_keys(bodies: Sequence[bytes]) -> list[str]:
    parsed = []
    for body in bodies:
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return []
        if not isinstance(value, dict):
            return []
        parsed.append(value)
    keys = sorted({k for p in parsed for k in p})
    return [k for k in keys if len({json.dumps(p.get(k), sort_keys=True) for p in parsed}) > 1]


def _origins(deliveries: Iterable[Delivery]) -> tuple[str, ...]:
    return tuple(d.origin for d in deliveries if d.origin)


def _event_id_anomalies(deliveries: Sequence[Delivery]) -> list[Anomaly]:
    by_id: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_id[(delivery.rail, delivery.event_id)].append(delivery)
    found = []
    for (rail, event_id), group in by_id.items():
        distinct = {_digest(d.body): d for d in group}
        if len(distinct) < 2:
            continue
        types = sorted({event_type_of(rail, d.headers, d.body) or "?" for d in distinct.values()})
        if len(types) > 1:
            code = "event_id_with_different_types"
            detail = f"types {', '.join(types)}"
        else:
            code = "event_id_with_different_bodies"
            keys = _differing_keys([d.body for d in distinct.values()])
            detail = f"type {types[0]}" + (f", differing in {', '.join(keys[:8])}" if keys else "")
        found.append(
            Anomaly(
                code=code,
                message=f"{rail} event {event_id} carries {len(distinct)} different bodies ({detail})",
                rail=rail,
                origins=_origins(group),
            )
        )
    return found


def _object_anomalies(deliveries: Sequence[Delivery]) -> list[Anomaly]:
    by_object: dict[tuple[str, str, str], dict[str, Delivery]] = defaultdict(dict)
    for delivery in deliveries:
        obj = payment_object_of(delivery.rail, delivery.body)
        if obj is None:
            continue
        kind = event_type_of(delivery.rail, delivery.headers, delivery.body) or "?"
        by_object[(delivery.rail, obj, kind)].setdefault(delivery.event_id, delivery)
    return [
        Anomaly(
            code="object_under_several_event_ids",
            message=(
                f"{rail} {kind} object {obj} is reported by {len(events)} event ids "
                f"({', '.join(sorted(events)[:_EXAMPLES])}{', ...' if len(events) > _EXAMPLES else ''})"
                "; a target deduping by event id alone would credit it more than once"
            ),
            rail=rail,
            origins=_origins(events.values()),
        )
        for (rail, obj, kind), events in by_object.items()
        if len(events) > 1
    ]


def find_anomalies(deliveries: Sequence[Delivery]) -> tuple[Anomaly, ...]:
    """Every anomaly of the module table among ``deliveries``, event-id ones first."""
    return tuple(_event_id_anomalies(deliveries) + _object_anomalies(deliveries))


def reason_code(reason: str | None) -> str:
    """The code of a ``<code>: <detail>`` reason; the whole (short) reason when it has no code."""
    if not reason:
        return NO_REASON
    head, sep, _ = reason.partition(":")
    if sep and head and head.replace("_", "").isalnum() and head == head.lower():
        return head
    return reason[:80]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasonCount:
    """How many sends ended with ``outcome`` for the reason ``code``, with a few example event ids."""

    outcome: str
    code: str
    count: int
    examples: tuple[str, ...]
    detail: str | None


def reason_counts(results: Iterable[SendResult]) -> list[ReasonCount]:
    """Non-applied, answered sends grouped by (the target's status word or the outcome, reason code),
    most frequent first."""
    counts: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    details: dict[tuple[str, str], str | None] = {}
    for result in results:
        if result.outcome in (Outcome.APPLIED, Outcome.NOT_SENT, Outcome.ERROR):
            continue
        # the target's own word (``not_credited``) says more than the outcome it maps to
        key = (result.status or result.outcome.value, reason_code(result.reason))
        counts[key] += 1
        details.setdefault(key, result.reason)
        if len(examples[key]) < _EXAMPLES and result.event_id not in examples[key]:
            examples[key].append(result.event_id)
    return [
        ReasonCount(
            outcome=outcome,
            code=code,
            count=count,
            examples=tuple(examples[(outcome, code)]),
            detail=details[(outcome, code)],
        )
        for (outcome, code), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
