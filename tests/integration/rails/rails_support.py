"""Support for the rail tests: a live reference service wired to the fake processors on loopback ports.

The reference is configured from exactly the environment lines `payharness fakes` prints (`FakeStack.env()`),
so these tests also prove that those lines are enough for a service to use the fakes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes._common.server import LoopbackServer
from fakes.stack import DEFAULT_PAY_TO, FakeStack
from harness.reference import create_app, settings_from_env

ADMIN = "admin-secret-for-rail-tests"
PAY_TO = DEFAULT_PAY_TO


@dataclass
class Stack:
    """The reference service and the fakes it talks to."""

    reference: LoopbackServer
    client: httpx.Client
    fakes: dict[str, Any]
    fake_urls: dict[str, str]

    def new_account(self, **body: Any) -> str:
        r = self.client.post("/v1/accounts", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def account(self, account_id: str) -> dict[str, Any]:
        r = self.client.get(f"/v1/accounts/{account_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def ledger(self, account_id: str) -> list[dict[str, Any]]:
        r = self.client.get(f"/v1/accounts/{account_id}/ledger", params={"limit": 1000})
        assert r.status_code == 200, r.text
        return list(r.json()["entries"])

    def drain(self, rail: str) -> None:
        """Wait (bounded) until the fake has finished delivering its webhooks."""
        self.fakes[rail].webhooks.drain_blocking(10)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """Fakes first (their ports feed the settings), then the reference, then webhook registration."""
    fakes = FakeStack().start()
    env = {
        **fakes.env(),
        "PAYMENTS_LIVE": "1",
        "ADMIN_SECRET": ADMIN,
        "PAYHARNESS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ref.sqlite3'}",
    }
    settings = dataclasses.replace(
        settings_from_env(env), outbound_backoff_seconds=0.01, outbound_timeout_seconds=2.0
    )
    reference = LoopbackServer(create_app(settings)).start()
    fakes.register_webhook_target(reference.base_url)
    client = httpx.Client(base_url=reference.base_url, timeout=30)
    try:
        yield Stack(
            reference,
            client,
            fakes.apps,
            {rail: s.base_url for rail, s in fakes.servers.items()},
        )
    finally:
        client.close()
        reference.stop()
        fakes.stop()
