"""Xendit invoices, auth, idempotency and balance on the fake, in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from fakes.xendit import XenditConfig, XenditFakeApp, create_app
from fakes.xendit.amounts import from_minor, to_minor

KEY = "xnd_development_payharness_test"


def in_process(app: Any) -> httpx.ASGITransport:
    """An httpx transport calling ``app`` in process (typed ``Any``: FakeApp's ASGI signature uses
    ``Mapping`` where httpx declares ``MutableMapping``)."""
    return httpx.ASGITransport(app=app)


class Clock:
    """A settable clock: tests move time by assignment, never by sleeping."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(clock: Clock) -> XenditFakeApp:
    return create_app(XenditConfig(now=clock, initial_balances=(("USD", 100_00),)))


@pytest.fixture
async def http(app: XenditFakeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=in_process(app), base_url="http://xendit.test", auth=(KEY, "")
    ) as client:
        yield client


async def create_invoice(http: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    body = {"external_id": "topup-1", "amount": 10.5, "currency": "USD"} | fields
    return await http.post("/v2/invoices", json=body)


async def test_created_invoice_is_pending_with_the_requested_amount(
    http: httpx.AsyncClient,
) -> None:
    response = await create_invoice(http, description="Top up", metadata={"account_id": "acc_1"})
    invoice = response.json()
    assert response.status_code == 200
    assert invoice["status"] == "PENDING"
    assert (invoice["amount"], invoice["currency"], invoice["external_id"]) == (
        10.5,
        "USD",
        "topup-1",
    )
    assert invoice["metadata"] == {"account_id": "acc_1"}
    assert invoice["created"] == "2025-06-15T15:06:40.000Z"
    assert invoice["expiry_date"] == "2025-06-16T15:06:40.000Z"
    assert len(invoice["id"]) == 24
    assert invoice["invoice_url"].endswith(invoice["id"])


async def test_sdk_trailing_slash_path_creates_an_invoice_too(http: httpx.AsyncClient) -> None:
    response = await http.post("/v2/invoices/", json={"external_id": "e", "amount": 5})
    assert response.status_code == 200
    assert response.json()["currency"] == "IDR"


async def test_invoice_is_read_back_by_id(http: httpx.AsyncClient) -> None:
    created = (await create_invoice(http)).json()
    read = await http.get(f"/v2/invoices/{created['id']}")
    assert read.json() == created


async def test_unknown_invoice_is_invoice_not_found(http: httpx.AsyncClient) -> None:
    response = await http.get("/v2/invoices/000000000000000000000000")
    assert response.status_code == 404
    assert response.json()["error_code"] == "INVOICE_NOT_FOUND_ERROR"
    assert set(response.json()) == {"error_code", "message"}


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"external_id": ""}, 400, "API_VALIDATION_ERROR"),
        ({"amount": -1}, 400, "API_VALIDATION_ERROR"),
        ({"amount": "10"}, 400, "API_VALIDATION_ERROR"),
        ({"amount": 10.005}, 400, "API_VALIDATION_ERROR"),
        ({"currency": "EUR"}, 400, "UNSUPPORTED_CURRENCY"),
        ({"payer_email": "not-an-email"}, 400, "EMAIL_FORMAT_ERROR"),
        ({"invoice_duration": 0}, 400, "API_VALIDATION_ERROR"),
    ],
)
async def test_invalid_invoice_is_refused_with_a_xendit_error(
    http: httpx.AsyncClient, fields: dict[str, Any], status: int, code: str
) -> None:
    response = await create_invoice(http, **fields)
    assert (response.status_code, response.json()["error_code"]) == (status, code)


async def test_body_that_is_not_json_is_a_validation_error_not_a_500(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post("/v2/invoices", content=b"{oops")
    assert response.status_code == 400
    assert response.json()["error_code"] == "API_VALIDATION_ERROR"


async def test_idr_amount_with_decimals_is_truncated(http: httpx.AsyncClient) -> None:
    response = await create_invoice(http, amount=15000.75, currency="IDR")
    assert response.json()["amount"] == 15000


async def test_list_is_newest_first_and_filters_by_external_id_status_and_limit(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    ids = []
    for index in range(3):
        clock.now += 1
        ids.append((await create_invoice(http, external_id=f"e{index}")).json()["id"])
    await http.post(f"/invoices/{ids[0]}/expire!")
    everything = (await http.get("/v2/invoices")).json()
    by_external = (await http.get("/v2/invoices", params={"external_id": "e1"})).json()
    expired = (await http.get("/v2/invoices", params={"statuses": "EXPIRED"})).json()
    limited = (await http.get("/v2/invoices", params={"limit": 1})).json()
    after = (await http.get("/v2/invoices", params={"last_invoice": ids[2]})).json()
    assert [i["id"] for i in everything] == ids[::-1]
    assert [i["id"] for i in by_external] == [ids[1]]
    assert [i["id"] for i in expired] == [ids[0]]
    assert [i["id"] for i in limited] == [ids[2]]
    assert [i["id"] for i in after] == [ids[1], ids[0]]


async def test_expire_turns_a_pending_invoice_expired_and_a_paid_one_is_refused(
    app: XenditFakeApp, http: httpx.AsyncClient
) -> None:
    first = (await create_invoice(http)).json()
    second = (await create_invoice(http, external_id="topup-2")).json()
    app.pay_invoice(second["id"])
    expired = await http.post(f"/invoices/{first['id']}/expire!")
    refused = await http.post(f"/invoices/{second['id']}/expire!")
    assert expired.json()["status"] == "EXPIRED"
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "INVALID_STATUS_TRANSITION"


async def test_invoice_expires_when_the_injected_clock_passes_its_expiry(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    invoice = (await create_invoice(http, invoice_duration=600)).json()
    clock.now += 601
    assert (await http.get(f"/v2/invoices/{invoice['id']}")).json()["status"] == "EXPIRED"


async def test_paying_credits_the_cash_balance_in_the_invoice_currency(
    app: XenditFakeApp, http: httpx.AsyncClient
) -> None:
    invoice = (await create_invoice(http, amount=10.07)).json()
    paid = await http.post(f"/_fake/invoices/{invoice['id']}/pay")
    balance = await http.get("/balance", params={"currency": "USD"})
    assert paid.json()["status"] == "PAID"
    assert paid.json()["paid_amount"] == 10.07
    assert balance.json() == {"balance": 110.07}
    assert app.balance_minor("USD") == 110_07


async def test_paying_twice_is_refused_by_the_helper(http: httpx.AsyncClient) -> None:
    invoice = (await create_invoice(http)).json()
    await http.post(f"/_fake/invoices/{invoice['id']}/pay")
    again = await http.post(f"/_fake/invoices/{invoice['id']}/pay")
    missing = await http.post("/_fake/invoices/nope/pay")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_status_transition"
    assert missing.status_code == 404


async def test_balance_defaults_to_cash_in_the_default_currency_and_checks_its_arguments(
    http: httpx.AsyncClient,
) -> None:
    assert (await http.get("/balance")).json() == {"balance": 0}
    assert (await http.get("/balance", params={"account_type": "holding"})).json() == {"balance": 0}
    bad_type = await http.get("/balance", params={"account_type": "SAVINGS"})
    bad_currency = await http.get("/balance", params={"currency": "EUR"})
    assert bad_type.json()["error_code"] == "API_VALIDATION_ERROR"
    assert bad_currency.json()["error_code"] == "UNSUPPORTED_CURRENCY"


@pytest.mark.parametrize(
    "auth",
    [None, ("xnd_development_wrong", ""), ("xnd_production_payharness", ""), ("", "")],
)
async def test_requests_without_the_development_key_are_refused(
    app: XenditFakeApp, auth: tuple[str, str] | None
) -> None:
    async with httpx.AsyncClient(
        transport=in_process(app), base_url="http://xendit.test", auth=auth
    ) as client:
        response = await client.get("/balance")
    assert response.status_code == 401
    assert response.json()["error_code"] == "INVALID_API_KEY"


def test_a_production_key_cannot_even_be_configured() -> None:
    with pytest.raises(ValueError, match="production"):
        XenditConfig(secret_key="xnd_production_abc")


async def test_unknown_route_is_data_not_found(http: httpx.AsyncClient) -> None:
    response = await http.get("/v3/nothing")
    assert response.status_code == 404
    assert response.json()["error_code"] == "DATA_NOT_FOUND"


async def test_same_idempotency_key_and_body_replays_the_first_invoice(
    app: XenditFakeApp, http: httpx.AsyncClient
) -> None:
    headers = {"idempotency-key": "topup-1-attempt"}
    body = {"external_id": "topup-1", "amount": 10, "currency": "USD"}
    first = await http.post("/v2/invoices", json=body, headers=headers)
    again = await http.post("/v2/invoices", json=body, headers=headers)
    assert again.json() == first.json()
    assert len((await http.get("/v2/invoices")).json()) == 1
    assert [e.idempotency_key for e in app.journal.calls("POST")] == ["topup-1-attempt"] * 2


async def test_same_idempotency_key_with_another_body_is_a_duplicate_error(
    http: httpx.AsyncClient,
) -> None:
    headers = {"idempotency-key": "k-1"}
    await http.post("/v2/invoices", json={"external_id": "a", "amount": 10}, headers=headers)
    other = await http.post(
        "/v2/invoices", json={"external_id": "a", "amount": 11}, headers=headers
    )
    assert other.status_code == 400
    assert other.json()["error_code"] == "DUPLICATE_ERROR"


async def test_a_failed_request_does_not_burn_its_idempotency_key(http: httpx.AsyncClient) -> None:
    headers = {"idempotency-key": "k-2"}
    failed = await http.post("/v2/invoices", json={"external_id": "a"}, headers=headers)
    fixed = await http.post("/v2/invoices", json={"external_id": "a", "amount": 1}, headers=headers)
    assert failed.status_code == 400
    assert fixed.status_code == 200


async def test_injected_fault_answers_in_xendit_shape(http: httpx.AsyncClient) -> None:
    await http.post("/_fake/faults", json={"route": "invoices.create", "status": 500})
    response = await create_invoice(http)
    assert response.status_code == 500
    assert response.json()["error_code"] == "SERVER_ERROR"


def test_two_instances_do_not_share_invoices_or_balances(clock: Clock) -> None:
    first, second = create_app(XenditConfig(now=clock)), create_app(XenditConfig(now=clock))
    invoice = first.processor.invoices.create({"external_id": "x", "amount": 100})
    first.processor.invoices.pay(invoice.id)
    assert first.balance_minor("IDR") == 100
    assert second.balance_minor("IDR") == 0
    assert second.processor.invoices.list([]) == []


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [(Decimal("10.07"), "USD", 1007), (10, "USD", 1000), (Decimal("15000.9"), "IDR", 15000)],
)
def test_amounts_convert_exactly_between_json_and_minor_units(
    value: Decimal | int, currency: str, minor: int
) -> None:
    assert to_minor(value, currency) == minor
    assert to_minor(Decimal(str(from_minor(minor, currency))), currency) == minor
