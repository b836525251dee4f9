"""Exact-bytes JSON reading for importers: each value comes back with the source bytes it was read from.

An exported array of events is not re-serialised: each element's body is the slice of the file that
holds it, so whitespace, key order and number spelling stay as the source had them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "JsonItem",
    "JsonShapeError",
    "decode_text",
    "first_item",
    "iter_items",
    "iter_nested_array",
    "member_raw",
]

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


class JsonShapeError(ValueError):
    """The file is not JSON, an array of JSON values, or JSON Lines."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonItem:
    """One top-level value: parsed (``value``), its exact ``raw`` bytes, and its 1-based ``line``.

    ``error`` is set (and ``value`` is None) for a JSON Lines line that does not parse: the caller
    reports it and goes on.
    """

    value: Any
    raw: bytes
    line: int
    error: str | None = None


def decode_text(data: bytes) -> str:
    """The file as text (UTF-8, a leading BOM dropped); `JsonShapeError` if it is not UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonShapeError(f"file is not UTF-8: {exc}") from exc


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WS:
        at += 1
    return at


def _line_of(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


class _Lines:
    """Line numbers of increasing offsets, counted incrementally (a large export stays linear)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._at = 0
        self._line = 1

    def of(self, at: int) -> int:
        self._line += self._text.count("\n", self._at, at)
        self._at = at
        return self._line


def _array_items(text: str, start: int) -> Iterator[JsonItem]:
    lines = _Lines(text)
    at = _skip(text, start + 1)
    if at < len(text) and text[at] == "]":
        return
    while True:
        try:
            value, end = _DECODER.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise JsonShapeError(f"array element is not JSON: {exc.msg}", line=exc.lineno) from exc
        yield JsonItem(value=value, raw=text[at:end].encode("utf-8"), line=lines.of(at))
        at = _skip(text, end)
        if at < len(text) and text[at] == ",":
            at = _skip(text, at + 1)
            continue
        if at < len(text) and text[at] == "]":
            return
        raise JsonShapeError("array is not closed", line=lines.of(min(at, len(text))))


def _member_span(text: str, start: int, key: str) -> int | None:
    """Where the value of ``key`` starts in the object at ``start`` (top level members only)."""
    at = _skip(text, start + 1)
    while at < len(text) and text[at] != "}":
        name, at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        if text[at] != ":":
            raise JsonShapeError("object member without ':'", line=_line_of(text, at))
        at = _skip(text, at + 1)
        if name == key:
            return at
        _, at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        if at < len(text) and text[at] == ",":
            at = _skip(text, at + 1)
    return None


def _jsonl_items(text: str) -> Iterator[JsonItem]:
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip(_WS)
        if not stripped:
            continue
        try:
            value = json.loads(stripped)
        except ValueError as exc:
            yield JsonItem(value=None, raw=stripped.encode("utf-8"), line=number, error=str(exc))
            continue
        yield JsonItem(value=value, raw=stripped.encode("utf-8"), line=number)


def iter_items(data: bytes, *, unwrap_key: str | None = None) -> Iterator[JsonItem]:
    """The top-level values of a file: one JSON value, the elements of a JSON array, or JSON Lines.

    With ``unwrap_key`` (e.g. Stripe's ``"data"`` of a list object), a single object holding an array
    under that key yields the array's elements instead. A bad JSON Lines line is yielded with
    ``error`` set; a broken array or document raises `JsonShapeError`.
    """
    text = decode_text(data)
    at = _skip(text, 0)
    if at >= len(text):
        return
    if text[at] == "[":
        # An array is read element by element, so the ones before a broken element still count.
        yield from _array_items(text, at)
        return
    try:
        value, end = _DECODER.raw_decode(text, at)
    except json.JSONDecodeError:
        yield from _jsonl_items(text)
        return
    if _skip(text, end) < len(text):
        yield from _jsonl_items(text)  # more than one value: JSON Lines
        return
    if unwrap_key and isinstance(value, dict) and isinstance(value.get(unwrap_key), list):
        inner = _member_span(text, at, unwrap_key)
        if inner is not None:
            yield from _array_items(text, inner)
            return
    yield JsonItem(value=value, raw=text[at:end].encode("utf-8"), line=_line_of(text, at))


def first_item(data: bytes, *, unwrap_key: str | None = None) -> Any:
    """The first top-level value (for sniffing a format), or None when there is none or it is broken."""
    try:
        for item in iter_items(data, unwrap_key=unwrap_key):
            if item.error is None:
                return item.value
    except JsonShapeError:
        return None
    return None


def member_raw(raw: bytes, key: str) -> bytes | None:
    """The exact bytes of the value of top-level member ``key`` in the JSON object ``raw``."""
    text = decode_text(raw)
    start = _skip(text, 0)
    if start >= len(text) or text[start] != "{":
        return None
    try:
        at = _member_span(text, start, key)
        if at is None:
            return None
        _, end = _DECODER.raw_decode(text, at)
    except (json.JSONDecodeError, IndexError) as exc:
        raise JsonShapeError(f"cannot read member {key!r}: {exc}") from exc
    return text[at:end].encode("utf-8")


def iter_nested_array(data: bytes, keys: tuple[str, ...]) -> Iterator[JsonItem]:
    """The elements of the array at ``keys`` inside one JSON object (e.g. HAR's ``log.entries``),
    each with its exact bytes and line; `JsonShapeError` when the document has no such array."""
    text = decode_text(data)
    at = _skip(text, 0)
    try:
        for key in keys:
            if at >= len(text) or text[at] != "{":
                raise JsonShapeError(f"no object holding {key!r}")
            found = _member_span(text, at, key)
            if found is None:
                raise JsonShapeError(f"no member {key!r}")
            at = found
    except json.JSONDecodeError as exc:
        raise JsonShapeError(f"not JSON: {exc.msg}", line=exc.lineno) from exc
    if at >= len(text) or text[at] != "[":
        raise JsonShapeError(f"{'.'.join(keys)} is not an array", line=_line_of(text, at))
    yield from _array_items(text, at)
