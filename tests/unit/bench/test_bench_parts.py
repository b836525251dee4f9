"""The small parts the benchmarks are built from: event bodies, the service's environment, the child
processes' environment and memory readings, the no-op app, the prober's growth slope."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from harness.bench.child import noop_app
from harness.bench.memory import slope_kib_per_run
from harness.bench.processes import child_env, read_rss
from harness.bench.service import reference_env
from harness.bench.stripe_events import funding_bodies

TEMPLATE = json.dumps(
    {
        "id": "evt_PAYHARNESS_BENCH_EVENT",
        "type": "customer_cash_balance_transaction.created",
        "data": {"object": {"id": "ccsbtxn_PAYHARNESS_BENCH_OBJECT", "net_amount": 100}},
    },
    separators=(",", ":"),
)


def test_every_body_is_a_new_event_with_a_new_transaction() -> None:
    bodies = funding_bodies([TEMPLATE, TEMPLATE], label="x", count=50)
    events = [json.loads(body) for _event_id, body in bodies]
    assert len({e["id"] for e in events}) == 50
    assert len({e["data"]["object"]["id"] for e in events}) == 50
    assert [event_id for event_id, _ in bodies] == [e["id"] for e in events]
    assert all(b"\n" not in body and b"\t" not in body for _, body in bodies)


def test_the_service_runs_live_on_the_benchmarks_rails_whatever_the_callers_environment_says() -> (
    None
):
    caller = {
        "HOME": "/root",
        "XENDIT_API_KEY": "xnd_real",
        "PAYMENTS_LIVE": "0",
        "STRIPE_API_BASE": "https://api.stripe.com",
    }
    env = reference_env(
        caller, {"STRIPE_API_BASE": "http://127.0.0.1:9"}, database_url="sqlite+aiosqlite:///x"
    )
    assert env["PAYMENTS_LIVE"] == "1"
    assert env["STRIPE_API_BASE"] == "http://127.0.0.1:9"
    assert env["PAYHARNESS_DATABASE_URL"] == "sqlite+aiosqlite:///x"
    assert "XENDIT_API_KEY" not in env
    assert env["HOME"] == "/root"


def test_a_child_imports_this_very_harness_first() -> None:
    root = str(Path(__file__).resolve().parents[3])
    assert child_env({})["PYTHONPATH"] == root
    assert child_env({"PYTHONPATH": "/opt/x"})["PYTHONPATH"] == f"{root}{os.pathsep}/opt/x"


def test_the_resident_memory_of_a_process_is_read_with_its_peak() -> None:
    current, peak = read_rss(os.getpid())
    assert 0 < current <= peak


def test_a_steady_process_has_no_slope_and_a_leaking_one_has_its_leak() -> None:
    steady = [{"run": r, "rss": 50 * 1024 * 1024} for r in range(0, 1000, 50)]
    leaking = [{"run": r, "rss": 50 * 1024 * 1024 + r * 2048} for r in range(0, 1000, 50)]
    assert slope_kib_per_run(steady) == 0.0
    assert abs(slope_kib_per_run(leaking) - 2.0) < 1e-9
    assert slope_kib_per_run(steady[:1]) == 0.0


async def test_the_no_op_app_reads_the_request_and_answers_an_empty_object() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=noop_app), base_url="http://noop"
    ) as client:
        answer = await client.post("/v1/payments/webhook/stripe", content=b'{"id":"evt_1"}')
    assert answer.status_code == 200
    assert answer.json() == {}
