"""Xendit callbacks (flat invoice PAID, recurring envelope) delivered with x-callback-token, in process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fakes.signing import XenditCallbackToken
from fakes.xendit import CALLBACK_RETRY_DELAYS_SECONDS, XenditConfig, XenditFakeApp, create_app

KEY = "xnd_development_payharness_test"
TOKEN = "xnd_callback_token_payharness_test"
NOW = 1_750_000_000.0


def in_process(app: Any) -> httpx.ASGITransport:
    """An httpx transport calling ``app`` in process (typed ``Any``: FakeApp's ASGI signature uses
    ``Mapping`` where httpx declares ``MutableMapping``)."""
    return httpx.ASGITransport(app=app)


def clock() -> float:
    return NOW


class Receiver:
    """An ASGI callback endpoint that records each POST and answers scripted statuses (then 200)."""

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

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


def make_app(receiver: Receiver, **config: Any) -> XenditFakeApp:
    return create_app(
        XenditConfig(
            now=clock,
            webhook_urls=("http://merchant.test/webhooks/xendit",),
            delivery_transport=in_process(receiver),
            time_scale=0.000001,
            **config,
        )
    )


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def app(receiver: Receiver) -> XenditFakeApp:
    return make_app(receiver)


@pytest.fixture
async def http(app: XenditFakeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=in_process(app), base_url="http://xendit.test", auth=(KEY, "")
    ) as client:
        yield client


async def new_plan(http: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    customer = await http.post(
        "/customers",
        json={
            "reference_id": "acc_1",
            "type": "INDIVIDUAL",
            "individual_detail": {"given_names": "Ada"},
        },
    )
    assert customer.status_code == 200
    body = {
        "reference_id": "sub-acc_1-pro",
        "customer_id": customer.json()["id"],
        "recurring_action": "PAYMENT",
        "currency": "USD",
        "amount": 29.99,
        "schedule": {"reference_id": "sched-1", "interval": "MONTH", "interval_count": 1},
        "metadata": {"account_id": "acc_1", "plan": "pro"},
    } | fields
    response = await http.post("/recurring/plans", json=body)
    assert response.status_code == 200, response.text
    plan: dict[str, Any] = response.json()
    return plan


async def test_paid_invoice_sends_the_flat_callback_with_the_callback_token(
    app: XenditFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    created = await http.post(
        "/v2/invoices",
        json={
            "external_id": "topup-acc_1-1",
            "amount": 25,
            "currency": "USD",
            "description": "Top up",
        },
    )
    await http.post(f"/_fake/invoices/{created.json()['id']}/pay", json={"paid_amount": 25})
    await app.webhooks.drain()
    [(headers, body)] = receiver.requests
    callback = json.loads(body)
    XenditCallbackToken(TOKEN).verify(body, headers)
    assert headers["x-callback-token"] == TOKEN
    assert "event" not in callback and "data" not in callback  # flat, no envelope
    assert callback["id"] == created.json()["id"]
    assert callback["external_id"] == "topup-acc_1-1"
    assert (callback["status"], callback["amount"], callback["paid_amount"]) == ("PAID", 25, 25)
    assert (callback["currency"], callback["payment_method"]) == ("USD", "BANK_TRANSFER")
    assert callback["paid_at"] == "2025-06-15T15:06:40.000Z"
    assert callback["user_id"] == app.config.business_id


async def test_callback_with_a_wrong_token_would_be_rejected_by_the_receiver(
    app: XenditFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    created = await http.post(
        "/v2/invoices", json={"external_id": "e", "amount": 5, "currency": "USD"}
    )
    app.pay_invoice(created.json()["id"])
    await app.webhooks.drain()
    [(headers, body)] = receiver.requests
    with pytest.raises(ValueError):
        XenditCallbackToken("someone-elses-token").verify(body, headers)


async def test_failed_callback_is_retried_on_the_xendit_schedule() -> None:
    flaky = Receiver(statuses=(500, 502, 503))
    app = make_app(flaky)
    assert app.webhooks.settings.retry_schedule_seconds == CALLBACK_RETRY_DELAYS_SECONDS
    assert CALLBACK_RETRY_DELAYS_SECONDS == (900, 2700, 7200, 10800, 21600, 43200)
    invoice = app.processor.invoices.create({"external_id": "e", "amount": 5})
    app.pay_invoice(invoice.id)
    await app.webhooks.drain()
    assert [attempt.status for attempt in app.webhooks.attempts()] == [500, 502, 503, 200]


async def test_plan_without_payment_method_requires_action_until_activated(
    app: XenditFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    plan = await new_plan(http)
    assert plan["status"] == "REQUIRES_ACTION"
    assert plan["actions"][0]["action"] == "AUTH"
    assert plan["id"].startswith("repl_") and plan["schedule"]["id"].startswith("resc_")
    activated = await http.post(f"/_fake/recurring/plans/{plan['id']}/activate")
    await app.webhooks.drain()
    assert activated.json()["status"] == "ACTIVE"
    [event] = receiver.events()
    assert set(event) == {"event", "business_id", "created", "data", "api_version"}
    assert event["event"] == "recurring.plan.activated"
    assert event["data"]["id"] == plan["id"]
    assert event["data"]["metadata"] == {"account_id": "acc_1", "plan": "pro"}


async def test_plan_with_a_payment_method_is_active_at_once(
    app: XenditFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    plan = await new_plan(http, payment_methods=[{"payment_method_id": "pm-1", "rank": 1}])
    await app.webhooks.drain()
    assert plan["status"] == "ACTIVE"
    assert [e["event"] for e in receiver.events()] == ["recurring.plan.activated"]


async def test_charged_cycle_sends_cycle_succeeded_and_credits_the_balance(
    app: XenditFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    plan = await new_plan(http)
    app.activate_plan(plan["id"])
    cycle = await http.post(f"/_fake/recurring/plans/{plan['id']}/cycle")
    await app.webhooks.drain()
    events = receiver.events()
    assert [e["event"] for e in events] == [
        "recurring.plan.activated",
        "recurring.cycle.created",
        "recurring.cycle.succeeded",
    ]
    data = events[2]["data"]
    assert data["id"] == cycle.json()["id"] and data["id"].startswith("recy_")
    assert (data["plan_id"], data["status"], data["amount"], data["cycle_number"]) == (
        plan["id"],
        "SUCCEEDED",
        29.99,
        1,
    )
    assert app.balance_minor("USD") == 29_99
    read = await http.get(f"/recurring/plans/{plan['id']}")
    assert read.json()["recurring_cycle_count"] == 1
    cycles = await http.get(f"/recurring/plans/{plan['id']}/cycles")
    assert [c["id"] for c in cycles.json()["data"]] == [data["id"]]


async def test_failed_cycle_sends_cycle_failed_and_stop_inactivates_the_plan(
    app: XenditFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    plan = await new_plan(http, failed_cycle_action="STOP")
    app.activate_plan(plan["id"])
    failed = app.charge_cycle(plan["id"], succeeded=False, failure_code="CARD_DECLINED")
    await app.webhooks.drain()
    assert failed["attempt_details"][0]["failure_code"] == "CARD_DECLINED"
    assert [e["event"] for e in receiver.events()] == [
        "recurring.plan.activated",
        "recurring.cycle.created",
        "recurring.cycle.failed",
        "recurring.plan.inactivated",
    ]
    assert app.balance_minor("USD") == 0


async def test_deactivate_sends_plan_inactivated_once(
    app: XenditFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    plan = await new_plan(http)
    app.activate_plan(plan["id"])
    first = await http.post(f"/recurring/plans/{plan['id']}/deactivate")
    again = await http.post(f"/recurring/plans/{plan['id']}/deactivate")
    charge = await http.post(f"/_fake/recurring/plans/{plan['id']}/cycle")
    await app.webhooks.drain()
    assert first.json()["status"] == again.json()["status"] == "INACTIVE"
    assert [e["event"] for e in receiver.events()].count("recurring.plan.inactivated") == 1
    assert charge.status_code == 400


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"recurring_action": "PAYOUT"}, "API_VALIDATION_ERROR"),
        ({"schedule": {"interval": "YEAR"}}, "API_VALIDATION_ERROR"),
        ({"amount": 0}, "API_VALIDATION_ERROR"),
        ({"currency": "EUR"}, "UNSUPPORTED_CURRENCY"),
        ({"customer_id": "cust-missing"}, "DATA_NOT_FOUND"),
    ],
)
async def test_invalid_plan_is_refused(
    http: httpx.AsyncClient, fields: dict[str, Any], code: str
) -> None:
    customer = await http.post("/customers", json={"reference_id": "c"})
    body = {
        "reference_id": "p",
        "customer_id": customer.json()["id"],
        "recurring_action": "PAYMENT",
        "currency": "USD",
        "amount": 10,
        "schedule": {"reference_id": "s", "interval": "MONTH"},
    } | fields
    response = await http.post("/recurring/plans", json=body)
    assert response.json()["error_code"] == code


async def test_customer_reference_id_is_unique_and_customers_read_back(
    http: httpx.AsyncClient,
) -> None:
    created = await http.post("/customers", json={"reference_id": "acc_9", "email": "a@b.test"})
    duplicate = await http.post("/customers", json={"reference_id": "acc_9"})
    read = await http.get(f"/customers/{created.json()['id']}")
    assert created.json()["id"].startswith("cust-")
    assert duplicate.status_code == 409
    assert duplicate.json()["error_code"] == "DUPLICATE_ERROR"
    assert read.json()["email"] == "a@b.test"
    assert (await http.get("/customers/cust-nope")).status_code == 404


async def test_reset_forgets_state_but_keeps_configured_endpoints(
    app: XenditFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    created = await http.post("/v2/invoices", json={"external_id": "e", "amount": 5})
    await http.post("/_fake/reset")
    assert (await http.get(f"/v2/invoices/{created.json()['id']}")).status_code == 404
    assert [e.url for e in app.webhooks.endpoints()] == ["http://merchant.test/webhooks/xendit"]
    config = (await http.get("/_fake/config")).json()
    assert (config["secret_key"], config["callback_token"]) == (KEY, TOKEN)


async def test_a_failed_attempt_with_retries_left_sends_retrying_then_failed_on_the_last(
    app: XenditFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    schedule = {"reference_id": "s", "interval": "MONTH", "total_retry": 2, "retry_interval": "DAY"}
    plan = await new_plan(http, schedule=schedule)
    app.activate_plan(plan["id"])
    attempts = [app.charge_cycle(plan["id"], succeeded=False) for _ in range(3)]
    await app.webhooks.drain()
    assert [e["event"] for e in receiver.events()] == [
        "recurring.plan.activated",
        "recurring.cycle.created",
        "recurring.cycle.retrying",
        "recurring.cycle.retrying",
        "recurring.cycle.failed",
    ]
    assert len({a["id"] for a in attempts}) == 1
    assert [a["status"] for a in attempts] == ["RETRYING", "RETRYING", "FAILED"]
    last = attempts[-1]["attempt_details"]
    assert [d["attempt_number"] for d in last] == [1, 2, 3]
    assert [d["next_retry_timestamp"] is None for d in last] == [False, False, True]


async def test_a_retry_that_succeeds_closes_the_cycle_and_credits_once(
    app: XenditFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    plan = await new_plan(
        http, schedule={"reference_id": "s", "interval": "WEEK", "total_retry": 1}
    )
    app.activate_plan(plan["id"])
    app.charge_cycle(plan["id"], succeeded=False)
    cycle = app.charge_cycle(plan["id"])
    await app.webhooks.drain()
    assert (cycle["status"], cycle["attempt_count"]) == ("SUCCEEDED", 2)
    assert [e["event"] for e in receiver.events()][-2:] == [
        "recurring.cycle.retrying",
        "recurring.cycle.succeeded",
    ]
    assert app.balance_minor("USD") == 29_99


async def test_a_failed_forced_attempt_sends_force_attempt_failed_and_keeps_the_cycle_retrying(
    app: XenditFakeApp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    plan = await new_plan(http, schedule={"reference_id": "s", "interval": "DAY", "total_retry": 1})
    app.activate_plan(plan["id"])
    app.charge_cycle(plan["id"], succeeded=False)
    forced = await http.post(
        f"/_fake/recurring/plans/{plan['id']}/cycle", json={"status": "FAILED", "force": True}
    )
    await app.webhooks.drain()
    assert forced.json()["status"] == "RETRYING"
    assert [e["event"] for e in receiver.events()][-1] == "recurring.cycle.force_attempt_failed"


async def test_forcing_an_attempt_without_a_retrying_cycle_is_refused(
    app: XenditFakeApp, http: httpx.AsyncClient
) -> None:
    plan = await new_plan(http)
    app.activate_plan(plan["id"])
    forced = await http.post(f"/_fake/recurring/plans/{plan['id']}/cycle", json={"force": True})
    assert forced.status_code == 400
