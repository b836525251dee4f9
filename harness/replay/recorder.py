"""The recorder: a small ASGI app that captures every inbound webhook byte for byte and forwards it.

Put it where the processor (or ``stripe listen --forward-to``) delivers, with ``forward_to`` naming the
service that should really receive the webhooks. For each request it:

1. reads the body as raw bytes and the headers as the server received them (order and duplicates kept);
2. forwards method, path, query, headers and body unchanged to ``forward_to`` + the same path (only the
   connection's own headers are left to httpx: ``host``, ``content-length``, ``connection``...), and no
   header of httpx's own is added;
3. answers the caller with the forwarded service's status, headers and raw body (502
   ``forward_failed`` when it could not be reached);
4. appends one line to the recording, with the named headers' values replaced by ``[masked]``.
   Only POSTs are recorded (processors deliver webhooks by POST); other methods, such as a health
   check through the same address, are forwarded but not recorded;
5. reports the delivery in one line (time, rail, event id and type, the service's status) to
   ``on_delivery`` (``payharness record`` prints it).

A redirect (3xx) from the service is never passed back, nor followed: the recorder answers the
sender ``502`` with the error code ``forward_redirected`` naming the ``Location``, records the
delivery with ``forward_error`` set, and reports it. Passing a ``307`` with an empty body back would
tell a processor nothing (Stripe counts any 3xx as a failed delivery) and lose the event silently;
following it would re-send a signed webhook to an address nobody configured (and turn a ``303``
into a GET). A redirect means ``--forward-to`` is wrong: fix it and the processor's retry lands.

The rail comes from the path's last segment (``/v1/payments/webhook/stripe``) or, failing that, the
one signature header present; a request with neither is recorded as rail ``unknown``. Headers that
hold a credential rather than a signature are always masked: ``authorization``, ``cookie`` and Xendit's
``x-callback-token``, which is the account's static secret itself (PROCESSORS.md 2.1), while the
replayer sets a fresh one anyway.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.types import Message, Receive, Scope, Send

from harness.errors import InvalidArgument
from harness.redaction import redact_text, redact_url
from harness.replay.rails import event_id_of, event_type_of, rail_from_headers, rail_from_path
from harness.replay.recording import MASKED, Delivery, RecordingWriter, format_timestamp
from harness.replay.replayer import HOP_BY_HOP
from harness.replay.results import read_answer

__all__ = ["ALWAYS_MASKED", "Recorder", "RecorderConfig"]

#: Credentials, never signatures: masked whatever the caller asks.
ALWAYS_MASKED = ("authorization", "cookie", "x-callback-token")


@dataclass(frozen=True, slots=True, kw_only=True)
class RecorderConfig:
    """Where to forward, where to write, what to mask; ``transport`` plugs in an in-process target."""

    forward_to: str
    out: Path
    mask_headers: tuple[str, ...] = ()
    timeout_seconds: float = 30.0
    now: Callable[[], float] = field(default=time.time, repr=False)
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)
    on_delivery: Callable[[str], None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.forward_to.startswith(("http://", "https://")):
            raise InvalidArgument(
                f"--forward-to must be an http(s) URL, got {redact_url(self.forward_to)!r}"
            )

    def masked(self) -> frozenset[str]:
        """Lower-case names of the headers whose values are not written."""
        return frozenset(h.lower() for h in (*ALWAYS_MASKED, *self.mask_headers))


class Recorder:
    """The recorder ASGI app (see the module docstring). ``recorded`` counts the lines written."""

    def __init__(self, config: RecorderConfig) -> None:
        self.config = config
        self.recorded = 0
        self._writer = RecordingWriter(config.out)
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self.config.transport, timeout=self.config.timeout_seconds
            )
        return self._client

    async def aclose(self) -> None:
        """Close the forwarding client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        # raw_path keeps the percent-encoding as sent; some servers (httpx's ASGITransport) put the
        # query in it too.
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1").split("?", 1)[0] or "/"
        query = scope.get("query_string", b"").decode("latin-1")
        target = self.config.forward_to.rstrip("/") + path + (f"?{query}" if query else "")
        status, out_headers, out_body, error = await self._forward(
            scope["method"], target, headers, body
        )
        if scope["method"].upper() == "POST":
            self._record(scope["method"], path, query, headers, body, status, error, out_body)
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        await send({"type": "http.response.body", "body": out_body})

    async def _forward(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, str | None]:
        client = self._http()
        request = client.build_request(
            method,
            url,
            content=body,
            headers=[(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP],
        )
        # httpx adds accept, accept-encoding, user-agent... by default: drop every header the caller
        # did not send, so the service sees the delivery as the processor sent it.
        sent = {k.lower() for k, _ in headers}
        for name in list(request.headers.keys()):
            if name.lower() not in sent and name.lower() not in ("host", "content-length"):
                del request.headers[name]
        try:
            response = await client.send(request, stream=True)
            try:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            message = redact_text(f"{type(exc).__name__}: {exc}")
            return (*_error_answer("forward_failed", message), message)
        if 300 <= response.status_code < 400:
            where = redact_url(response.headers.get("location", "(no Location header)"))
            message = (
                f"the service answered {response.status_code} redirecting to {where}; "
                "the recorder does not follow redirects: point --forward-to at the final URL"
            )
            return (*_error_answer("forward_redirected", message), message)
        out = [
            (k, v)
            for k, v in response.headers.raw
            if k.lower().decode("latin-1") not in ("connection", "keep-alive", "transfer-encoding")
        ]
        return response.status_code, out, raw, None

    def _record(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        status: int,
        error: str | None,
        answer: bytes = b"",
    ) -> None:
        masked = self.config.masked()
        kept = tuple((k, MASKED if k.lower() in masked else v) for k, v in headers)
        rail = rail_from_path(path) or rail_from_headers(headers) or "unknown"
        meta: dict[str, Any] = {"forwarded_status": status}
        if error:
            meta["forward_error"] = error[:300]
        event_id = event_id_of(rail, headers, body)
        self._writer.write(
            Delivery(
                rail=rail,
                event_id=event_id,
                received_at=format_timestamp(self.config.now()),
                method=method.upper(),
                path=path + (f"?{query}" if query else ""),
                headers=kept,
                body=body,
                masked_headers=tuple(sorted({k.lower() for k, _ in headers} & masked)),
                source="recorder",
                meta=meta,
            )
        )
        self.recorded += 1
        if self.config.on_delivery is not None:
            kind = event_type_of(rail, headers, body) or "?"
            read = read_answer(status, answer)  # the service's word or error code, when it says
            code = read.error_code if read.json_answer else None
            said = read.status or (code if code and not code.startswith("http_") else None)
            line = f"{format_timestamp(self.config.now())} {rail} {event_id} {kind} → {status}"
            line += f" {said}" if said and not error else ""
            self.config.on_delivery(line + (f" ({error})" if error else ""))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _error_answer(code: str, message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    payload = json.dumps({"error": {"code": code, "message": message}}).encode()
    return 502, [(b"content-type", b"application/json")], payload


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
