"""The fake Xendit on a loopback port, driven by xendit-python's InvoiceApi and BalanceApi."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import xendit
from xendit.apis import BalanceApi, InvoiceApi
from xendit.exceptions import XenditSdkException
from xendit.invoice.model.create_invoice_request import CreateInvoiceRequest

from fakes._common import LoopbackServer
from fakes.signing import XenditCallbackToken
from fakes.xendit import XenditConfig, XenditFakeApp, create_app

pytestmark = pytest.mark.integration


class Receiver:
    """A callback endpoint app (served on its own loopback port) that records each POST."""

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
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[XenditFakeApp, str, Receiver]]:
    """One fake and one callback receiver per module; state is reset per test."""
    receiver = Receiver()
    with LoopbackServer(receiver) as receiver_server:
        app = create_app(
            XenditConfig(
                webhook_urls=(f"{receiver_server.base_url}/webhooks/xendit",),
                initial_balances=(("USD", 5_000),),
                time_scale=0.001,
            )
        )
        with LoopbackServer(app) as server:
            yield app, server.base_url, receiver


@pytest.fixture
def fake(servers: tuple[XenditFakeApp, str, Receiver]) -> tuple[XenditFakeApp, str, Receiver]:
    servers[0].reset()
    servers[2].requests.clear()
    return servers


def sdk(base_url: str, key: str = "xnd_development_payharness_test") -> xendit.ApiClient:
    # An explicit Configuration, not xendit.set_api_key(): that one sets a process-wide default.
    return xendit.ApiClient(configuration=xendit.Configuration(host=base_url, api_key=key))


def test_sdk_creates_reads_and_lists_an_invoice(fake: tuple[XenditFakeApp, str, Receiver]) -> None:
    _, base_url, _ = fake
    invoices = InvoiceApi(sdk(base_url))
    created = invoices.create_invoice(
        create_invoice_request=CreateInvoiceRequest(
            external_id="topup-acc_1-1", amount=12.5, currency="USD", description="Top up"
        ),
        _request_timeout=10,
    )
    read = invoices.get_invoice_by_id(created.id, _request_timeout=10)
    listed = invoices.get_invoices(external_id="topup-acc_1-1", _request_timeout=10)
    assert (created.status.value, created.amount, created.currency.value) == (
        "PENDING",
        12.5,
        "USD",
    )
    assert read.id == created.id
    assert [invoice.id for invoice in listed] == [created.id]


def test_sdk_sees_a_paid_invoice_and_the_credited_balance(
    fake: tuple[XenditFakeApp, str, Receiver],
) -> None:
    _, base_url, _ = fake
    client = sdk(base_url)
    created = InvoiceApi(client).create_invoice(
        create_invoice_request=CreateInvoiceRequest(external_id="e", amount=20.0, currency="USD")
    )
    with httpx.Client(base_url=base_url, timeout=10) as http:
        http.post(f"/_fake/invoices/{created.id}/pay")
    paid = InvoiceApi(client).get_invoice_by_id(created.id)
    balance = BalanceApi(client).get_balance(currency="USD")
    assert paid.status.value == "PAID"
    assert balance.balance == 70.0  # 50.00 at start + 20.00 paid


def test_sdk_expires_an_invoice(fake: tuple[XenditFakeApp, str, Receiver]) -> None:
    _, base_url, _ = fake
    invoices = InvoiceApi(sdk(base_url))
    created = invoices.create_invoice(
        create_invoice_request=CreateInvoiceRequest(external_id="e", amount=5000.0)
    )
    assert invoices.expire_invoice(created.id).status.value == "EXPIRED"


def test_sdk_raises_xendit_errors_with_their_codes(
    fake: tuple[XenditFakeApp, str, Receiver],
) -> None:
    _, base_url, _ = fake
    with pytest.raises(XenditSdkException) as missing:
        InvoiceApi(sdk(base_url)).get_invoice_by_id("000000000000000000000000")
    with pytest.raises(XenditSdkException) as unauthorized:
        BalanceApi(sdk(base_url, key="xnd_production_real_money")).get_balance()
    assert (str(missing.value.status), missing.value.errorCode) == (
        "404",
        "INVOICE_NOT_FOUND_ERROR",
    )
    assert (str(unauthorized.value.status), unauthorized.value.errorCode) == (
        "401",
        "INVALID_API_KEY",
    )


def test_paid_callback_reaches_the_endpoint_with_the_callback_token(
    fake: tuple[XenditFakeApp, str, Receiver],
) -> None:
    app, base_url, receiver = fake
    created = InvoiceApi(sdk(base_url)).create_invoice(
        create_invoice_request=CreateInvoiceRequest(
            external_id="topup-7", amount=9.99, currency="USD"
        )
    )
    with httpx.Client(base_url=base_url, timeout=10) as http:
        http.post(f"/_fake/invoices/{created.id}/pay")
    app.webhooks.drain_blocking()
    [(headers, body)] = receiver.requests
    XenditCallbackToken(app.config.callback_token).verify(body, headers)
    callback = json.loads(body)
    assert (callback["external_id"], callback["status"], callback["paid_amount"]) == (
        "topup-7",
        "PAID",
        9.99,
    )


def test_recurring_cycle_callback_reaches_the_endpoint_in_its_envelope(
    fake: tuple[XenditFakeApp, str, Receiver],
) -> None:
    app, base_url, receiver = fake
    with httpx.Client(base_url=base_url, auth=(app.config.secret_key, ""), timeout=10) as http:
        customer = http.post("/customers", json={"reference_id": "acc_3"}).json()
        plan = http.post(
            "/recurring/plans",
            json={
                "reference_id": "sub-acc_3",
                "customer_id": customer["id"],
                "recurring_action": "PAYMENT",
                "currency": "USD",
                "amount": 49,
                "schedule": {"reference_id": "s-3", "interval": "MONTH", "interval_count": 1},
                "payment_methods": [{"payment_method_id": "pm-3", "rank": 1}],
            },
        ).json()
        http.post(f"/_fake/recurring/plans/{plan['id']}/cycle")
    app.webhooks.drain_blocking()
    events = [json.loads(body) for _, body in receiver.requests]
    assert [e["event"] for e in events] == [
        "recurring.plan.activated",
        "recurring.cycle.created",
        "recurring.cycle.succeeded",
    ]
    assert events[1]["data"]["plan_id"] == plan["id"]
    assert all(h["x-callback-token"] == app.config.callback_token for h, _ in receiver.requests)
