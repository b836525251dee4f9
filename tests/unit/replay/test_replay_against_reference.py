"""Recorded production deliveries, replayed into a fresh copy of the service, give the same ledger.

The "production" service receives its webhooks through the recorder; a fresh service is then started
on a copy of production's database taken *before* those webhooks (same accounts and top-ups, under
other webhook secrets), and the recording is replayed into it. The recordings here are signed by the
test itself with `fakes.signing` (the in-process tier has no fake processors running); the
integration tier does the same with the fakes' own deliveries.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from replay_scenario import (
    PROD,
    STAGING,
    STAGING_ENV,
    TARGET,
    Seeded,
    ledger_view,
    order_free,
    original_events,
    prod_headers,
    reference,
    seed_accounts,
    snapshot,
    stripe_funded,
    transport_of,
)

from harness.replay import (
    Delivery,
    Recorder,
    RecorderConfig,
    RecordingWriter,
    read_recording,
    replay_command_async,
)
from harness.replay.recording import format_timestamp


async def _record_production(tmp_path: Path) -> tuple[Path, Path, list[Seeded], dict[str, Any]]:
    """Seed production, snapshot it, deliver the events through the recorder; return the recording,
    the snapshot, the seeded accounts and production's ledger."""
    prod_db = tmp_path / "production.sqlite3"
    recording = tmp_path / "recording.jsonl"
    async with reference(prod_db, PROD) as production:
        seeded = await seed_accounts(production, 3)
        before = snapshot(prod_db, tmp_path / "before-webhooks.sqlite3")
        recorder = Recorder(
            RecorderConfig(forward_to=TARGET, out=recording, transport=transport_of(production))
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=recorder), base_url=TARGET
        ) as processor:
            for rail, body in original_events(seeded):
                r = await processor.post(
                    f"/v1/payments/webhook/{rail}", content=body, headers=prod_headers(rail, body)
                )
                assert r.status_code == 200, r.text
        await recorder.aclose()
        ledger = await ledger_view(production, [s.account_id for s in seeded])
    return recording, before, seeded, ledger


async def _replay_into_copy(
    tmp_path: Path,
    snapshot_file: Path,
    recording: Path,
    seeded: list[Seeded],
    name: str,
    **options: object,
) -> tuple[int, dict[str, Any], Path]:
    database = snapshot(snapshot_file, tmp_path / f"{name}.sqlite3")
    reports = tmp_path / f"reports-{name}"
    async with reference(database, STAGING) as staging:
        code = await replay_command_async(
            files=[recording],
            target=TARGET,
            env=STAGING_ENV,
            interactive=False,
            accounts=[s.account_id for s in seeded],
            report_dir=reports,
            transport=transport_of(staging),
            **options,  # type: ignore[arg-type]
        )
        ledger = await ledger_view(staging, [s.account_id for s in seeded])
    (folder,) = reports.iterdir()
    return code, ledger, folder


def _events(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


async def test_replayed_recording_yields_the_same_ledger_as_the_original_run(
    tmp_path: Path,
) -> None:
    recording, before, seeded, production_ledger = await _record_production(tmp_path)

    code, staging_ledger, folder = await _replay_into_copy(
        tmp_path, before, recording, seeded, "recorded"
    )

    assert code == 0, (folder / "summary.md").read_text()
    assert staging_ledger == production_ledger
    assert all(len(account["entries"]) == 2 for account in production_ledger.values())


async def test_every_event_applies_once_and_the_second_pass_changes_nothing(tmp_path: Path) -> None:
    recording, before, seeded, _ = await _record_production(tmp_path)

    code, _, folder = await _replay_into_copy(tmp_path, before, recording, seeded, "twice")

    events = _events(folder)
    first = [e["outcome"] for e in events if e["pass_number"] == 1]
    second = [e["outcome"] for e in events if e["pass_number"] == 2]
    assert code == 0
    assert (
        first.count("applied") == 6 and first.count("ignored") == 2
    )  # the other event, the CDP one
    assert set(second) == {"duplicate"} and len(second) == len(first)
    summary = (folder / "summary.md").read_text()
    assert (
        "PASS: every event took effect at most once and the later passes changed nothing" in summary
    )


@pytest.mark.parametrize(
    "options",
    [
        {"order": "shuffled", "seed": 7},
        {"order": "reversed"},
        {"order": "shuffled", "seed": 11, "duplicate": 2, "concurrency": 8},
        {"duplicate": 3, "concurrency": 4},
    ],
    ids=["shuffled", "reversed", "shuffled-duplicated-concurrent", "duplicated-concurrent"],
)
async def test_reordered_and_duplicated_replays_converge_to_the_original_ledger(
    tmp_path: Path, options: dict[str, object]
) -> None:
    recording, before, seeded, production_ledger = await _record_production(tmp_path)

    code, staging_ledger, folder = await _replay_into_copy(
        tmp_path, before, recording, seeded, "variant", **options
    )

    assert code == 0, (folder / "summary.md").read_text()
    assert order_free(staging_ledger) == order_free(production_ledger)
    applied = [e for e in _events(folder) if e["outcome"] == "applied"]
    assert len(applied) == 6 and len({e["event_id"] for e in applied}) == 6


async def test_a_recording_with_only_the_production_signatures_is_refused_without_re_signing(
    tmp_path: Path,
) -> None:
    """Why re-signing exists: the recorded headers verify nowhere but in production."""
    recording, before, _, _ = await _record_production(tmp_path)
    (delivery,) = [d for d in read_recording(recording).deliveries if d.rail == "stripe"][:1]
    database = snapshot(before, tmp_path / "raw.sqlite3")
    async with reference(database, STAGING) as staging:
        r = await staging.post(
            "/v1/payments/webhook/stripe", content=delivery.body, headers=dict(delivery.headers)
        )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "webhook_signature_invalid"


def _bulk_recording(path: Path, owners: list[tuple[str, str]], count: int) -> dict[str, int]:
    """``count`` Stripe funding events spread over ``owners`` (account, customer), signed in 2020 with
    a production secret; returns the balance each account should end with."""
    old = format_timestamp(1_600_000_000)  # long outside every tolerance: replay must re-sign
    deliveries = []
    expected = {account: 0 for account, _ in owners}
    for n in range(count):
        account, customer = owners[n % len(owners)]
        cents = 1 + n % 7
        expected[account] += cents * 10_000
        deliveries.append(
            Delivery(
                rail="stripe",
                event_id=f"evt_bulk{n}",
                received_at=old,
                method="POST",
                path="/v1/payments/webhook/stripe",
                headers=(
                    ("content-type", "application/json"),
                    ("stripe-signature", "t=1600000000,v1=" + "0" * 64),
                ),
                body=stripe_funded(f"evt_bulk{n}", f"ccsbtxn_bulk{n}", customer, cents),
                meta={"account_ids": [account]},
            )
        )
    RecordingWriter(path).write_all(deliveries)
    return expected


# The reference costs ~15 ms a send on SQLite, so its bulk test is kept small: the 10,000-event replay
# runs against `replay_ledger_target` (test_replay_at_scale.py); `payharness bench replay` measures rates.
@pytest.mark.parametrize("count", [200])
async def test_a_bulk_replay_into_the_reference_credits_every_event_once(
    tmp_path: Path, count: int
) -> None:
    database = tmp_path / "bulk.sqlite3"
    async with reference(database, PROD) as setup:
        seeded = await seed_accounts(setup, 4)
    recording = tmp_path / "bulk.jsonl"
    expected = _bulk_recording(
        recording, [(s.account_id, s.stripe_customer) for s in seeded], count
    )
    async with reference(database, STAGING) as staging:
        code = await replay_command_async(
            files=[recording],
            target=TARGET,
            env=STAGING_ENV,
            interactive=False,
            concurrency=8,
            report_dir=tmp_path / "reports",
            transport=transport_of(staging),
        )
        balances = {
            a: (await staging.get(f"/v1/accounts/{a}")).json()["balance_micros"] for a in expected
        }
    (folder,) = (tmp_path / "reports").iterdir()
    outcomes = Counter((e["pass_number"], e["outcome"]) for e in _events(folder))
    assert code == 0
    assert outcomes == {(1, "applied"): count, (2, "duplicate"): count}
    assert balances == expected
