"""The reference payments service as users run it: ``python -m harness reference`` in its own process.

The benchmarks treat it as a black box (as the suites, the prober and the replayer do): they start the
command with the environment ``payharness fakes`` would print, wait for ``/healthz``, and talk HTTP. Its
per-request access log is off (``--log-level warning``), as the fakes run without one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from .config import BenchContext
from .processes import Child, child_env, free_port

__all__ = ["reference_env", "running_reference"]

# Variables that configure the reference; the benchmark sets them, whatever the caller's environment says.
_SERVICE_VARS = ("PAYMENTS_LIVE", "ADMIN_SECRET", "PAYHARNESS_DATABASE_URL")
_RAIL_PREFIXES = ("STRIPE_", "XENDIT_", "CDP_")


def reference_env(
    env: Mapping[str, str], rails: Mapping[str, str], *, database_url: str
) -> dict[str, str]:
    """``env`` without any payments configuration of the caller's, plus live ``rails`` and the database."""
    clean = {
        k: v
        for k, v in child_env(env).items()
        if k not in _SERVICE_VARS and not k.startswith(_RAIL_PREFIXES)
    }
    clean.update(rails)
    clean.update(PAYMENTS_LIVE="1", PAYHARNESS_DATABASE_URL=database_url)
    return clean


@contextmanager
def running_reference(
    ctx: BenchContext,
    *,
    name: str,
    folder: str,
    rails: Mapping[str, str],
    database_url: str,
    port: int | None = None,
    workers: int = 1,
) -> Iterator[tuple[Child, str]]:
    """A live reference on a loopback port wired to ``rails`` (``workers`` processes sharing the port);
    yields the child and its base URL."""
    port = port or free_port()
    argv = [sys.executable, "-m", "harness", "reference", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning", "--database-url", database_url]
    argv += ["--workers", str(workers)]
    child = Child(
        argv,
        name=name,
        log_path=ctx.scratch(folder) / f"{name}.log",
        env=reference_env(ctx.env, rails, database_url=database_url),
    )
    base_url = f"http://127.0.0.1:{port}"
    with child:
        child.start_with_ready_url(f"{base_url}/healthz", timeout_seconds=90)
        yield child, base_url
