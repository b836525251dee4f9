"""Variants of the reference service on loopback ports, built by wrapping it (never by editing it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes._common import LoopbackServer
from harness.reference import ReferenceSettings, create_app

Wrap = Callable[[Any], Any]


def not_error_shaped(app: Any) -> Any:
    """A variant whose error bodies are FastAPI's default `{"detail": ...}`, not the error shape."""

    async def variant(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        status = 200
        held: list[Any] = []

        async def rewrite(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if status < 400:
                    await send(message)
                else:
                    held.append(message)
                return
            if status < 400:
                await send(message)
                return
            body = json.dumps({"detail": "request failed"}).encode()
            start = held[0]
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, rewrite)

    return variant


@pytest.fixture
def error_shape_broken() -> Wrap:
    """The wrap that makes a reference variant answer errors as `{"detail": ...}`."""
    return not_error_shaped


@pytest.fixture
def serve_reference(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Serve a (wrapped) live reference on a loopback port; returns its base URL."""
    servers: list[LoopbackServer] = []

    def serve(wrap: Wrap | None = None, **settings: Any) -> str:
        app = create_app(
            ReferenceSettings(
                database_url=f"sqlite+aiosqlite:///{tmp_path / f'ref{len(servers)}.sqlite3'}",
                payments_live=True,
                **settings,
            )
        )
        server = LoopbackServer(wrap(app) if wrap else app).start()
        servers.append(server)
        return server.base_url

    yield serve
    for server in servers:
        server.stop()
