"""Run an ASGI app on a loopback port in a background thread (for tests and ``payharness fakes``).

``LoopbackServer(app).start()`` binds ``127.0.0.1`` (port 0 picks a free port), serves with uvicorn on its
own event loop in a daemon thread, and returns once the server accepts connections. It also gives the
``drop`` fault its meaning: uvicorn's HTTP protocol is wrapped so that when the app raises
:class:`~fakes._common.errors.ConnectionDropped` the socket is closed with no response at all.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from fakes._common.errors import ConnectionDropped, FakeError

try:  # httptools is faster; uvicorn[standard] installs it, but keep h11 as a fallback
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _BaseProtocol
except ImportError:  # pragma: no cover - depends on the environment
    _BaseProtocol = H11Protocol  # type: ignore[misc,assignment]

__all__ = ["LoopbackServer"]


class _DroppingProtocol(_BaseProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol, plus: :class:`ConnectionDropped` closes the socket without a response.

    ASGI has no "close the connection" message and uvicorn answers 500 to an app exception, so the drop
    has to happen at the protocol, which owns the transport.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            try:
                await inner(scope, receive, send)
            except ConnectionDropped:
                cycle = self.cycle
                self.transport.close()
                if cycle is not None:
                    # Tell uvicorn the peer is gone so it does not try to write its own 500.
                    cycle.disconnected = True

        self.app = app


class LoopbackServer:
    """uvicorn serving ``app`` on ``host:port`` in a background thread; usable as a context manager."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        start_timeout_seconds: float = 10.0,
        log_level: str = "warning",
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise FakeError(
                f"LoopbackServer binds loopback only, got {host!r}", code="not_loopback"
            )
        self._app = app
        self._host = host
        self._port = port
        self._start_timeout = start_timeout_seconds
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        if self._socket is None:
            raise FakeError("the server is not started", code="server_not_started")
        return int(self._socket.getsockname()[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self._host}:{self.port}"

    def start(self) -> LoopbackServer:
        """Bind, serve in a thread, and wait (bounded) until uvicorn is accepting connections."""
        if self._server is not None:
            return self
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._socket = sock
        config = uvicorn.Config(
            self._app,
            http=_DroppingProtocol,
            lifespan="auto",
            log_level=self._log_level,
            access_log=False,
            # Loopback only: no proxy in front to trust, and the middleware costs ~2% of a fast request.
            proxy_headers=False,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=self._run, args=(server, sock), name=f"loopback-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not server.started:
            if not self._thread.is_alive():
                raise FakeError(
                    "the loopback server exited while starting", code="server_start_failed"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise FakeError(
                    "the loopback server did not start in time", code="server_start_timeout"
                )
            # A start-up handshake with the server thread, not a test waiting for time to pass.
            time.sleep(0.001)
        return self

    @staticmethod
    def _run(server: uvicorn.Server, sock: socket.socket) -> None:
        # uvicorn picks its loop (uvloop when installed) and skips signal handlers off the main thread.
        server.run(sockets=[sock])

    def stop(self) -> None:
        """Ask uvicorn to exit and join its thread (bounded)."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=10)
        if sock is not None:
            sock.close()
        self._socket = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
