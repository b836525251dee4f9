"""The newcomer's path, over loopback sockets: the fakes deliver real webhooks to a "production"
reference service through `payharness record`; the recording is replayed (twice, by
`payharness replay`) into a fresh service started on production's database as it was before those
webhooks, under other secrets; the ledgers match, and the second pass changes nothing.

Processors: the Stripe fake (``fund_cash_balance`` emits ``customer_cash_balance_transaction.created``
and ``cash_balance.funds_available``) and the Xendit fake (``pay_invoice`` sends the flat PAID callback).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes._common import LoopbackServer
from fakes.stripe import StripeConfig
from fakes.stripe import create_app as stripe_fake
from fakes.xendit import XenditConfig
from fakes.xendit import create_app as xendit_fake
from harness.reference import ReferenceSettings, StripeRail, XenditRail, create_app
from harness.replay import Recorder, read_recording, record_command, replay_command_async

pytestmark = pytest.mark.integration

PROD_STRIPE = "whsec_production_only"
PROD_XENDIT = "xnd_callback_token_production_only"
STAGING = {
    "STRIPE_WEBHOOK_SECRET": "whsec_staging_test",
    "XENDIT_CALLBACK_TOKEN": "xnd_staging_token",
}


@dataclasses.dataclass
class World:
    """Running fakes, production, the recorder, and where production's database lives."""

    stripe: Any
    xendit: Any
    production: str
    recorder: str
    recording: Path
    production_db: Path
    servers: list[LoopbackServer]


def _settings(
    database: Path, stripe_url: str, xendit_url: str, stripe_secret: str, xendit_token: str
) -> ReferenceSettings:
    return ReferenceSettings(
        payments_live=True,
        database_url=f"sqlite+aiosqlite:///{database}",
        stripe=StripeRail(
            api_base=stripe_url, api_key="sk_test_payharness", webhook_secret=stripe_secret
        ),
        xendit=XenditRail(
            api_base=xendit_url,
            api_key="xnd_development_payharness_test",
            callback_token=xendit_token,
        ),
    )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    servers: list[LoopbackServer] = []
    try:
        stripe = stripe_fake(StripeConfig(webhook_secret=PROD_STRIPE))
        xendit = xendit_fake(XenditConfig(callback_token=PROD_XENDIT))
        stripe_url = _serve(servers, stripe)
        xendit_url = _serve(servers, xendit)
        production_db = tmp_path / "production.sqlite3"
        production = _serve(
            servers,
            create_app(_settings(production_db, stripe_url, xendit_url, PROD_STRIPE, PROD_XENDIT)),
        )
        recording = tmp_path / "deliveries.jsonl"
        started: list[str] = []

        def serve(recorder: Recorder, host: str, port: int) -> None:
            started.append(_serve(servers, recorder, host=host, port=port))

        assert (
            record_command(listen="127.0.0.1:0", forward_to=production, out=recording, serve=serve)
            == 0
        )
        (recorder_url,) = started
        stripe.processor.webhooks.add_endpoint(
            f"{recorder_url}/v1/payments/webhook/stripe", secret=PROD_STRIPE
        )
        xendit.processor.webhooks.add_endpoint(
            f"{recorder_url}/v1/payments/webhook/xendit", secret=PROD_XENDIT
        )
        yield World(stripe, xendit, production, recorder_url, recording, production_db, servers)
    finally:
        for server in reversed(servers):
            server.stop()


def _serve(servers: list[LoopbackServer], app: Any, host: str = "127.0.0.1", port: int = 0) -> str:
    server = LoopbackServer(app, host=host, port=port).start()
    servers.append(server)
    return server.base_url


async def _seed(world: World, count: int) -> list[dict[str, str]]:
    accounts = []
    async with httpx.AsyncClient(base_url=world.production, timeout=30) as client:
        for _ in range(count):
            account = (await client.post("/v1/accounts", json={"is_test_cohort": True})).json()[
                "id"
            ]
            stripe_topup = await client.post(
                "/v1/payments/topup/stripe",
                json={"account_id": account, "amount_micros": 25_000_000},
            )
            xendit_topup = await client.post(
                "/v1/payments/topup/xendit",
                json={"account_id": account, "amount_micros": 12_340_000},
            )
            assert stripe_topup.status_code == 201 and xendit_topup.status_code == 201, (
                xendit_topup.text
            )
            accounts.append(
                {
                    "account": account,
                    "customer": stripe_topup.json()["processor_ref"],
                    "invoice": xendit_topup.json()["processor_ref"],
                }
            )
    return accounts


def _snapshot(source: Path, target: Path) -> Path:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


async def _ledgers(base_url: str, accounts: list[str]) -> dict[str, Any]:
    view: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for account in accounts:
            info = (await client.get(f"/v1/accounts/{account}")).json()
            ledger = (
                await client.get(f"/v1/accounts/{account}/ledger", params={"limit": 1000})
            ).json()
            view[account] = {
                "balance_micros": info["balance_micros"],
                "lifetime_paid_micros": info["lifetime_paid_micros"],
                "entries": sorted(
                    (e["kind"], e["signed_amount_micros"], e["source"], e["reference"])
                    for e in ledger["entries"]
                ),
            }
    return view


async def _record_production_run(world: World) -> tuple[list[dict[str, str]], Path]:
    seeded = await _seed(world, 2)
    # The fake Stripe announced the new customers (customer.created) while production created them:
    # let those land before the snapshot, so "before the webhooks" means before the payments' ones.
    await world.stripe.processor.webhooks.drain()
    before = _snapshot(
        world.production_db, world.production_db.with_name("before-webhooks.sqlite3")
    )
    for n, s in enumerate(seeded, start=1):
        world.stripe.fund_cash_balance(s["customer"], 1_500 * n, "usd")  # cents
        world.xendit.pay_invoice(s["invoice"])
    await world.stripe.processor.webhooks.drain()
    await world.xendit.processor.webhooks.drain()
    return seeded, before


async def test_the_fakes_deliveries_replay_into_a_fresh_service_with_the_same_ledger_and_a_quiet_second_pass(
    world: World, tmp_path: Path
) -> None:
    seeded, before = await _record_production_run(world)
    accounts = [s["account"] for s in seeded]
    production_ledger = await _ledgers(world.production, accounts)
    recorded = read_recording(world.recording).deliveries
    types = sorted(json.loads(d.body).get("type", d.rail) for d in recorded)
    assert types == [
        "cash_balance.funds_available",
        "cash_balance.funds_available",
        "customer.created",  # sent by the fake Stripe while production created its customers
        "customer.created",
        "customer_cash_balance_transaction.created",
        "customer_cash_balance_transaction.created",
        "xendit",
        "xendit",
    ]
    assert all(d.meta["forwarded_status"] == 200 for d in recorded)
    assert all(len(production_ledger[a]["entries"]) == 2 for a in accounts)

    stripe_url, xendit_url = (f"http://127.0.0.1:{s.port}" for s in world.servers[:2])
    staging_db = _snapshot(before, tmp_path / "staging.sqlite3")
    staging = _serve(
        world.servers,
        create_app(
            _settings(
                staging_db,
                stripe_url,
                xendit_url,
                STAGING["STRIPE_WEBHOOK_SECRET"],
                STAGING["XENDIT_CALLBACK_TOKEN"],
            )
        ),
    )

    code = await replay_command_async(
        files=[world.recording],
        target=staging,
        env=STAGING,
        interactive=False,
        accounts=accounts,
        report_dir=tmp_path / "reports",
    )

    (folder,) = (tmp_path / "reports").iterdir()
    summary = (folder / "summary.md").read_text()
    assert code == 0, summary
    assert await _ledgers(staging, accounts) == production_ledger
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    first = sorted(e["outcome"] for e in events if e["pass_number"] == 1)
    # Fundings and invoices apply, funds_available is ignored, and the customer.created events were
    # already in the snapshot, so the fresh service answers duplicate.
    assert first == ["applied"] * 4 + ["duplicate"] * 2 + ["ignored"] * 2
    assert {e["outcome"] for e in events if e["pass_number"] == 2} == {"duplicate"}
    assert (
        "PASS: every event took effect at most once and the later passes changed nothing."
        in summary
    )


async def test_a_shuffled_duplicated_concurrent_replay_of_the_fakes_deliveries_converges(
    world: World, tmp_path: Path
) -> None:
    seeded, before = await _record_production_run(world)
    accounts = [s["account"] for s in seeded]
    production_ledger = await _ledgers(world.production, accounts)
    stripe_url, xendit_url = (f"http://127.0.0.1:{s.port}" for s in world.servers[:2])
    staging_db = _snapshot(before, tmp_path / "staging.sqlite3")
    staging = _serve(
        world.servers,
        create_app(
            _settings(
                staging_db,
                stripe_url,
                xendit_url,
                STAGING["STRIPE_WEBHOOK_SECRET"],
                STAGING["XENDIT_CALLBACK_TOKEN"],
            )
        ),
    )

    code = await replay_command_async(
        files=[world.recording],
        target=staging,
        env=STAGING,
        interactive=False,
        order="shuffled",
        seed=2024,
        duplicate=2,
        concurrency=6,
        accounts=accounts,
        report_dir=tmp_path / "reports",
    )

    assert code == 0
    assert await _ledgers(staging, accounts) == production_ledger
