"""The fake CDP facilitator on a loopback port, driven by the x402 package's HTTPFacilitatorClient."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from x402.http import FacilitatorConfig, HTTPFacilitatorClient, HTTPFacilitatorClientSync
from x402.schemas.v1 import PaymentPayloadV1, PaymentRequirementsV1

from fakes._common import Fault, LoopbackServer
from fakes.cdp import BASE_SEPOLIA_USDC, CdpConfig, CdpFakeApp, create_app, derive_test_key
from fakes.cdp.payer import X402Payer
from fakes.signing import Hook0Signer

pytestmark = pytest.mark.integration

PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
PRICE_ATOMIC = 1_500_000  # 1.50 USDC


class Receiver:
    """A webhook endpoint app (served on its own loopback port) that records each POST."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.requests.append(({k.decode().lower(): v.decode() for k, v in scope["headers"]}, body))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[CdpFakeApp, str, Receiver, str]]:
    """One fake and one webhook receiver per module (starting uvicorn costs ~0.2 s); reset per test."""
    receiver = Receiver()
    with LoopbackServer(receiver) as receiver_server:
        url = f"{receiver_server.base_url}/webhooks/cdp"
        app = create_app(CdpConfig(webhook_urls=(url,), time_scale=0.001))
        with LoopbackServer(app) as server:
            yield app, server.base_url, receiver, url


@pytest.fixture
def receiver(servers: tuple[CdpFakeApp, str, Receiver, str]) -> tuple[Receiver, str]:
    servers[2].requests.clear()
    return servers[2], servers[3]


@pytest.fixture
def fake(
    servers: tuple[CdpFakeApp, str, Receiver, str], receiver: tuple[Receiver, str]
) -> tuple[CdpFakeApp, str]:
    app, base_url, _, _ = servers
    app.reset()
    return app, base_url


@pytest.fixture
async def facilitator(fake: tuple[CdpFakeApp, str]) -> AsyncIterator[HTTPFacilitatorClient]:
    async with HTTPFacilitatorClient(FacilitatorConfig(url=fake[1], timeout=10)) as client:
        yield client


def requirements() -> PaymentRequirementsV1:
    return PaymentRequirementsV1(
        scheme="exact",
        network="base-sepolia",
        max_amount_required=str(PRICE_ATOMIC),
        resource="http://127.0.0.1/v1/payments/topup/cdp/t_1/pay",
        description="top-up",
        mime_type="application/json",
        pay_to=PAY_TO,
        max_timeout_seconds=60,
        asset=BASE_SEPOLIA_USDC,
        extra={"name": "USDC", "version": "2"},
    )


def payment(payer: X402Payer, **overrides: Any) -> PaymentPayloadV1:
    wire = requirements().model_dump(by_alias=True, exclude_none=True)
    return PaymentPayloadV1.model_validate(payer.payment_payload(wire, **overrides))


def funded_payer(app: CdpFakeApp) -> X402Payer:
    return X402Payer(private_key=app.config.funded_accounts[0].private_key)


async def test_client_verifies_and_settles_a_signed_payment_over_http(
    fake: tuple[CdpFakeApp, str], facilitator: HTTPFacilitatorClient
) -> None:
    app, _ = fake
    payer = funded_payer(app)
    signed = payment(payer)
    verified = await facilitator.verify(signed, requirements())
    settled = await facilitator.settle(signed, requirements())
    assert verified.is_valid is True
    assert settled.success is True
    assert settled.payer == payer.address
    assert app.balance(PAY_TO) == PRICE_ATOMIC


async def test_replayed_nonce_is_refused_but_an_identical_retry_is_idempotent(
    fake: tuple[CdpFakeApp, str], facilitator: HTTPFacilitatorClient
) -> None:
    app, _ = fake
    payer = funded_payer(app)
    nonce = "0x" + "42" * 32
    # one payload settled twice: building it twice could straddle a clock second and change validBefore
    paid = payment(payer, nonce=nonce)
    first = await facilitator.settle(paid, requirements())
    retry = await facilitator.settle(paid, requirements())
    assert retry.transaction == first.transaction  # same signature bytes: same request
    replay = await facilitator.settle(
        payment(payer, nonce=nonce, value_atomic=PRICE_ATOMIC + 1), requirements()
    )
    assert (replay.success, replay.error_reason) == (False, "invalid_transaction_state")
    assert app.balance(PAY_TO) == PRICE_ATOMIC


async def test_expired_authorization_is_refused(
    fake: tuple[CdpFakeApp, str], facilitator: HTTPFacilitatorClient
) -> None:
    app, _ = fake
    expired = payment(funded_payer(app), valid_after=1_600_000_000, valid_before=1_600_000_600)
    verdict = await facilitator.verify(expired, requirements())
    settled = await facilitator.settle(expired, requirements())
    assert verdict.invalid_reason == "invalid_exact_evm_payload_authorization_valid_before"
    assert settled.error_reason == "invalid_exact_evm_payload_authorization_valid_before"


async def test_insufficient_balance_is_refused(
    fake: tuple[CdpFakeApp, str], facilitator: HTTPFacilitatorClient
) -> None:
    broke = X402Payer(private_key=derive_test_key("integration-unfunded", 0))
    settled = await facilitator.settle(payment(broke), requirements())
    assert (settled.success, settled.error_reason) == (False, "insufficient_funds")


async def test_settlement_webhook_reaches_the_endpoint_and_verifies_with_hook0(
    fake: tuple[CdpFakeApp, str],
    receiver: tuple[Receiver, str],
    facilitator: HTTPFacilitatorClient,
) -> None:
    app, _ = fake
    settled = await facilitator.settle(payment(funded_payer(app)), requirements())
    await app.webhooks.drain()
    [(headers, body)] = receiver[0].requests
    Hook0Signer(app.config.webhook_secret).verify(body, headers)
    event = json.loads(body)
    assert event["data"]["transaction"] == settled.transaction
    assert event["data"]["value"] == str(PRICE_ATOMIC)
    assert headers["x-event-id"] == event["eventId"]


async def test_dropped_connection_loses_nothing_and_the_retry_settles_once(
    fake: tuple[CdpFakeApp, str], facilitator: HTTPFacilitatorClient
) -> None:
    app, _ = fake
    app.faults.add(Fault(route="settle", drop=True, first_k=1))
    signed = payment(funded_payer(app))
    with pytest.raises(httpx.RemoteProtocolError):
        await facilitator.settle(signed, requirements())
    settled = await facilitator.settle(signed, requirements())
    assert settled.success is True
    assert len(app.settlements()) == 1


def test_sync_client_reads_supported_kinds(fake: tuple[CdpFakeApp, str]) -> None:
    with HTTPFacilitatorClientSync(FacilitatorConfig(url=fake[1], timeout=10)) as client:
        supported = client.get_supported()
    assert {(k.x402_version, k.network) for k in supported.kinds} == {
        (1, "base-sepolia"),
        (2, "eip155:84532"),
    }


def test_control_api_over_http_funds_and_reports(fake: tuple[CdpFakeApp, str]) -> None:
    _, base_url = fake
    address = "0x" + "cd" * 20
    with httpx.Client(base_url=base_url) as client:
        client.post("/_fake/wallets/fund", json={"address": address, "amount": 42})
        balance = client.get(f"/_fake/wallets/{address}").json()["balance"]
        journal = client.get("/_fake/journal").json()
    assert balance == 42
    assert journal == []
