"""Paid usage under a PaymentSession: charges add up against the wallet, and the request settles exactly
once at close (JSON, SSE, or a client that goes away), through one ledger debit."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from reference_support import (
    ADMIN,
    CDP,
    count_rows,
    ledger,
    ledger_sum,
    metric,
    new_account,
    service_state,
)
from sqlalchemy import select
from starlette.types import Message

from harness.reference.models import Settlement

SETTLE = "payments_settle_at_close_total"


def settles(client: httpx.AsyncClient) -> dict[str, float]:
    return {
        o: metric(client, SETTLE, outcome=o)
        for o in ("settled", "failed", "unconfirmed", "skipped")
    }


def sse_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) pairs of an SSE body; unnamed events are `message`."""
    events = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = "message", ""
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
        events.append((name, json.loads(data)))
    return events


async def settlement_rows(client: httpx.AsyncClient) -> list[Settlement]:
    async with service_state(client).db.read() as session:
        return list((await session.execute(select(Settlement))).scalars())


# ---------------------------------------------------------------- JSON


async def test_several_charges_settle_once_for_their_sum(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=10_000)
    r = await service.post(
        "/v1/usage", json={"account_id": account, "charges_micros": [100, 200, 300]}
    )
    assert r.status_code == 200
    body = r.json()
    # the cap is what the session reserved: the request's charges, not the whole balance
    assert (body["live"], body["protocol"], body["cap_micros"], body["spent_micros"]) == (
        True,
        "wallet",
        600,
        600,
    )
    assert body["output"] == ["unit 0", "unit 1", "unit 2"]
    entries = (await ledger(service, account))["entries"]
    assert len(entries) == 2
    debit = entries[0]
    assert (debit["kind"], debit["amount_micros"], debit["source"]) == ("debit", 600, "settle")
    assert debit["reference"] == r.headers["X-Request-Id"]
    assert await ledger_sum(service, account) == (9_400, 9_400, 2)
    assert settles(service) == {"settled": 1, "failed": 0, "unconfirmed": 0, "skipped": 0}
    [row] = await settlement_rows(service)
    assert (row.request_id, row.outcome, row.amount_micros) == (
        r.headers["X-Request-Id"],
        "settled",
        600,
    )


async def test_charges_of_exactly_the_balance_are_served(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=600)
    r = await service.post(
        "/v1/usage", json={"account_id": account, "charges_micros": [100, 200, 300]}
    )
    assert r.status_code == 200
    assert await ledger_sum(service, account) == (0, 0, 2)


@pytest.mark.parametrize("charges", [[], [0, 0]])
async def test_nothing_charged_settles_nothing(
    service: httpx.AsyncClient, charges: list[int]
) -> None:
    account = await new_account(service, balance=10_000)
    r = await service.post("/v1/usage", json={"account_id": account, "charges_micros": charges})
    assert r.status_code == 200
    assert r.json()["spent_micros"] == 0
    assert await ledger_sum(service, account) == (10_000, 10_000, 1)
    assert settles(service) == {"settled": 0, "failed": 0, "unconfirmed": 0, "skipped": 1}


async def test_a_charge_over_the_cap_is_402_and_spends_nothing(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=500)
    r = await service.post("/v1/usage", json={"account_id": account, "charges_micros": [501]})
    assert r.status_code == 402
    error = r.json()["error"]
    assert error["code"] == "insufficient_credit"
    assert error["details"] == {"cap_micros": 500, "spent_micros": 0, "requested_micros": 501}
    assert await ledger_sum(service, account) == (500, 500, 1)
    assert settles(service)["settled"] == 0


async def test_a_refused_charge_after_served_units_settles_only_what_was_charged_before_it(
    service: httpx.AsyncClient,
) -> None:
    account = await new_account(service, balance=500)
    r = await service.post(
        "/v1/usage", json={"account_id": account, "charges_micros": [100, 200, 10_000]}
    )
    assert r.status_code == 402
    assert r.json()["error"]["details"]["spent_micros"] == 300
    assert await ledger_sum(service, account) == (200, 200, 2)
    assert settles(service)["settled"] == 1


async def test_live_usage_without_a_credential_or_wallet_is_402(
    service: httpx.AsyncClient,
) -> None:
    r = await service.post("/v1/usage", json={"charges_micros": [1]})
    assert (r.status_code, r.json()["error"]["code"]) == (402, "payment_required")


async def test_usage_for_an_unknown_account_is_404(service: httpx.AsyncClient) -> None:
    r = await service.post("/v1/usage", json={"account_id": "acct_missing", "charges_micros": [1]})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "account_not_found")


# ---------------------------------------------------------------- SSE


async def test_a_stream_settles_once_before_its_final_event(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=10_000)
    r = await service.post(
        "/v1/usage",
        json={"account_id": account, "charges_micros": [100, 200, 300], "stream": True},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.content)
    assert [name for name, _ in events] == ["message", "message", "message", "done"]
    assert [data["spent_micros"] for _, data in events] == [100, 300, 600, 600]
    assert events[-1][1]["request_id"] == r.headers["X-Request-Id"]
    assert await ledger_sum(service, account) == (9_400, 9_400, 2)
    assert settles(service)["settled"] == 1


async def test_a_stream_that_runs_out_of_credit_settles_what_it_charged(
    service: httpx.AsyncClient,
) -> None:
    account = await new_account(service, balance=250)
    r = await service.post(
        "/v1/usage",
        json={"account_id": account, "charges_micros": [100, 100, 100], "stream": True},
    )
    events = sse_events(r.content)
    assert [name for name, _ in events] == ["message", "message", "error", "done"]
    assert events[2][1]["code"] == "insufficient_credit"
    assert await ledger_sum(service, account) == (50, 50, 2)
    assert settles(service)["settled"] == 1


async def test_a_stream_with_no_charges_settles_nothing(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=10_000)
    r = await service.post(
        "/v1/usage", json={"account_id": account, "charges_micros": [], "stream": True}
    )
    assert [name for name, _ in sse_events(r.content)] == ["done"]
    assert await ledger_sum(service, account) == (10_000, 10_000, 1)
    assert settles(service)["skipped"] == 1


# ---------------------------------------------------------------- the ASGI app driven directly


async def drive_usage(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    *,
    disconnect_after_first_chunk: bool = False,
    on_first_chunk: Callable[[], Awaitable[None]] | None = None,
) -> list[Message]:
    """Run one `POST /v1/usage` through the ASGI app with our own `receive` and `send`.

    With `disconnect_after_first_chunk`, `receive` answers `http.disconnect` as soon as the first body
    chunk has been sent, as a client that closes its connection mid-stream does.
    """
    payload = json.dumps(body).encode()
    first_chunk = asyncio.Event()
    finished = asyncio.Event()
    request_sent = False
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await (first_chunk if disconnect_after_first_chunk else finished).wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] != "http.response.body":
            return
        if message.get("body") and not first_chunk.is_set():
            first_chunk.set()
            if on_first_chunk is not None:
                await on_first_chunk()
        if not message.get("more_body", False):
            finished.set()

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/usage",
        "raw_path": b"/v1/usage",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"reference.test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("reference.test", 80),
    }
    app = client.app  # type: ignore[attr-defined]
    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    return sent


def body_chunks(sent: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def test_a_client_that_disconnects_mid_stream_is_settled_exactly_once(
    service: httpx.AsyncClient,
) -> None:
    account = await new_account(service, balance=10_000)
    sent = await drive_usage(
        service,
        {
            "account_id": account,
            "charges_micros": [100, 100, 100, 100, 100],
            "stream": True,
            "chunk_delay_ms": 100,
        },
        disconnect_after_first_chunk=True,
    )
    events = sse_events(body_chunks(sent))
    assert "done" not in [name for name, _ in events], "the stream stopped when the client left"
    assert len(events) < 5
    entries = (await ledger(service, account))["entries"]
    assert len(entries) == 2, "exactly one settle debit"
    [row] = await settlement_rows(service)
    assert row.outcome == "settled"
    # what was charged: every unit produced before the disconnect was noticed, never the rest
    assert entries[0]["amount_micros"] == row.amount_micros
    assert 100 <= row.amount_micros < 500
    assert settles(service) == {"settled": 1, "failed": 0, "unconfirmed": 0, "skipped": 0}


async def test_a_failed_settle_is_logged_counted_and_the_stream_still_completes(
    service: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    account = await new_account(service, balance=10_000)

    async def drain_wallet() -> None:
        # the wallet empties while the stream runs (another request spent it): settle cannot debit
        r = await service.post(
            "/admin/balance-adjust",
            json={"account_id": account, "balance_micros": 0, "reason": "drained"},
            headers={"X-Admin-Secret": ADMIN},
        )
        assert r.status_code == 200

    with caplog.at_level(logging.WARNING, logger="payharness.reference.settle"):
        sent = await drive_usage(
            service,
            {"account_id": account, "charges_micros": [100, 200], "stream": True},
            on_first_chunk=drain_wallet,
        )
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 200
    events = sse_events(body_chunks(sent))
    assert events[-1] == ("done", events[-1][1])
    assert events[-1][1]["spent_micros"] == 300
    assert "settle_failed_at_close protocol=wallet amount=0.0003" in caplog.text
    assert settles(service) == {"settled": 0, "failed": 1, "unconfirmed": 0, "skipped": 0}
    assert await ledger_sum(service, account) == (0, 0, 2)  # funding + drain; no settle debit
    [row] = await settlement_rows(service)
    assert (row.outcome, row.amount_micros) == ("failed", 300)


async def test_dormant_streams_are_served_free_and_settle_nothing(
    make_service: Callable[..., Awaitable[httpx.AsyncClient]],
) -> None:
    client = await make_service(payments_live=False)
    account = await new_account(client, balance=10)
    r = await client.post(
        "/v1/usage", json={"account_id": account, "charges_micros": [100], "stream": True}
    )
    assert [name for name, _ in sse_events(r.content)] == ["message", "done"]
    assert await ledger_sum(client, account) == (10, 10, 1)
    assert await count_rows(client, Settlement) == 0
    assert sum(settles(client).values()) == 0


# ---------------------------------------------------------------- x402 credentials (no facilitator call)


async def test_a_malformed_x_payment_is_400_and_spends_nothing(
    make_service: Callable[..., Awaitable[httpx.AsyncClient]],
) -> None:
    client = await make_service(cdp=CDP)
    for header in ("not base64 at all!", "e30=", "W10="):  # junk, {} and []
        r = await client.post(
            "/v1/usage", json={"charges_micros": [1]}, headers={"X-PAYMENT": header}
        )
        assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_payment"), header
    assert sum(settles(client).values()) == 0


async def test_an_x_payment_without_the_cdp_rail_says_rail_not_configured(
    service: httpx.AsyncClient,
) -> None:
    r = await service.post("/v1/usage", json={"charges_micros": [1]}, headers={"X-PAYMENT": "e30="})
    assert (r.status_code, r.json()["error"]["code"]) == (503, "rail_not_configured")
