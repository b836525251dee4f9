"""LoopbackServer: a fake on a real loopback port, with drops and webhook deliveries over sockets."""

from __future__ import annotations

import threading

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fakes._common import DeliverySettings, FakeError, Fault, LoopbackServer
from fakes._common.echo import create_echo_app

pytestmark = pytest.mark.integration

AUTH = {"authorization": "Bearer echo-token"}


def receiver_app(fail_first: int) -> tuple[Starlette, list[bytes]]:
    """A webhook endpoint that answers 500 to its first ``fail_first`` posts, then 200."""
    received: list[bytes] = []
    lock = threading.Lock()

    async def hook(request: Request) -> Response:
        body = await request.body()
        with lock:
            received.append(body)
            failing = len(received) <= fail_first
        return Response(status_code=500 if failing else 200)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])]), received


def test_port_zero_gives_each_server_its_own_free_port() -> None:
    with LoopbackServer(create_echo_app()) as one, LoopbackServer(create_echo_app()) as two:
        assert one.port != two.port
        assert one.base_url == f"http://127.0.0.1:{one.port}"
        for server in (one, two):
            response = httpx.get(f"{server.base_url}/v1/things/x", headers=AUTH)
            assert response.json() == {"id": "x"}


def test_a_drop_fault_closes_the_socket_without_any_response() -> None:
    app = create_echo_app()
    app.faults.add(Fault(drop=True, first_k=1))
    with (
        LoopbackServer(app) as server,
        httpx.Client(base_url=server.base_url, headers=AUTH) as client,
    ):
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.get("/v1/things/x")
        assert client.get("/v1/things/x").status_code == 200


def test_a_stopped_server_refuses_connections() -> None:
    server = LoopbackServer(create_echo_app()).start()
    url = f"{server.base_url}/v1/things/x"
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, headers=AUTH)


def test_only_loopback_hosts_are_allowed() -> None:
    with pytest.raises(FakeError) as caught:
        LoopbackServer(create_echo_app(), host="0.0.0.0")
    assert caught.value.code == "not_loopback"


def test_webhooks_reach_a_real_endpoint_and_are_retried_after_it_recovers() -> None:
    receiver, received = receiver_app(fail_first=1)
    app = create_echo_app(
        delivery=DeliverySettings(retry_schedule_seconds=(60.0,), time_scale=0.001)
    )
    with LoopbackServer(receiver) as hooks, LoopbackServer(app) as fake:
        app.webhooks.add_endpoint(f"{hooks.base_url}/hook")
        response = httpx.post(f"{fake.base_url}/v1/things", content=b"hello", headers=AUTH)
        assert response.status_code == 200
        # Deliveries run on the fake's loop; the control API waits for them there.
        drained = httpx.post(f"{fake.base_url}/_fake/deliveries/drain", json={"timeout": 5})
        assert drained.json() == {"in_flight": 0}

    assert received == [b"hello", b"hello"]
    assert [(a.attempt, a.status) for a in app.webhooks.attempts()] == [(1, 500), (2, 200)]
