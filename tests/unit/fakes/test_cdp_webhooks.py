"""CDP settlement webhooks (X-Hook0-Signature) and the CDP fake's control helpers, in process."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fakes.cdp import BASE_SEPOLIA_USDC, SETTLEMENT_EVENT_TYPE, CdpConfig, CdpFakeApp, create_app
from fakes.cdp.payer import X402Payer
from fakes.signing import Hook0Signer

NOW = 1_750_000_000.0
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
SECRET = "cdp_whsec_payharness_test"


def in_process(app: Any) -> httpx.ASGITransport:
    """An httpx transport calling ``app`` in process (typed ``Any``: FakeApp's ASGI signature uses
    ``Mapping`` where httpx declares ``MutableMapping``)."""
    return httpx.ASGITransport(app=app)


def clock() -> float:
    return NOW


class Receiver:
    """An ASGI webhook endpoint that records each POST and answers scripted statuses (then 200)."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self._statuses = list(statuses)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.requests.append(({k.decode().lower(): v.decode() for k, v in scope["headers"]}, body))
        status = self._statuses.pop(0) if self._statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def requirements() -> dict[str, Any]:
    return {
        "scheme": "exact",
        "network": "base-sepolia",
        "maxAmountRequired": "250000",
        "resource": "https://api.example.test/pay",
        "description": "top-up",
        "payTo": PAY_TO,
        "maxTimeoutSeconds": 60,
        "asset": BASE_SEPOLIA_USDC,
        "extra": {"name": "USDC", "version": "2"},
    }


def make_app(receiver: Receiver) -> CdpFakeApp:
    return create_app(
        CdpConfig(
            now=clock,
            webhook_urls=("http://merchant.test/webhooks/cdp",),
            delivery_transport=in_process(receiver),
            time_scale=0.0001,
        )
    )


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def app(receiver: Receiver) -> CdpFakeApp:
    return make_app(receiver)


@pytest.fixture
async def http(app: CdpFakeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=in_process(app), base_url="http://cdp.test") as client:
        yield client


async def settle(http: httpx.AsyncClient, payment: dict[str, Any]) -> dict[str, Any]:
    body = {"x402Version": 1, "paymentPayload": payment, "paymentRequirements": requirements()}
    response = await http.post("/settle", json=body)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def payer_of(app: CdpFakeApp, index: int = 0) -> X402Payer:
    return X402Payer(private_key=app.config.funded_accounts[index].private_key, now=clock)


async def test_settlement_sends_one_webhook_describing_the_transfer(
    app: CdpFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    payer = payer_of(app)
    payment = payer.payment_payload(requirements())
    result = await settle(http, payment)
    await app.webhooks.drain()
    [(headers, body)] = receiver.requests
    event = json.loads(body)
    assert event["eventType"] == SETTLEMENT_EVENT_TYPE
    assert event["createdAt"] == "2025-06-15T15:06:40.000Z"
    assert event["data"] == {
        "transaction": result["transaction"],
        "network": "base-sepolia",
        "from": payer.address,
        "to": PAY_TO,
        "payer": payer.address,
        "value": "250000",
        "asset": BASE_SEPOLIA_USDC,
        "nonce": payment["payload"]["authorization"]["nonce"],
        "x402Version": 1,
    }
    assert headers["x-event-id"] == event["eventId"]
    assert headers["x-event-type"] == SETTLEMENT_EVENT_TYPE
    assert headers["content-type"] == "application/json"


async def test_webhook_signature_verifies_with_the_hook0_scheme(
    app: CdpFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    await settle(http, payer_of(app).payment_payload(requirements()))
    await app.webhooks.drain()
    [(headers, body)] = receiver.requests
    assert Hook0Signer(SECRET, now=clock).verify(body, headers) == int(NOW)
    # And by hand, from PROCESSORS.md 3.2: HMAC-SHA256(secret, f"{t}.{h}.{values}.{body}"), hex.
    fields = dict(part.split("=", 1) for part in headers["x-hook0-signature"].split(","))
    assert fields["h"] == "content-type x-event-id x-event-type"
    values = ".".join(headers[name] for name in fields["h"].split(" "))
    message = f"{fields['t']}.{fields['h']}.{values}.".encode() + body
    assert fields["v1"] == hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()


async def test_tampered_webhook_body_fails_verification(
    app: CdpFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    await settle(http, payer_of(app).payment_payload(requirements()))
    await app.webhooks.drain()
    [(headers, body)] = receiver.requests
    with pytest.raises(ValueError):
        Hook0Signer(SECRET, now=clock).verify(body.replace(b"250000", b"950000"), headers)


async def test_idempotent_settle_retry_sends_no_second_webhook(
    app: CdpFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    payment = payer_of(app).payment_payload(requirements())
    await settle(http, payment)
    await settle(http, payment)
    await app.webhooks.drain()
    assert len(receiver.requests) == 1


async def test_each_settlement_has_its_own_event_id(
    app: CdpFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    for index in range(3):
        await settle(http, payer_of(app, index).payment_payload(requirements()))
    await app.webhooks.drain()
    ids = [json.loads(body)["eventId"] for _, body in receiver.requests]
    assert len(set(ids)) == 3


async def test_refused_settle_sends_no_webhook(
    app: CdpFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    payment = payer_of(app).payment_payload(requirements(), valid_before=int(NOW) - 10)
    result = await settle(http, payment)
    await app.webhooks.drain()
    assert result["success"] is False
    assert receiver.requests == []


async def test_failing_endpoint_is_retried_with_a_fresh_signature() -> None:
    flaky = Receiver(statuses=(500, 503))
    app = make_app(flaky)
    async with httpx.AsyncClient(transport=in_process(app), base_url="http://cdp.test") as client:
        await settle(client, payer_of(app).payment_payload(requirements()))
        await app.webhooks.drain()
    assert [attempt.status for attempt in app.webhooks.attempts()] == [500, 503, 200]
    assert len({body for _, body in flaky.requests}) == 1
    for headers, body in flaky.requests:
        Hook0Signer(SECRET, now=clock).verify(body, headers)


async def test_endpoint_registered_through_the_control_api_gets_the_configured_secret(
    receiver: Receiver,
) -> None:
    app = create_app(CdpConfig(now=clock, delivery_transport=in_process(receiver)))
    async with httpx.AsyncClient(transport=in_process(app), base_url="http://cdp.test") as client:
        registered = await client.post("/_fake/webhook_endpoints", json={"url": "http://m.test/h"})
        await settle(client, payer_of(app).payment_payload(requirements()))
        await app.webhooks.drain()
    assert registered.json()["secret"] == SECRET
    assert len(receiver.requests) == 1


async def test_control_api_funds_a_wallet_and_reads_balances(
    app: CdpFakeApp, http: httpx.AsyncClient
) -> None:
    newcomer = "0x" + "ab" * 20
    funded = await http.post("/_fake/wallets/fund", json={"address": newcomer, "amount": 5_000_000})
    one = await http.get(f"/_fake/wallets/{newcomer}")
    every = await http.get("/_fake/wallets")
    assert funded.json()["balance"] == 5_000_000
    assert one.json()["balance"] == 5_000_000
    assert every.json()["balances"][one.json()["address"]] == 5_000_000
    assert every.json()["balances"][payer_of(app).address] == 1_000_000_000


@pytest.mark.parametrize(
    "body",
    [{"address": "nope", "amount": 1}, {"address": "0x" + "ab" * 20, "amount": 0}, {"amount": 1}],
)
async def test_control_api_refuses_a_malformed_funding(
    http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await http.post("/_fake/wallets/fund", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_argument"


async def test_control_api_lists_settlements_and_is_not_journaled(
    app: CdpFakeApp, http: httpx.AsyncClient
) -> None:
    result = await settle(http, payer_of(app).payment_payload(requirements()))
    listed = (await http.get("/_fake/settlements")).json()
    assert [s["transaction"] for s in listed] == [result["transaction"]]
    assert listed[0]["value"] == "250000"
    assert [entry.route for entry in app.journal.entries()] == ["settle"]


async def test_config_shows_the_funded_test_wallets_and_secrets(http: httpx.AsyncClient) -> None:
    config = (await http.get("/_fake/config")).json()
    assert config["webhook_secret"] == SECRET
    assert len(config["funded_accounts"]) == 3
    assert config["funded_accounts"][0]["private_key"].startswith("0x")
    assert config["networks"][0]["caip2"] == "eip155:84532"


async def test_injected_fault_on_settle_answers_without_settling(
    app: CdpFakeApp, http: httpx.AsyncClient
) -> None:
    rule = await http.post("/_fake/faults", json={"route": "settle", "status": 503, "first_k": 1})
    payment = payer_of(app).payment_payload(requirements())
    body = {"x402Version": 1, "paymentPayload": payment, "paymentRequirements": requirements()}
    faulted = await http.post("/settle", json=body)
    retried = await http.post("/settle", json=body)
    assert rule.status_code == 200
    assert faulted.status_code == 503
    assert faulted.json()["errorType"] == "injected_fault"
    assert retried.json()["success"] is True
    assert len(app.settlements()) == 1
