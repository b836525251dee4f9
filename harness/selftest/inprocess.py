"""ASGI apps served in this process without a socket: one event loop thread runs them all.

Every variant of the self-test is an in-process app. Each owns a database pool, which belongs to the loop it
was first used on, so all of them run on one loop thread whoever sends the request (the suites from the test
thread, the fakes from their server threads). `Switchboard` is the one stable address the fakes deliver
webhooks to; it forwards to whichever variant is under test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
from starlette.types import Receive, Scope, Send

__all__ = ["AppThread", "Switchboard"]

T = TypeVar("T")


class AppThread:
    """An event loop on its own thread; `run` executes a coroutine there from any other thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="payharness-selftest-apps", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_seconds: float = 60.0) -> T:
        """Run `coro` on the loop thread and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_seconds)

    def sync_transport(self, app: Any) -> httpx.BaseTransport:
        """A synchronous httpx transport into `app`."""
        return _SyncTransport(self, app)

    def async_transport(self, app: Any) -> httpx.AsyncBaseTransport:
        """An asynchronous httpx transport into `app`, usable from any event loop."""
        return _AsyncTransport(self, app)

    def close(self) -> None:
        """Stop the loop and join its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


async def _send(app: Any, request: httpx.Request) -> httpx.Response:
    # an exception the app does not handle reaches the client as the 500 a server would answer, not as
    # an exception in the suite (which would read as "the suite broke" instead of "the target is wrong")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    response = await transport.handle_async_request(request)
    body = await response.aread()
    return httpx.Response(
        response.status_code, headers=response.headers, stream=httpx.ByteStream(body)
    )


class _SyncTransport(httpx.BaseTransport):
    def __init__(self, runner: AppThread, app: Any) -> None:
        self._runner, self._app = runner, app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._runner.run(_send(self._app, request))


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, runner: AppThread, app: Any) -> None:
        self._runner, self._app = runner, app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        future = asyncio.run_coroutine_threadsafe(_send(self._app, request), self._runner.loop)
        return await asyncio.wrap_future(future)


class Switchboard:
    """An ASGI app that forwards every request to the app currently plugged in (503 when none is)."""

    def __init__(self) -> None:
        self.current: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.current
        if app is None:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"no variant is being tested"})
            return
        await app(scope, receive, send)
