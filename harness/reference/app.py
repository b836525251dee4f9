"""`create_app(settings)`: the reference payments service as a FastAPI app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .contract import serve_pinned_contract
from .db import Database
from .errors import error_body, install_error_handlers
from .metrics import ServiceMetrics
from .rails.base import RailAdapter, RetryPolicy
from .rails.cdp import CdpAdapter
from .rails.stripe import StripeAdapter
from .rails.xendit import XenditAdapter
from .routes import accounts, admin, billing, charges, health, payments, usage, webhooks
from .settings import ReferenceSettings
from .state import ServiceState

__all__ = ["close_app", "create_app"]


class _BodyLimit(Exception):
    pass


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

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyLimit
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


async def _send_413(send: Send, limit: int) -> None:
    import json

    body = json.dumps(
        error_body("payload_too_large", f"request body is larger than {limit} bytes")
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _build_state(settings: ReferenceSettings) -> ServiceState:
    retry = RetryPolicy(
        max_retries=settings.outbound_max_retries, backoff_seconds=settings.outbound_backoff_seconds
    )
    timeout = settings.outbound_timeout_seconds
    adapters: dict[str, RailAdapter] = {}
    cdp = None
    if settings.stripe is not None:
        adapters["stripe"] = StripeAdapter(settings.stripe, timeout_seconds=timeout, retry=retry)
    if settings.xendit is not None:
        adapters["xendit"] = XenditAdapter(settings.xendit, timeout_seconds=timeout, retry=retry)
    if settings.cdp is not None:
        cdp = CdpAdapter(settings.cdp, timeout_seconds=timeout, retry=retry)
        adapters["cdp"] = cdp
    return ServiceState(
        settings=settings,
        db=Database(settings.database_url),
        metrics=ServiceMetrics(),
        adapters=adapters,
        cdp=cdp,
    )


async def close_app(app: FastAPI) -> None:
    """Release the database pool and the processors' HTTP clients."""
    state: ServiceState = app.state.service
    for adapter in state.adapters.values():
        await adapter.aclose()
    await state.db.dispose()


def create_app(settings: ReferenceSettings | None = None) -> FastAPI:
    """Build the reference payments service. Settings come from the caller, never the environment."""
    settings = settings or ReferenceSettings()
    state = _build_state(settings)

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
    for module in (health, payments, webhooks, accounts, billing, charges, usage, admin):
        app.include_router(module.router)
    serve_pinned_contract(app)
    app.add_middleware(_Guard, state=state)
    return app
