"""10,000 events, and targets that are not exactly-once: the totals are right and the check says so.

The target is `replay_ledger_target`, an in-process payments service that verifies signatures with
stripe-python's own verifier and keeps its ledger in memory, so a replay of 10,000 events (twice)
takes seconds.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from replay_ledger_target import SECRET, LedgerTarget
from replay_scenario import stripe_funded

from harness.replay import Delivery, RecordingWriter, replay_command_async
from harness.replay.recording import format_timestamp

TARGET = "http://127.0.0.1:9000"
ENV = {"STRIPE_WEBHOOK_SECRET": SECRET}
OWNERS = {"cus_a": "acct_a", "cus_b": "acct_b", "cus_c": "acct_c"}


def _recording(path: Path, count: int) -> dict[str, int]:
    deliveries = []
    expected = dict.fromkeys(OWNERS.values(), 0)
    customers = sorted(OWNERS)
    for n in range(count):
        customer = customers[n % len(customers)]
        cents = 1 + n % 9
        expected[OWNERS[customer]] += cents * 10_000
        deliveries.append(
            Delivery(
                rail="stripe",
                event_id=f"evt_{n}",
                received_at=format_timestamp(1_600_000_000 + n),
                method="POST",
                path="/hooks/stripe",
                headers=(
                    ("content-type", "application/json"),
                    ("stripe-signature", f"t={1_600_000_000 + n},v1=" + "ab" * 32),
                ),
                body=stripe_funded(f"evt_{n}", f"ccsbtxn_{n}", customer, cents),
            )
        )
    RecordingWriter(path).write_all(deliveries)
    return expected


def _outcomes(reports: Path) -> Counter[tuple[int, str]]:
    (folder,) = reports.iterdir()
    lines = (folder / "events.jsonl").read_text().splitlines()
    return Counter((e["pass_number"], e["outcome"]) for e in map(json.loads, lines))


def _summary(reports: Path) -> str:
    (folder,) = reports.iterdir()
    return (folder / "summary.md").read_text()


async def test_a_replay_of_ten_thousand_events_completes_with_correct_totals(
    tmp_path: Path,
) -> None:
    recording = tmp_path / "ten-thousand.jsonl"
    expected = _recording(recording, 10_000)
    target = LedgerTarget(customers=OWNERS)
    code = await replay_command_async(
        files=[recording],
        target=TARGET,
        env=ENV,
        interactive=False,
        concurrency=32,
        accounts=sorted(OWNERS.values()),
        report_dir=tmp_path / "reports",
        transport=httpx.ASGITransport(app=target.app),
    )

    assert code == 0, _summary(tmp_path / "reports")
    assert _outcomes(tmp_path / "reports") == {(1, "applied"): 10_000, (2, "duplicate"): 10_000}
    assert target.balances == expected
    assert "| 1 | 10000 | 10000 | 0 |" in _summary(tmp_path / "reports")


@pytest.mark.parametrize(
    ("defect", "expected_codes"),
    [
        (
            "no_dedupe",
            {
                "applied_more_than_once",
                "applied_again_on_later_pass",
                "state_changed_on_later_pass",
                "reference_credited_twice",
            },
        ),
        ("applies_twice", {"applied_more_than_once", "applied_again_on_later_pass"}),
        ("silent_double_credit", {"state_changed_on_later_pass", "reference_credited_twice"}),
    ],
)
async def test_a_target_that_is_not_exactly_once_fails_the_replay_with_the_reason(
    tmp_path: Path, defect: str, expected_codes: set[str]
) -> None:
    recording = tmp_path / "small.jsonl"
    _recording(recording, 30)
    target = LedgerTarget(customers=OWNERS, defect=defect)

    code = await replay_command_async(
        files=[recording],
        target=TARGET,
        env=ENV,
        interactive=False,
        duplicate=1,
        accounts=sorted(OWNERS.values()),
        report_dir=tmp_path / "reports",
        transport=httpx.ASGITransport(app=target.app),
    )

    summary = _summary(tmp_path / "reports")
    assert code == 1
    assert summary.startswith("# payharness replay\n\n**FAIL:")
    found = {line.split("**")[1] for line in summary.splitlines() if line.startswith("- **")}
    assert found == expected_codes


async def test_without_the_test_secret_every_delivery_is_rejected_and_reported(
    tmp_path: Path,
) -> None:
    recording = tmp_path / "small.jsonl"
    _recording(recording, 5)
    target = LedgerTarget(customers=OWNERS)

    code = await replay_command_async(
        files=[recording],
        target=TARGET,
        env={"STRIPE_WEBHOOK_SECRET": "whsec_not_the_targets"},
        interactive=False,
        report_dir=tmp_path / "reports",
        transport=httpx.ASGITransport(app=target.app),
    )

    assert code == 1
    assert _outcomes(tmp_path / "reports") == {(1, "rejected"): 5, (2, "rejected"): 5}
    assert "webhook_signature_invalid" in _summary(tmp_path / "reports")
    assert target.balances == dict.fromkeys(OWNERS.values(), 0)
