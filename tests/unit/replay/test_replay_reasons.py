"""Every answer that is not `applied` says why, and the replayer names each event as the reference does.

The recorded fakes' deliveries (real Stripe event shapes, a Xendit invoice callback, a CDP settlement)
are replayed into a fresh reference service: nothing can be credited there, so every answer must carry
the reason from the reference's body, per event in the report and grouped in the console.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from replay_scenario import STAGING, STAGING_ENV, TARGET, reference, transport_of
from rich.console import Console

from harness.reference.rails.base import RetryPolicy
from harness.reference.rails.cdp import CdpAdapter
from harness.reference.rails.xendit import XenditAdapter
from harness.reference.settings import CdpRail, XenditRail
from harness.replay import event_id_of, replay_command_async
from harness.replay.findings import reason_code

RECORDINGS = Path(__file__).resolve().parents[2] / "data" / "recordings"

#: What the reference answers each recorded event type on a fresh database, and why.
EXPECTED = {
    "customer.created": ("ignored", "event_not_acted_on"),
    "cash_balance.funds_available": ("ignored", "event_not_acted_on"),
    "customer_cash_balance_transaction.created": ("not_credited", "payment_not_attributable"),
    "invoice.paid": ("not_credited", "payment_not_attributable"),
    "x402.settlement.completed": ("not_credited", "payment_not_attributable"),
}


def _type_of(body: str) -> str:
    payload = json.loads(body)
    if "type" in payload:
        return str(payload["type"])
    if "eventType" in payload:
        return str(payload["eventType"])
    return f"invoice.{str(payload['status']).lower()}"


async def _replay(tmp_path: Path, files: list[Path]) -> tuple[int, str, list[dict[str, Any]], str]:
    console = io.StringIO()
    async with reference(tmp_path / "fresh.sqlite3", STAGING) as staging:
        code = await replay_command_async(
            files=files,
            target=TARGET,
            env=STAGING_ENV,
            interactive=False,
            report_dir=tmp_path / "reports",
            transport=transport_of(staging),
            console=Console(file=console, width=400),
        )
    (folder,) = (tmp_path / "reports").iterdir()
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    return code, console.getvalue(), events, (folder / "summary.md").read_text()


async def test_every_recorded_event_replayed_into_the_reference_comes_back_with_its_reason(
    tmp_path: Path,
) -> None:
    recording = RECORDINGS / "fakes-deliveries.jsonl"
    types = {
        json.loads(line)["event_id"]: _type_of(json.loads(line)["body"])
        for line in recording.read_text().splitlines()
    }

    code, console, events, summary = await _replay(tmp_path, [recording])

    assert code == 0, console
    first = [e for e in events if e["pass_number"] == 1]
    second = [e for e in events if e["pass_number"] == 2]
    assert len(first) == len(types) == 8
    for event in first:
        outcome, code_expected = EXPECTED[types[event["event_id"]]]
        assert (event["outcome"], event["status"]) == ("ignored", outcome), event
        assert reason_code(event["reason"]) == code_expected, event
        assert event["reason"] in summary  # per event in the report
        assert f"{event['event_id']}: {event['reason']}" in console  # and on the console
    assert all(reason_code(e["reason"]) == "event_already_received" for e in second)
    assert "## Why events changed nothing" in summary
    assert "duplicate event_already_received: 8 send(s)" in console
    assert "(no reason given by the target)" not in console + summary


async def test_stripe_event_exports_are_explained_too(tmp_path: Path) -> None:
    _, _, events, _ = await _replay(tmp_path, [RECORDINGS / "stripe-events.json"])

    assert len(events) == 12
    assert all(e["outcome"] in ("ignored", "duplicate") and e["reason"] for e in events)
    assert {reason_code(e["reason"]) for e in events if e["pass_number"] == 1} == {
        "event_not_acted_on",
        "payment_not_attributable",
    }


@pytest.fixture(scope="module")
def adapters() -> Iterator[tuple[XenditAdapter, CdpAdapter]]:
    """The reference's adapters; parsing a webhook is pure, so one pair serves every example."""
    retry = RetryPolicy(max_retries=0)
    xendit = XenditAdapter(
        XenditRail(api_base="http://xendit.invalid", api_key="k", callback_token="t"),
        timeout_seconds=1,
        retry=retry,
    )
    cdp = CdpAdapter(
        CdpRail(facilitator_url="http://cdp.invalid", webhook_secret="s", pay_to="0x" + "1" * 40),
        timeout_seconds=1,
        retry=retry,
    )
    yield xendit, cdp
    asyncio.run(xendit.aclose())
    asyncio.run(cdp.aclose())


_IDS = st.text(alphabet="abcdef0123456789_-", min_size=1, max_size=24)


@settings(max_examples=60, deadline=None)
@given(
    invoice=_IDS,
    status=st.sampled_from(["PAID", "SETTLED", "EXPIRED", "paid", "Pending"]),
    envelope=st.booleans(),
    envelope_id=st.one_of(st.none(), _IDS),
    event=st.sampled_from(["recurring.cycle.succeeded", "recurring.plan.inactivated", "x.y"]),
)
def test_the_replayer_names_every_xendit_callback_as_the_reference_dedupes_it(
    adapters: tuple[XenditAdapter, CdpAdapter],
    invoice: str,
    status: str,
    envelope: bool,
    envelope_id: str | None,
    event: str,
) -> None:
    xendit, _ = adapters
    if envelope:
        payload: dict[str, Any] = {
            "event": event,
            "data": {"id": invoice, "plan_id": "repl_1", "amount": 5, "currency": "USD"},
        }
        if envelope_id is not None:
            payload["id"] = envelope_id
    else:
        payload = {"id": invoice, "external_id": "top_1", "status": status, "amount": 5}
    body = json.dumps(payload).encode()

    assert event_id_of("xendit", [], body) == xendit.parse_webhook(body, {}).event_id


@settings(max_examples=30, deadline=None)
@given(event_id=_IDS, header=st.booleans())
def test_the_replayer_names_every_cdp_event_as_the_reference_dedupes_it(
    adapters: tuple[XenditAdapter, CdpAdapter], event_id: str, header: bool
) -> None:
    _, cdp = adapters
    body = json.dumps(
        {"eventId": "body-id" if header else event_id, "eventType": "x402.settlement.failed"}
    ).encode()
    headers = {"x-event-id": event_id} if header else {}

    assert event_id_of("cdp", headers.items(), body) == cdp.parse_webhook(body, headers).event_id
