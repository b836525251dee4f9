"""What one replayed send gave: the target's answer read as an `Outcome`, and any `Mismatch` found.

The reference contract answers a webhook with ``{"status": "applied" | "duplicate" | "ignored" |
"not_credited", ...}`` on 2xx and ``{"error": {"code", "message"}}`` otherwise. Outcomes:

| outcome | when |
|---|---|
| ``applied`` | 2xx, status ``applied``: the event took effect |
| ``duplicate`` | 2xx, status ``duplicate``: already seen, nothing changed |
| ``ignored`` | 2xx, status ``ignored`` or ``not_credited`` (verified and recorded, but no effect) |
| ``accepted`` | 2xx without one of those words (a target that does not say): cannot be judged |
| ``rejected`` | any non-2xx answer; ``error_code`` holds the target's code |
| ``error`` | no answer at all (connection refused, timeout): the tool could not deliver |
| ``not_sent`` | a dry run |

Every answer other than ``applied`` also carries the target's ``reason`` when it gives one (the
reference contract's ``WebhookResult.reason``, ``<code>: <detail>``; else a ``message`` or
``error.message``), so the report can say *why* an event changed nothing. ``json_answer`` is False when
the body was not a JSON object: a server that is not the payments service (an HTML page, a proxy's
error), whose answers cannot be judged.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Answer", "Mismatch", "Outcome", "SendResult", "read_answer"]


class Outcome(enum.StrEnum):
    """How one send ended (see the module docstring)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ERROR = "error"
    NOT_SENT = "not_sent"


_STATUS_OUTCOMES = {
    "applied": Outcome.APPLIED,
    "duplicate": Outcome.DUPLICATE,
    "ignored": Outcome.IGNORED,
    "not_credited": Outcome.IGNORED,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Mismatch:
    """Something the target did that exactly-once forbids, with a stable ``code``.

    ``event_id``/``pass_number``/``seq`` locate a per-send mismatch; an account-level one names the
    account in ``account_id``.
    """

    code: str
    message: str
    event_id: str | None = None
    pass_number: int | None = None
    seq: int | None = None
    account_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (None fields left out)."""
        return {k: v for k, v in _fields(self).items() if v is not None}


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """The target's answer to one webhook, read."""

    outcome: Outcome
    status: str | None = None
    error_code: str | None = None
    message: str | None = None
    account_id: str | None = None
    reason: str | None = None
    json_answer: bool = True


def _reason_of(obj: dict[str, Any]) -> str | None:
    for key in ("reason", "message"):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:300]
    return None


def read_answer(status_code: int, body: bytes) -> Answer:
    """Read an HTTP answer: the status word on 2xx, the error code otherwise."""
    try:
        payload: Any = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        payload = None
    json_answer = isinstance(payload, dict)
    obj = payload if isinstance(payload, dict) else {}
    account = obj.get("account_id")
    account_id = account if isinstance(account, str) and account else None
    if 200 <= status_code < 300:
        word = obj.get("status")
        word = word if isinstance(word, str) else None
        outcome = _STATUS_OUTCOMES.get(word or "", Outcome.ACCEPTED)
        reason = None if outcome is Outcome.APPLIED else _reason_of(obj)
        return Answer(
            outcome=outcome,
            status=word,
            account_id=account_id,
            reason=reason,
            json_answer=json_answer,
        )
    error = obj.get("error")
    code: Any = None
    message: Any = None
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
    elif isinstance(obj.get("error_code"), str):  # Xendit-style error bodies (PROCESSORS.md 2.2)
        code, message = obj.get("error_code"), obj.get("message")
    return Answer(
        outcome=Outcome.REJECTED,
        error_code=str(code) if code else f"http_{status_code}",
        message=str(message)[:300] if message else None,
        account_id=account_id,
        reason=str(message)[:300] if message else None,
        json_answer=json_answer,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """One send of one delivery in one pass: what was sent, the answer, and any mismatch."""

    pass_number: int
    seq: int
    copy: int
    rail: str
    event_id: str
    origin: str
    sent: bool
    outcome: Outcome
    http_status: int | None = None
    status: str | None = None
    error_code: str | None = None
    message: str | None = None
    latency_ms: float | None = None
    account_id: str | None = None
    reason: str | None = None
    json_answer: bool = True
    mismatches: tuple[Mismatch, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """One line of ``events.jsonl``."""
        line = _fields(self)
        line["outcome"] = self.outcome.value
        line["mismatches"] = [m.to_json() for m in self.mismatches]
        return line
