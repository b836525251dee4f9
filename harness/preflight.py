"""Checks the CLI runs before it starts a server, so a wrong setting ends as one line, not a traceback from
inside uvicorn or SQLAlchemy: the database URL, the database itself, the port, and OS errors in words."""

from __future__ import annotations

import asyncio
import errno
import socket

from .errors import HarnessError, InvalidArgument

__all__ = [
    "DatabaseUnreachable",
    "PortInUse",
    "check_database",
    "check_port",
    "database_url_problem",
    "os_error",
]

#: The drivers the reference service runs on.
DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
_URL_HINT = "sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST:PORT/DB"


class DatabaseUnreachable(HarnessError):
    """The database the reference was given does not answer (or refuses the credentials)."""

    code = "database_unreachable"


class PortInUse(HarnessError):
    """Something already listens on the port a server was asked to use."""

    code = "port_in_use"


def database_url_problem(url: str) -> str | None:
    """Why `url` is not a database URL the reference can use, or None."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"--database-url {url!r} is not a database URL: use {_URL_HINT}"
    if parsed.drivername not in DRIVERS:
        return (
            f"--database-url {url!r} uses {parsed.drivername!r}; the reference runs on {_URL_HINT}"
        )
    return None


def check_database(url: str, *, timeout_seconds: float = 10.0) -> None:
    """Connect once (SQLite: its folder must exist); `DatabaseUnreachable` says which and why."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)

    async def connect() -> None:
        engine = create_async_engine(url)
        try:
            async with asyncio.timeout(timeout_seconds), engine.connect():
                pass
        finally:
            await engine.dispose()

    try:
        asyncio.run(connect())
    except (OSError, TimeoutError) as exc:
        raise DatabaseUnreachable(
            f"{shown} does not answer ({os_error(exc) if isinstance(exc, OSError) else 'timed out'}): "
            "start the database or pass another --database-url"
        ) from None
    except Exception as exc:  # SQLAlchemy / driver errors: bad credentials, missing database, ...
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DatabaseUnreachable(
            f"{shown}: {reason}: fix the URL or the database, or pass another --database-url"
        ) from None


def check_port(host: str, port: int) -> None:
    """`PortInUse` when `host:port` cannot be bound (another server has it)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"{host}:{port} is already in use: stop what listens there or pass --port"
                ) from None
            raise InvalidArgument(f"cannot listen on {host}:{port}: {os_error(exc)}") from None


def os_error(exc: OSError) -> str:
    """An OS error in words, with the path or address it is about."""
    words = {
        errno.EACCES: "permission denied",
        errno.EPERM: "not permitted",
        errno.ENOENT: "no such file or folder",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EISDIR: "is a folder",
        errno.EROFS: "read-only file system",
        errno.ENOSPC: "no space left",
        errno.EADDRINUSE: "address already in use",
        errno.ECONNREFUSED: "connection refused",
    }
    text = words.get(exc.errno or -1, exc.strerror or str(exc) or exc.__class__.__name__)
    where = exc.filename if exc.filename is not None else None
    return f"{where}: {text}" if where else text
