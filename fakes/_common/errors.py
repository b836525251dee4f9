"""Errors raised by the fakes' own machinery (not the processor errors they answer with).

``fakes`` must not import ``harness`` (the dependency only points the other way), so the fakes have their own
small root, :class:`FakeError`, with the same habit: every error carries a stable snake_case ``code``.
"""

from __future__ import annotations

__all__ = ["ConnectionDropped", "FakeError", "FakeNotFound", "InvalidFakeArgument"]

import httpx


class FakeError(Exception):
    """Root of the fakes' errors; ``code`` is stable and greppable."""

    code = "fake_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidFakeArgument(FakeError, ValueError):
    """A fault rule, delivery mode or other control input is malformed; the message names the field."""

    code = "invalid_argument"


class FakeNotFound(FakeError, LookupError):
    """A test helper named an object the fake does not hold (the control API answers 404)."""

    code = "not_found"


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by a fake to drop the connection without any response (a ``drop`` fault).

    Over a :class:`fakes._common.server.LoopbackServer` the server closes the socket, so the client sees
    ``httpx.RemoteProtocolError("Server disconnected without sending a response.")``. In process, through
    ``httpx.ASGITransport``, this exception itself reaches the client; it subclasses
    ``httpx.RemoteProtocolError`` so client code handles both the same way. Under a plain uvicorn (not our
    server) uvicorn answers 500 instead, because ASGI gives an app no way to close the socket.
    """

    code = "connection_dropped"

    def __init__(self, message: str = "the fake dropped the connection (drop fault)") -> None:
        super().__init__(message)
