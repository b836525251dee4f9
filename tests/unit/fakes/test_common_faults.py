"""Fault rules: which requests they select, when they fire, and what a client then sees."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from fakes._common import ConnectionDropped, FakeApp, Fault, FaultSet, InvalidFakeArgument
from fakes._common.echo import EchoProcessor, create_echo_app

AUTH = {"authorization": "Bearer echo-token"}


class RecordingSleep:
    """An injected sleep: records how long the fake meant to wait, and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client_for(app: FakeApp[EchoProcessor]) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://fake.test", headers=AUTH
    )


def test_first_k_fires_on_the_first_k_matching_calls_only() -> None:
    faults = FaultSet()
    faults.add(Fault(route="things.get", status=503, first_k=2))
    fired = [faults.match("GET", "/v1/things/1", "things.get") is not None for _ in range(4)]
    assert fired == [True, True, False, False]


def test_every_nth_fires_on_every_nth_matching_call() -> None:
    faults = FaultSet()
    faults.add(Fault(path="/v1/things/*", status=500, every_nth=3))
    fired = [faults.match("GET", f"/v1/things/{n}", None) is not None for n in range(6)]
    assert fired == [False, False, True, False, False, True]


def test_selectors_combine_route_method_and_path_glob() -> None:
    faults = FaultSet()
    faults.add(Fault(method="post", path="/v1/customers/**", status=500))
    assert faults.match("POST", "/v1/customers/cus_1/balance_transactions", None) is not None
    assert faults.match("GET", "/v1/customers/cus_1", None) is None
    assert faults.match("POST", "/v1/invoices", None) is None


def test_a_single_star_stays_within_one_path_segment() -> None:
    faults = FaultSet()
    faults.add(Fault(path="/v1/customers/*", status=500))
    assert faults.match("GET", "/v1/customers/cus_1", None) is not None
    assert faults.match("GET", "/v1/customers/cus_1/cash_balance", None) is None


def test_a_trailing_slash_is_not_significant_in_a_path_glob() -> None:
    faults = FaultSet()
    faults.add(Fault(path="/v2/invoices", status=500))
    assert faults.match("POST", "/v2/invoices/", None) is not None  # as xendit-python sends it
    assert faults.match("POST", "/v2/invoices", None) is not None
    assert faults.match("POST", "/v2/invoices/x", None) is None


def test_removed_and_cleared_rules_stop_firing() -> None:
    faults = FaultSet()
    rule = faults.add(Fault(status=500))
    faults.add(Fault(status=502))
    assert faults.remove(rule) and not faults.remove(rule)
    assert faults.match("GET", "/x", None) == Fault(status=502)
    faults.clear()
    assert faults.match("GET", "/x", None) is None


def test_stats_count_selected_and_fired_calls() -> None:
    faults = FaultSet()
    rule = faults.add(Fault(status=500, first_k=1))
    for _ in range(3):
        faults.match("GET", "/x", None)
    assert faults.stats()[rule] == {"matched": 3, "fired": 1}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"route": "x"}, "needs an effect"),
        ({"status": 700}, "status"),
        ({"status": 500, "first_k": 0}, "first_k"),
        ({"status": 500, "color": "red"}, "unknown fault fields: color"),
        ({"status": "500"}, "wrong type"),
        ({"drop": 1}, "wrong type"),
        ({"latency_seconds": -1}, "latency_seconds"),
        ({"status": 500, "method": "FETCH"}, "method"),
        ({"lose_answer": True, "status": 500}, "lose_answer"),
        ({"lose_answer": True, "drop": True}, "lose_answer"),
        ({"lose_answer": "yes"}, "wrong type"),
    ],
)
def test_malformed_rules_are_refused_with_a_message_naming_the_field(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidFakeArgument, match=message):
        Fault.from_json(data)


async def test_a_status_fault_answers_in_the_processors_own_error_shape() -> None:
    app = create_echo_app()
    app.faults.add(Fault(route="things.get", status=503, first_k=1))
    async with client_for(app) as client:
        first = await client.get("/v1/things/a")
        second = await client.get("/v1/things/a")

    assert first.status_code == 503
    assert first.json() == {
        "error": {"code": "injected_fault", "message": "Injected fault: HTTP 503."}
    }
    assert first.headers["x-echo"] == "1"
    assert second.status_code == 200
    assert [e.status for e in app.journal.entries()] == [503, 200]


async def test_a_status_fault_can_carry_its_own_body() -> None:
    app = create_echo_app()
    app.faults.add(Fault(status=429, body={"error": {"code": "slow_down"}}))
    async with client_for(app) as client:
        response = await client.get("/v1/things/a")
    assert (response.status_code, response.json()) == (429, {"error": {"code": "slow_down"}})


async def test_latency_is_applied_through_the_injected_sleep_before_answering() -> None:
    sleep = RecordingSleep()
    app = create_echo_app(sleep=sleep)
    app.faults.add(Fault(route="things.get", latency_seconds=2.5))
    async with client_for(app) as client:
        response = await client.get("/v1/things/a")
    assert response.status_code == 200
    assert sleep.calls == [2.5]


async def test_a_timeout_holds_the_request_then_answers_504() -> None:
    sleep = RecordingSleep()
    app = create_echo_app(sleep=sleep)
    app.faults.add(Fault(timeout=True, timeout_seconds=45))
    async with client_for(app) as client:
        response = await client.get("/v1/things/a")
    assert sleep.calls == [45]
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "gateway_timeout"


async def test_a_drop_in_process_raises_a_remote_protocol_error_and_is_not_journaled() -> None:
    app = create_echo_app()
    app.faults.add(Fault(drop=True, first_k=1))
    async with client_for(app) as client:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await client.get("/v1/things/a")
        assert isinstance(caught.value, ConnectionDropped)
        assert (await client.get("/v1/things/a")).status_code == 200
    assert [e.status for e in app.journal.entries()] == [200]


async def test_a_lost_answer_runs_the_request_journals_it_then_drops_the_connection() -> None:
    sleep = RecordingSleep()
    app = create_echo_app(sleep=sleep)
    app.faults.add(Fault(route="things.create", lose_answer=True, latency_seconds=0.5, first_k=1))
    async with client_for(app) as client:
        with pytest.raises(httpx.RemoteProtocolError) as caught:
            await client.post("/v1/things", content=b"first")
        assert isinstance(caught.value, ConnectionDropped)
        second = await client.post("/v1/things", content=b"second")
    # the first request was executed (its webhook was sent: event 1) although its answer never came
    assert second.json()["event"] == "evt_2"
    assert [e.status for e in app.journal.entries()] == [200, 200]
    assert sleep.calls == [0.5]


async def test_a_held_request_really_waits_when_sleep_is_real() -> None:
    # asyncio.sleep stays the default: a fault with a tiny real latency still answers.
    app = create_echo_app()
    app.faults.add(Fault(latency_seconds=0.001))
    async with client_for(app) as client:
        response = await asyncio.wait_for(client.get("/v1/things/a"), 5)
    assert response.status_code == 200


async def test_faults_never_touch_the_control_api() -> None:
    app = create_echo_app()
    app.faults.add(Fault(status=500))
    async with client_for(app) as client:
        assert (await client.get("/_fake/journal")).status_code == 200
        assert (await client.get("/v1/things/a")).status_code == 500
