"""The canonical recording: one webhook delivery per JSONL line, body bytes kept exact.

The line format is pinned by ``contracts/webhook-recording.schema.json``; `Delivery` is its in-memory
form. Reading never stops at a bad line: each one becomes a `LoadProblem` naming its file and line
number, and the rest of the file is still read.

Lines are split on ``\\n`` bytes only. `str.splitlines` would also split on U+2028 and friends, which a
UTF-8 body stored as text may legitimately contain.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.replay.errors import RecordingUnreadable
from harness.replay.schema import schema_errors

__all__ = [
    "FORMAT_VERSION",
    "MASKED",
    "Delivery",
    "LoadProblem",
    "LoadResult",
    "RecordingWriter",
    "delivery_from_json",
    "delivery_to_json",
    "format_timestamp",
    "parse_recording",
    "parse_timestamp",
    "read_recording",
]

FORMAT_VERSION = 1
MASKED = "[masked]"


def format_timestamp(unix_seconds: float) -> str:
    """RFC 3339 UTC with microseconds, as the recording stores ``received_at``."""
    moment = datetime.fromtimestamp(unix_seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> float:
    """Unix seconds from an ISO 8601 / RFC 3339 time (a naive time counts as UTC); ValueError if not one."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One recorded webhook delivery; ``origin`` says where it was read (``file:line``) for reports."""

    rail: str
    event_id: str
    received_at: str
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    masked_headers: tuple[str, ...] = ()
    source: str = "recorder"
    meta: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""

    def account_ids(self) -> tuple[str, ...]:
        """Accounts the recording says this delivery affects (``meta.account_ids``), for the state check."""
        raw = self.meta.get("account_ids")
        if isinstance(raw, list):
            return tuple(str(a) for a in raw if isinstance(a, str) and a)
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadProblem:
    """A line (or element) that could not be read: skipped, and listed in the report."""

    file: str
    line: int | None
    code: str
    message: str

    @property
    def where(self) -> str:
        """``file:line`` (or just the file when the problem is not on one line)."""
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    """What reading one or more files gave: the deliveries in file order, and what was skipped."""

    deliveries: tuple[Delivery, ...] = ()
    problems: tuple[LoadProblem, ...] = ()

    def __add__(self, other: LoadResult) -> LoadResult:
        return LoadResult(
            deliveries=self.deliveries + other.deliveries,
            problems=self.problems + other.problems,
        )


def delivery_to_json(delivery: Delivery) -> dict[str, Any]:
    """The schema's JSON object for ``delivery`` (``origin`` is not stored)."""
    try:
        body, encoding = delivery.body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        body, encoding = base64.b64encode(delivery.body).decode("ascii"), "base64"
    line: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "rail": delivery.rail,
        "event_id": delivery.event_id,
        "received_at": delivery.received_at,
        "method": delivery.method,
        "path": delivery.path,
        "headers": [[name, value] for name, value in delivery.headers],
        "body": body,
        "body_encoding": encoding,
    }
    if delivery.masked_headers:
        line["masked_headers"] = list(delivery.masked_headers)
    if delivery.source:
        line["source"] = delivery.source
    if delivery.meta:
        line["meta"] = dict(delivery.meta)
    return line


def delivery_from_json(obj: Mapping[str, Any], *, origin: str = "") -> Delivery:
    """A `Delivery` from an object that already passed the schema; ValueError on a bad base64 body."""
    text = str(obj["body"])
    if obj["body_encoding"] == "base64":
        try:
            body = base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"body is not valid base64: {exc}") from exc
    else:
        body = text.encode("utf-8", "surrogatepass")
    return Delivery(
        rail=str(obj["rail"]),
        event_id=str(obj["event_id"]),
        received_at=str(obj["received_at"]),
        method=str(obj["method"]),
        path=str(obj["path"]),
        headers=tuple((str(n), str(v)) for n, v in obj["headers"]),
        body=body,
        masked_headers=tuple(str(n).lower() for n in obj.get("masked_headers", ())),
        source=str(obj.get("source", "")),
        meta=dict(obj.get("meta", {})),
        origin=origin,
    )


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        yield number, raw.rstrip(b"\r")


def parse_recording(data: bytes, *, source: str) -> LoadResult:
    """Read canonical JSONL from ``data``; every unreadable line becomes a `LoadProblem`."""
    deliveries: list[Delivery] = []
    problems: list[LoadProblem] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, raw in _lines(data):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except UnicodeDecodeError:
            problems.append(
                LoadProblem(file=source, line=number, code="not_utf8", message="line is not UTF-8")
            )
            continue
        except ValueError as exc:
            problems.append(
                LoadProblem(file=source, line=number, code="invalid_json", message=str(exc))
            )
            continue
        errors = schema_errors(obj)
        if errors:
            problems.append(
                LoadProblem(
                    file=source, line=number, code="schema_violation", message="; ".join(errors)
                )
            )
            continue
        try:
            deliveries.append(delivery_from_json(obj, origin=f"{source}:{number}"))
        except ValueError as exc:
            problems.append(
                LoadProblem(file=source, line=number, code="invalid_body", message=str(exc))
            )
    return LoadResult(deliveries=tuple(deliveries), problems=tuple(problems))


def read_recording(path: str | Path) -> LoadResult:
    """Read a canonical JSONL recording file (see `parse_recording`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RecordingUnreadable(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_recording(data, source=str(path))


class RecordingWriter:
    """Appends deliveries to a JSONL file, one flushed line each; safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._path.parent.mkdir(parents=True, exist_ok=True)

    @property
    def path(self) -> Path:
        """The file written to."""
        return self._path

    def write(self, delivery: Delivery) -> None:
        """Append one line (compact JSON, UTF-8, ``\\n``)."""
        self.write_all((delivery,))

    def write_all(self, deliveries: Sequence[Delivery]) -> None:
        """Append several lines at once."""
        text = "".join(
            json.dumps(delivery_to_json(d), ensure_ascii=False, separators=(",", ":")) + "\n"
            for d in deliveries
        )
        with self._lock, self._path.open("a", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
