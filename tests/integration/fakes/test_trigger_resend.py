"""Every trigger recipe of every rail, through the control API of a served fake: the event comes out,
reaches a registered endpoint signed so the processor's own verifier accepts it, and resend delivers
it again re-signed."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import stripe
from hook0 import signature as hook0_signature  # type: ignore[import-untyped]

from fakes._common import FakeApp, LoopbackServer
from fakes.cdp import create_app as create_cdp
from fakes.stripe import create_app as create_stripe
from fakes.trigger import RAILS, recipes
from fakes.xendit import create_app as create_xendit

pytestmark = pytest.mark.integration


class Receiver:
    """A webhook endpoint recording each delivery's headers and body."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.url = ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.deliveries.append(
            ({k.decode().lower(): v.decode() for k, v in scope["headers"]}, body)
        )
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def event_id_of(rail: str, headers: dict[str, str], body: bytes) -> str:
    document = json.loads(body)
    if rail == "stripe":
        return str(document["id"])
    if rail == "cdp":
        return headers["x-event-id"]
    return ""  # Xendit sends no event id; deliveries are matched by order


def verify(rail: str, app: FakeApp[Any], headers: dict[str, str], body: bytes) -> None:
    """The processor's own verifier (stripe-python, hook0-client) or Xendit's static token."""
    config = app.processor.describe()
    if rail == "stripe":
        stripe.Webhook.construct_event(
            body.decode(), headers["stripe-signature"], config["webhook_secret"]
        )
    elif rail == "cdp":
        assert hook0_signature.verify_webhook_signature_with_current_time(
            headers["x-hook0-signature"],
            body,
            headers,
            config["webhook_secret"],
            300,
            datetime.datetime.now(datetime.UTC),
        )
    else:
        assert headers["x-callback-token"] == config["callback_token"]


FACTORIES: dict[str, Callable[[], FakeApp[Any]]] = {
    "stripe": create_stripe,
    "xendit": create_xendit,
    "cdp": create_cdp,
}


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, tuple[FakeApp[Any], str, Receiver]]]:
    receiver_apps = {rail: Receiver() for rail in RAILS}
    result: dict[str, tuple[FakeApp[Any], str, Receiver]] = {}
    servers = []
    try:
        for rail in RAILS:
            receiver_server = LoopbackServer(receiver_apps[rail]).__enter__()
            app: FakeApp[Any] = FACTORIES[rail]()
            server = LoopbackServer(app).__enter__()
            servers += [server, receiver_server]
            result[rail] = (app, server.base_url, receiver_apps[rail])
            receiver_apps[rail].url = f"{receiver_server.base_url}/hook"
        yield result
    finally:
        for server in reversed(servers):
            server.__exit__(None, None, None)


CASES = [(rail, event) for rail in RAILS for event in sorted(recipes(rail))]


@pytest.mark.parametrize(("rail", "event"), CASES, ids=[f"{r}:{e}" for r, e in CASES])
def test_each_trigger_emits_its_event_signed_for_the_registered_endpoint(
    served: dict[str, tuple[FakeApp[Any], str, Receiver]], rail: str, event: str
) -> None:
    app, base_url, receiver = served[rail]
    app.reset()
    app.webhooks.add_endpoint(receiver.url)
    receiver.deliveries.clear()
    answer = httpx.post(f"{base_url}/_fake/trigger", json={"event": event}, timeout=30)
    assert answer.status_code == 200, answer.text
    emitted = answer.json()["events"]
    assert event in [e["type"] for e in emitted]
    app.webhooks.drain_blocking(10)
    assert len(receiver.deliveries) == len(emitted)
    for headers, body in receiver.deliveries:
        verify(rail, app, headers, body)


@pytest.mark.parametrize("rail", RAILS)
def test_resend_delivers_the_same_event_again_freshly_signed(
    served: dict[str, tuple[FakeApp[Any], str, Receiver]], rail: str
) -> None:
    app, base_url, receiver = served[rail]
    app.reset()
    app.webhooks.add_endpoint(receiver.url)
    receiver.deliveries.clear()
    event = sorted(recipes(rail))[0]
    emitted = httpx.post(f"{base_url}/_fake/trigger", json={"event": event}, timeout=30).json()
    app.webhooks.drain_blocking(10)
    first_id = emitted["events"][0]["id"]
    first_headers, first_body = receiver.deliveries[0]
    resent = httpx.post(f"{base_url}/_fake/events/{first_id}/resend", json={}, timeout=10)
    assert resent.json() == {"id": first_id, "deliveries": 1}
    app.webhooks.drain_blocking(10)
    headers, body = receiver.deliveries[-1]
    assert body == first_body
    assert event_id_of(rail, headers, body) == event_id_of(rail, first_headers, first_body)
    verify(rail, app, headers, body)


def test_an_unknown_trigger_is_refused_with_the_list_of_known_ones(
    served: dict[str, tuple[FakeApp[Any], str, Receiver]],
) -> None:
    _, base_url, _ = served["stripe"]
    answer = httpx.post(f"{base_url}/_fake/trigger", json={"event": "nope.nope"}, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "unknown_trigger"
    assert "customer.created" in answer.json()["error"]["message"]


def test_resending_an_unknown_event_is_a_404(
    served: dict[str, tuple[FakeApp[Any], str, Receiver]],
) -> None:
    _, base_url, _ = served["xendit"]
    answer = httpx.post(f"{base_url}/_fake/events/evt_missing/resend", timeout=10)
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "unknown_event")
