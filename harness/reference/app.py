"""`create_app(settings)`: the reference payments service as a FastAPI app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .components import Components, default_routers
from .contract import serve_pinned_contract
from .db import Database
from .errors import JsonTooDeep, error_body, install_error_handlers
from .inputs import MAX_JSON_DEPTH, json_too_deep
from .metrics import ServiceMetrics
from .rails.base import RailAdapter, RetryPolicy
from .rails.cdp import CdpAdapter
from .settings import ReferenceSettings
from .state import ServiceState

__all__ = ["close_app", "create_app", "create_schema"]


class _BodyLimit(HTTPException):
    """A body that passed the limit while it was being read (no or a lying Content-Length).

    An HTTPException, because FastAPI re-raises those from its own body reading (anything else becomes a
    400 "There was an error parsing the body"); the error handlers answer it as 413 `payload_too_large`.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes")


class _Guard:
    """Outermost ASGI layer: creates the schema on first use and refuses bodies over the limit (413)."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state
        self._ready = not state.settings.create_schema
        self._lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._ready:
            async with self._lock:
                if not self._ready:
                    await self.state.db.create_schema()
                    self._ready = True
        refusal = _refusal(scope, self.state.settings)
        if refusal is not None:
            await _send_error(send, *refusal)
            return
        limit = self.state.settings.max_body_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False
                if too_big:
                    await _send_413(send, limit)
                    return
        received = 0
        started = False
        chunks: list[bytes] = []

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise _BodyLimit(limit)
                chunks.append(chunk)
                if not message.get("more_body", False) and json_too_deep(b"".join(chunks)):
                    raise JsonTooDeep(MAX_JSON_DEPTH)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyLimit:
            if not started:
                await _send_413(send, limit)
        except JsonTooDeep as exc:
            if not started:
                await _send_error(send, 400, "invalid_json", str(exc.detail))


def _refusal(scope: Scope, settings: ReferenceSettings) -> tuple[int, str, str] | None:
    """What the request line or headers alone get refused with: 431 past the header limits, 400 for a NUL
    in the path or query (PostgreSQL cannot store it, and no route means it)."""
    headers = scope.get("headers", [])
    if len(headers) > settings.max_header_count:
        return (
            431,
            "request_header_fields_too_large",
            f"more than {settings.max_header_count} request headers",
        )
    if sum(len(n) + len(v) for n, v in headers) > settings.max_header_bytes:
        return (
            431,
            "request_header_fields_too_large",
            f"request headers are larger than {settings.max_header_bytes} bytes",
        )
    query = scope.get("query_string", b"").lower()
    if "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query:
        return 400, "invalid_request", "the path or query contains a NUL character"
    return None


async def _send_413(send: Send, limit: int) -> None:
    await _send_error(send, 413, "payload_too_large", f"request body is larger than {limit} bytes")


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    import json

    body = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _build_state(settings: ReferenceSettings, components: Components) -> ServiceState:
    retry = RetryPolicy(
        max_retries=settings.outbound_max_retries, backoff_seconds=settings.outbound_backoff_seconds
    )
    timeout = settings.outbound_timeout_seconds
    adapters: dict[str, RailAdapter] = {}
    for rail, config in (
        ("stripe", settings.stripe),
        ("xendit", settings.xendit),
        ("cdp", settings.cdp),
    ):
        if config is not None:
            adapters[rail] = components.adapter_factories[rail](config, timeout, retry)
    cdp = adapters.get("cdp")
    state_class = components.state_class or ServiceState
    state: ServiceState = state_class(
        settings=settings,
        db=Database(settings.database_url),
        metrics=ServiceMetrics(),
        adapters=adapters,
        cdp=cdp if isinstance(cdp, CdpAdapter) else None,
        components=components,
    )
    return state


async def close_app(app: FastAPI) -> None:
    """Release the database pool and the processors' HTTP clients."""
    state: ServiceState = app.state.service
    for adapter in state.adapters.values():
        await adapter.aclose()
    await state.db.dispose()


async def create_schema(database_url: str) -> None:
    """Create the service's tables once, before several worker processes start on one database."""
    db = Database(database_url)
    try:
        await db.create_schema()
    finally:
        await db.dispose()


def create_app(
    settings: ReferenceSettings | None = None, *, components: Components | None = None
) -> FastAPI:
    """Build the reference payments service. Settings come from the caller, never the environment;
    `components` replaces parts of it (the self-test's defective variants; see `components.py`)."""
    settings = settings or ReferenceSettings()
    components = components or Components()
    state = _build_state(settings, components)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.create_schema:
            await state.db.create_schema()
        yield
        await close_app(app)

    app = FastAPI(
        title="payharness reference payments service",
        version="1.0.0",
        description="The correct implementation of the payharness payments contract.",
        lifespan=lifespan,
    )
    app.state.service = state
    install_error_handlers(app)
    for router in components.routers or default_routers():
        app.include_router(router)
    serve_pinned_contract(app)
    app.add_middleware(_Guard, state=state)
    return app
