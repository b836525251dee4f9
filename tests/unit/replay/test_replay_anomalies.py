"""Contradictions in the recordings are flagged, counted and never reported as "exactly once"; a target
whose answers are not JSON cannot be judged and the replay says so in one line, exit 2."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from replay_scenario import STAGING, STAGING_ENV, TARGET, reference, transport_of
from rich.console import Console

from harness.replay import Delivery, RecordingWriter, replay_command, replay_command_async
from harness.replay.findings import find_anomalies
from harness.replay.rails import event_id_of

WHEN = "2025-11-21T10:00:00.000000Z"


def _delivery(
    rail: str, body: bytes, origin: str, headers: tuple[tuple[str, str], ...] = ()
) -> Delivery:
    return Delivery(
        rail=rail,
        event_id=event_id_of(rail, headers, body),
        received_at=WHEN,
        method="POST",
        path=f"/v1/payments/webhook/{rail}",
        headers=(("content-type", "application/json"), *headers),
        body=body,
        origin=origin,
    )


def _stripe(event_id: str, kind: str, obj: dict[str, object]) -> bytes:
    return json.dumps(
        {"id": event_id, "object": "event", "type": kind, "data": {"object": obj}}
    ).encode()


def _xendit(invoice: str, status: str, amount: float) -> bytes:
    return json.dumps(
        {
            "id": invoice,
            "external_id": "top_1",
            "status": status,
            "amount": amount,
            "currency": "USD",
        }
    ).encode()


_TYPES = st.sampled_from(
    ["customer.created", "invoice.paid", "charge.refunded", "customer.updated", "payout.paid"]
)


@settings(max_examples=50, deadline=None)
@given(types=st.lists(_TYPES, min_size=2, max_size=9), copies=st.integers(1, 3))
def test_one_event_id_with_bodies_of_several_types_is_one_anomaly_naming_every_line(
    types: list[str], copies: int
) -> None:
    deliveries = [
        _delivery("stripe", _stripe("evt_same", kind, {"id": f"obj_{n}"}), f"rec.jsonl:{n}")
        for n, kind in enumerate(types * copies, start=1)
    ]

    found = find_anomalies(deliveries)

    distinct_types = len(set(types))
    assert [a.code for a in found] == [
        "event_id_with_different_types" if distinct_types > 1 else "event_id_with_different_bodies"
    ]
    assert found[0].origins == tuple(d.origin for d in deliveries)
    assert "evt_same" in found[0].message


@settings(max_examples=30, deadline=None)
@given(copies=st.integers(1, 6), amount=st.integers(1, 10**6))
def test_identical_copies_and_a_paid_then_settled_invoice_are_not_anomalies(
    copies: int, amount: int
) -> None:
    paid = _delivery("xendit", _xendit("inv_1", "PAID", amount), "x:1")
    settled = _delivery("xendit", _xendit("inv_1", "SETTLED", amount), "x:2")
    event = _delivery("stripe", _stripe("evt_1", "customer.created", {"id": "cus_1"}), "s:1")

    assert find_anomalies([paid, settled] + [event] * copies) == ()


def test_the_same_xendit_invoice_with_another_body_is_flagged_not_counted_a_duplicate() -> None:
    first = _delivery("xendit", _xendit("inv_7", "PAID", 12.5), "x.json:1")
    other = _delivery("xendit", _xendit("inv_7", "PAID", 1250), "x.json:2")

    (anomaly,) = find_anomalies([first, other])

    assert anomaly.code == "event_id_with_different_bodies"
    assert "invoice:inv_7:PAID" in anomaly.message and "differing in amount" in anomaly.message


def test_one_payment_reported_under_several_event_ids_is_flagged() -> None:
    txn = {"id": "ccsbtxn_1", "object": "customer_cash_balance_transaction", "type": "funded"}
    kind = "customer_cash_balance_transaction.created"
    deliveries = [
        _delivery("stripe", _stripe(f"evt_{n}", kind, txn), f"s.jsonl:{n}") for n in (1, 2, 3)
    ]

    (anomaly,) = find_anomalies(deliveries)

    assert anomaly.code == "object_under_several_event_ids"
    assert "ccsbtxn_1" in anomaly.message and "3 event ids" in anomaly.message


async def test_a_replay_with_an_anomaly_warns_counts_it_and_never_says_exactly_once(
    tmp_path: Path,
) -> None:
    kinds = ["customer.created", "customer.updated", "payout.paid", "charge.refunded"]
    recording = tmp_path / "nine.jsonl"
    RecordingWriter(recording).write_all(
        [
            _delivery("stripe", _stripe("evt_nine", kinds[n % 4], {"id": f"o{n}"}), "")
            for n in range(9)
        ]
    )
    out = io.StringIO()
    async with reference(tmp_path / "db.sqlite3", STAGING) as staging:
        code = await replay_command_async(
            files=[recording],
            target=TARGET,
            env=STAGING_ENV,
            interactive=False,
            report_dir=tmp_path / "reports",
            transport=transport_of(staging),
            console=Console(file=out, width=400),
        )
    console = out.getvalue()
    (folder,) = (tmp_path / "reports").iterdir()
    summary = (folder / "summary.md").read_text()

    assert code == 1
    assert "exactly once" not in console and "PASS" not in summary
    assert "warning [event_id_with_different_types] stripe event evt_nine carries 9" in console
    assert "1 input anomaly(ies)" in console
    assert "## Input anomalies (1)" in summary and "1 input anomaly(ies)" in summary
    assert 'type="event_id_with_different_types"' in (folder / "junit.xml").read_text()


class _Html(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        page = b"<!doctype html><html><body>Welcome to our shop</body></html>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def html_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Html)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_replay_into_a_server_answering_html_cannot_judge_and_exits_2_in_one_line(
    tmp_path: Path, html_site: str
) -> None:
    recording = (
        Path(__file__).resolve().parents[2] / "data" / "recordings" / "fakes-deliveries.jsonl"
    )
    out = io.StringIO()

    code = replay_command(
        files=[recording],
        target=html_site,
        env=STAGING_ENV,
        interactive=False,
        report_dir=tmp_path / "reports",
        console=Console(file=out),  # 80 columns: the line must not be wrapped
    )

    lines = out.getvalue().splitlines()
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("could not judge: 16 of 16 answers from")
    assert "exactly once" not in out.getvalue()
    (folder,) = (tmp_path / "reports").iterdir()
    assert "**COULD NOT JUDGE: 16 of 16 answers from" in (folder / "summary.md").read_text()
