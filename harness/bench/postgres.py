"""A PostgreSQL for the webhooks benchmark: ``PAYHARNESS_TEST_POSTGRES_URL``, else a private server.

The private server is started the way ``tests/conftest.py`` starts one: ``initdb`` + ``pg_ctl`` in a
temporary folder on a free loopback port (as the ``postgres`` user through ``runuser`` when running as
root, since PostgreSQL refuses to run as root), ``fsync=off``, stopped and deleted afterwards. When neither
is possible the benchmark reports PostgreSQL as unavailable, with the reason.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import Unavailable
from .load import run_async
from .processes import free_port

__all__ = ["as_asyncpg", "fresh_database", "postgres_server"]

_PREFIXES = ("postgresql+psycopg2://", "postgresql+psycopg://", "postgresql://", "postgres://")


def as_asyncpg(url: str) -> str:
    """The SQLAlchemy asyncpg form of a PostgreSQL URL."""
    for prefix in _PREFIXES:
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def _binary(name: str) -> str | None:
    for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (directory / name).exists():
            return str(directory / name)
    return shutil.which(name)


@contextmanager
def _private_server() -> Iterator[str]:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise Unavailable(
            "no PostgreSQL: set PAYHARNESS_TEST_POSTGRES_URL or install postgresql (no initdb/pg_ctl)"
        )
    root = Path(tempfile.mkdtemp(prefix="payharness-bench-pg-"))
    data, port = root / "data", free_port()
    run_as: list[str] = []
    try:
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(root, "postgres")
            run_as = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*run_as, initdb, "-D", str(data), "-U", "postgres", "-A", "trust"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [
                *run_as,
                pg_ctl,
                "-D",
                str(data),
                "-l",
                str(root / "log"),
                "-w",
                "-o",
                options,
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (OSError, LookupError, subprocess.SubprocessError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        detail = getattr(exc, "stderr", b"") or b""
        raise Unavailable(
            f"could not start a private PostgreSQL: {exc} {detail.decode(errors='replace')[-300:]}"
        ) from exc
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def postgres_server(env: Mapping[str, str]) -> Iterator[str]:
    """An asyncpg URL of a server for the run; :class:`Unavailable` when there is none."""
    url = env.get("PAYHARNESS_TEST_POSTGRES_URL")
    if url:
        yield as_asyncpg(url)
        return
    with _private_server() as private:
        yield private


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on ``server_url`` for one measurement, dropped afterwards."""
    # asyncpg ships no type information; the two calls used here are typed at their use
    asyncpg: Any = importlib.import_module("asyncpg")
    base = server_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"ph_bench_{uuid.uuid4().hex[:12]}"

    async def execute(sql: str) -> None:
        connection = await asyncpg.connect(base, timeout=30)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    try:
        run_async(execute(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        raise Unavailable(f"PostgreSQL at {server_url} refused a new database: {exc}") from exc
    head, _, _ = server_url.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        run_async(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
