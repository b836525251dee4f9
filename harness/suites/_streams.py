"""Streamed (SSE) paid requests, observed event by event, and clients that go away mid-stream.

A settle must happen after the route finished (for SSE: after the last event was produced) and exactly once,
however the response ends. To see *when* it happens a suite must act between two events: read the first
event, look at the ledger, then read on (or hang up). Two ways to do that, chosen by what the target is:

* a service at a URL: a real socket (`httpx` streaming); hanging up closes the connection;
* the in-process reference (no socket): its ASGI app driven directly with our own ``receive``/``send``, on
  the app's own event loop (its database engine and processor clients, the facilitator's for an x402
  session, are bound to it); ``send`` hands us each chunk, ``receive`` says ``http.disconnect`` when we hang
  up. The suite's look between two events runs on a worker thread while ``send`` waits for it, so the app
  loop stays free to answer it. An app without a known loop is driven on a private one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.suites._support import Api

__all__ = ["StreamResult", "sse_events", "stream_usage"]


@dataclass(slots=True, kw_only=True)
class StreamResult:
    """What the client saw of one streamed request."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""
    hung_up: bool = False
    #: each body chunk and when it arrived (monotonic seconds): how the stream was paced
    chunks: list[tuple[float, bytes]] = field(default_factory=list)

    def unit_times(self) -> list[float]:
        """When each chunk carrying a unit of output (`"unit":` in its data) arrived."""
        return [at for at, chunk in self.chunks if b'"unit"' in chunk]

    @property
    def events(self) -> list[tuple[str, dict[str, Any]]]:
        """(event name, data) pairs; unnamed events are `message`."""
        return sse_events(self.raw)


def sse_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Parse complete SSE events of a body (a partial trailing event is ignored)."""
    events: list[tuple[str, dict[str, Any]]] = []
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
    blocks = text.split("\n\n")
    for block in blocks[:-1]:  # the text after the last blank line is not a complete event
        if not block.strip():
            continue
        name, data = "message", ""
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data += line.removeprefix("data:").strip()
        try:
            parsed = json.loads(data) if data else {}
        except ValueError:
            parsed = {"raw": data}
        events.append((name, parsed if isinstance(parsed, dict) else {"value": parsed}))
    return events


def stream_usage(
    api: Api,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    on_first_event: Callable[[], None] | None = None,
    hang_up_after_first_event: bool = False,
    timeout_seconds: float = 15.0,
) -> StreamResult:
    """`POST /v1/usage` with `stream: true`; `on_first_event` runs once the first event has arrived and
    before any further byte is read; with `hang_up_after_first_event` the client then goes away."""
    payload = json.dumps({**body, "stream": True}).encode()
    all_headers = {"content-type": "application/json", **dict(headers or {})}
    request = api.client.build_request("POST", "/v1/usage", content=payload, headers=all_headers)
    if api.target.asgi_app is not None:
        drive = asyncio.wait_for(
            _drive_asgi(
                api.target.asgi_app,
                payload,
                all_headers,
                on_first_event,
                hang_up_after_first_event,
            ),
            timeout_seconds,
        )
        loop = api.target.app_loop
        if loop is None:
            result = asyncio.run(drive)
        else:
            result = asyncio.run_coroutine_threadsafe(drive, loop).result(timeout_seconds + 5.0)
    else:
        result = _over_socket(
            api, payload, all_headers, on_first_event, hang_up_after_first_event, timeout_seconds
        )
    api.record(request, httpx.Response(result.status))
    if result.hung_up:
        api.note("(the client hung up after the first event)")
    return result


def _first_event_complete(raw: bytes) -> bool:
    return b"\n\n" in raw.replace(b"\r\n", b"\n")


def _over_socket(
    api: Api,
    payload: bytes,
    headers: Mapping[str, str],
    on_first_event: Callable[[], None] | None,
    hang_up: bool,
    timeout_seconds: float,
) -> StreamResult:
    with (
        httpx.Client(base_url=api.target.base_url, timeout=timeout_seconds) as client,
        client.stream("POST", "/v1/usage", content=payload, headers=dict(headers)) as response,
    ):
        result = StreamResult(status=response.status_code, headers=dict(response.headers))
        fired = False
        for chunk in response.iter_raw():
            result.raw += chunk
            result.chunks.append((time.monotonic(), chunk))
            if not fired and _first_event_complete(result.raw):
                fired = True
                if on_first_event is not None:
                    on_first_event()
                if hang_up:
                    # leaving the block with the body unread closes the connection: the client is gone
                    result.hung_up = True
                    break
    return result


async def _drive_asgi(
    app: Any,
    payload: bytes,
    headers: Mapping[str, str],
    on_first_event: Callable[[], None] | None,
    hang_up: bool,
) -> StreamResult:
    result = StreamResult(status=0)
    first_seen = asyncio.Event()
    finished = asyncio.Event()
    request_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": payload, "more_body": False}
        # the connection stays open until the response ends, or until we hang up
        await (first_seen if hang_up else finished).wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            result.status = int(message["status"])
            result.headers = {
                k.decode("latin-1"): v.decode("latin-1") for k, v in message.get("headers", [])
            }
            return
        if message["type"] != "http.response.body":
            return
        if result.hung_up:
            raise OSError("the client has gone away")
        result.raw += message.get("body", b"")
        result.chunks.append((time.monotonic(), message.get("body", b"")))
        if not first_seen.is_set() and _first_event_complete(result.raw):
            if on_first_event is not None:
                # runs while the app waits for this send to return: nothing else of this stream happens;
                # on a thread, so its own requests to the app can run on the app's loop meanwhile
                await asyncio.get_running_loop().run_in_executor(None, on_first_event)
            if hang_up:
                result.hung_up = True
            first_seen.set()
        if not message.get("more_body", False):
            finished.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/usage",
        "raw_path": b"/v1/usage",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        + [(b"host", b"payharness.invalid"), (b"content-length", str(len(payload)).encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("payharness.invalid", 80),
    }
    await app(scope, receive, send)
    return result
