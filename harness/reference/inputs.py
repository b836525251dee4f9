"""Input the databases cannot store, refused as 4xx before it reaches them.

PostgreSQL rejects NUL characters and lone surrogates in text, and every column has a width; a value that
breaks one of those must be a client's (or a processor's) 400, never the service's 500. A processor retries a
5xx for days, so a validly signed event with an out-of-range field is refused once, as `invalid_payload`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from .rails.base import PayloadInvalid, PaymentReceived, ProcessorEvent

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_PAYMENT_MICROS",
    "UNSTORABLE_TEXT",
    "UnstorableInput",
    "check_event",
    "check_strings",
    "json_too_deep",
    "loads",
    "text_problem",
]

#: the largest single amount the contract holds and the service credits: $1,000,000,000 (10^15 micro-USD).
#: A top-up may be opened for up to this much (contracts/payments.openapi.json), so its payment must be
#: creditable too (DESIGN.md: money actually received is credited); 9,000 of them still fit a 64-bit balance.
MAX_PAYMENT_MICROS = 10**15

#: the deepest JSON nesting the service parses: far past any real body, far short of the C stack (a JSON
#: parser recursing 100,000 levels can crash the process before Python's recursion limit stops it)
MAX_JSON_DEPTH = 512

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")

#: the validation error type of a body string no database stores (answered 400 `invalid_json`)
UNSTORABLE_TEXT = "unstorable_text"

#: column widths of the fields an event writes (see models.py)
_WIDTHS = {
    "event_id": 256,
    "event_type": 128,
    "processor_ref": 256,
    "subscription_ref": 256,
    "invoice_ref": 256,
    "checkout_ref": 256,
    "amount_text": 64,
    "currency": 8,
}
#: any other string an event carries is only looked up; it still must be storable text
_LOOKUP_WIDTH = 1024


class UnstorableInput(ValueError):
    """A request value no database column can hold (NUL, lone surrogate, JSON nested too deeply)."""


def text_problem(value: str, width: int | None = None) -> str | None:
    """Why `value` cannot be stored as text (None when it can)."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid UTF-8)"
    if width is not None and len(value) > width:
        return f"is longer than {width} characters"
    return None


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects deeper than `limit` (brackets inside strings do not
    count). Counting brackets first keeps this free for ordinary bodies."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _STRING.sub(b'""', raw):
        if byte in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif byte in _CLOSE:
            depth -= 1
    return False


def check_strings(data: Any) -> None:
    """Walk parsed JSON (iteratively: depth is bounded by the parser, not by this walk) and refuse any
    key or string that is not storable text."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                raise UnstorableInput(f"a string {problem}")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def loads(raw: bytes | str) -> Any:
    """`json.loads` that answers malformed and unstorable input with `ValueError` only.

    Nesting deeper than the parser's recursion limit (100,000 levels) is `UnstorableInput`, not a crash.
    """
    try:
        data = json.loads(raw)
    except RecursionError as exc:
        raise UnstorableInput("JSON is nested too deeply") from exc
    check_strings(data)
    return data


def check_event(event: ProcessorEvent) -> None:
    """Refuse a verified event whose fields no column holds (PayloadInvalid, answered 400)."""
    for effect in (event, *event.effects):
        for f in dataclasses.fields(effect):  # type: ignore[arg-type]
            value = getattr(effect, f.name)
            if isinstance(value, str):
                problem = text_problem(value, _WIDTHS.get(f.name, _LOOKUP_WIDTH))
                if problem:
                    raise PayloadInvalid(f"{f.name} {problem}")
        micros = effect.amount_micros if isinstance(effect, PaymentReceived) else None
        if micros is not None and not 0 <= micros <= MAX_PAYMENT_MICROS:
            raise PayloadInvalid(
                f"amount is outside 0..{MAX_PAYMENT_MICROS} micro-USD: refused, not credited"
            )
