"""Acme billing on a loopback port, wired to the fakes by per-rail webhook URLs (shared by the example tests)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from examples.acme_billing import create_app, settings_from_env
from fakes._common.server import LoopbackServer
from fakes.stack import FakeStack, StackConfig

__all__ = ["TEST_TOKEN", "running_acme"]

TEST_TOKEN = "acme-test-token"


@contextmanager
def running_acme(
    tmp_path: Path, defects: str = "", enabled: bool = True
) -> Iterator[tuple[str, FakeStack, dict[str, str]]]:
    """(Acme's base URL, the fakes, the environment Acme was started from), for the block."""
    stack = FakeStack(StackConfig(webhook_urls={}))
    stack.start()
    env = {
        **stack.env(),
        "ACME_BILLING_ENABLED": "1" if enabled else "0",
        "ACME_TEST_TOKEN": TEST_TOKEN,
        "ACME_DATABASE": str(tmp_path / f"acme-{time.time_ns()}.sqlite3"),
        "ACME_DEFECTS": defects,
        # the outbound timeout its profile declares (outbound_timeout_seconds)
        "ACME_PROCESSOR_TIMEOUT": "1",
    }
    server = LoopbackServer(create_app(settings_from_env(env))).start()
    try:
        stack.config = replace(
            stack.config,
            webhook_urls={
                "stripe": f"{server.base_url}/webhooks/stripe",
                "xendit": f"{server.base_url}/webhooks/xendit",
            },
        )
        stack.register_webhook_target(None)
        yield server.base_url, stack, env
    finally:
        server.stop()
        stack.stop()
