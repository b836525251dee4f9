"""Subscription checkout, completion, renewal, updates, cancellation, invoices and events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fakes._common import FakeError
from fakes.stripe import StripeConfig, StripeFakeApp, create_app

AUTH = {"authorization": "Bearer sk_test_payharness"}
MONTH = 30 * 86_400
START = 1_700_000_000  # 2023-11-14T22:13:20Z


def client_for(app: StripeFakeApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://stripe.test", headers=AUTH
    )


def inline_price(amount: int = 2000) -> dict[str, str]:
    return {
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": str(amount),
        "line_items[0][price_data][recurring][interval]": "month",
        "line_items[0][price_data][product_data][name]": "Pro",
    }


async def start_checkout(client: httpx.AsyncClient, **extra: str) -> tuple[str, dict[str, Any]]:
    customer = (await client.post("/v1/customers", data={"email": "a@example.com"})).json()
    data = {
        "mode": "subscription",
        "customer": customer["id"],
        "client_reference_id": "acc_1",
        "success_url": "https://example.com/ok",
        "metadata[account_id]": "acc_1",
        "subscription_data[metadata][account_id]": "acc_1",
        "subscription_data[metadata][plan]": "pro",
        **inline_price(),
        **extra,
    }
    response = await client.post("/v1/checkout/sessions", data=data)
    assert response.status_code == 200, response.text
    return customer["id"], response.json()


async def test_a_subscription_checkout_opens_with_its_total_and_a_url() -> None:
    async with client_for(create_app()) as client:
        customer_id, session = await start_checkout(client)
    assert session["id"].startswith("cs_test_")
    assert (session["status"], session["payment_status"], session["mode"]) == (
        "open",
        "unpaid",
        "subscription",
    )
    assert (session["amount_total"], session["currency"], session["customer"]) == (
        2000,
        "usd",
        customer_id,
    )
    assert session["client_reference_id"] == "acc_1"
    assert session["url"].endswith(session["id"])


async def test_a_saved_price_can_be_used_instead_of_price_data() -> None:
    async with client_for(create_app()) as client:
        product = (await client.post("/v1/products", data={"name": "Team"})).json()
        price = (
            await client.post(
                "/v1/prices",
                data={
                    "currency": "usd",
                    "unit_amount": "9900",
                    "product": product["id"],
                    "recurring[interval]": "month",
                },
            )
        ).json()
        customer = (await client.post("/v1/customers", data={})).json()
        session = await client.post(
            "/v1/checkout/sessions",
            data={
                "mode": "subscription",
                "customer": customer["id"],
                "success_url": "https://example.com/ok",
                "line_items[0][price]": price["id"],
                "line_items[0][quantity]": "2",
            },
        )
        items = (
            await client.get(f"/v1/checkout/sessions/{session.json()['id']}/line_items")
        ).json()
    assert price["id"].startswith("price_") and price["type"] == "recurring"
    assert session.json()["amount_total"] == 19800
    assert items["data"][0]["price"]["id"] == price["id"]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"mode": "donation"}, "mode"),
        ({"mode": "payment"}, "line_items[0][price]"),  # a recurring price in payment mode
        ({"customer": "cus_nobody"}, "customer"),
        (
            {"line_items[0][price_data][recurring][interval]": "fortnight"},
            "line_items[0][price_data][recurring][interval]",
        ),
        ({"line_items[0][price]": "price_nope"}, "line_items[0][price]"),
        ({"line_items[0][quantity]": "zero"}, "line_items[0][quantity]"),
    ],
)
async def test_bad_checkout_params_are_400_with_the_param_named(
    change: dict[str, str], param: str
) -> None:
    async with client_for(create_app()) as client:
        customer = (await client.post("/v1/customers", data={})).json()
        data = {"mode": "subscription", "customer": customer["id"], **inline_price(), **change}
        response = await client.post("/v1/checkout/sessions", data=data)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_completing_a_checkout_creates_an_active_subscription_and_a_paid_invoice() -> None:
    app = create_app(StripeConfig(now=lambda: START))
    async with client_for(app) as client:
        customer_id, session = await start_checkout(client)
        done = await client.post(f"/_fake/checkout/sessions/{session['id']}/complete")
        subscription = (await client.get(f"/v1/subscriptions/{done.json()['subscription']}")).json()
        invoice = (await client.get(f"/v1/invoices/{done.json()['invoice']}")).json()

    assert (done.status_code, done.json()["status"], done.json()["payment_status"]) == (
        200,
        "complete",
        "paid",
    )
    assert subscription["id"].startswith("sub_") and subscription["status"] == "active"
    assert subscription["metadata"] == {"account_id": "acc_1", "plan": "pro"}
    item = subscription["items"]["data"][0]
    assert (item["price"]["unit_amount"], item["price"]["recurring"]["interval"]) == (2000, "month")
    assert item["current_period_end"] == START + MONTH  # Nov 14 -> Dec 14
    assert invoice["id"].startswith("in_")
    assert (invoice["status"], invoice["amount_paid"], invoice["currency"]) == ("paid", 2000, "usd")
    assert invoice["customer"] == customer_id
    assert "subscription" not in invoice  # moved to parent.subscription_details in 2025-03-31.basil
    assert invoice["parent"] == {
        "type": "subscription_details",
        "quote_details": None,
        "subscription_details": {
            "metadata": {"account_id": "acc_1", "plan": "pro"},
            "subscription": subscription["id"],
        },
    }
    assert invoice["billing_reason"] == "subscription_create"


# What a completed subscription checkout emits, oldest first (the invoice's life and its card payment).
CHECKOUT_EVENTS = [
    "checkout.session.completed",
    "customer.subscription.created",
    "invoice.created",
    "invoice.finalized",
    "payment_intent.created",
    "charge.succeeded",
    "payment_intent.succeeded",
    "invoice.paid",
    "invoice.payment_succeeded",
]


async def test_completion_emits_session_subscription_and_invoice_events_in_order() -> None:
    app = create_app()
    async with client_for(app) as client:
        _, session = await start_checkout(client)
        await client.post(f"/_fake/checkout/sessions/{session['id']}/complete")
        events = (await client.get("/v1/events", params={"limit": 9})).json()["data"]
    assert [e["type"] for e in reversed(events)] == CHECKOUT_EVENTS
    completed = events[-1]
    assert completed["data"]["object"]["id"] == session["id"]
    assert completed["object"] == "event" and completed["livemode"] is False
    assert completed["api_version"] == "2025-11-17.clover"


async def test_completing_twice_or_an_unknown_session_fails_with_a_stable_code() -> None:
    app = create_app()
    async with client_for(app) as client:
        _, session = await start_checkout(client)
        await client.post(f"/_fake/checkout/sessions/{session['id']}/complete")
        again = await client.post(f"/_fake/checkout/sessions/{session['id']}/complete")
        unknown = await client.post("/_fake/checkout/sessions/cs_test_nope/complete")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "checkout_session_not_open")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (
        404,
        "unknown_checkout_session",
    )
    with pytest.raises(FakeError):
        app.complete_checkout_session(session["id"])


async def test_a_checkout_without_a_customer_creates_one_from_the_email() -> None:
    app = create_app()
    async with client_for(app) as client:
        data = {"mode": "subscription", "customer_email": "new@example.com", **inline_price()}
        session = (await client.post("/v1/checkout/sessions", data=data)).json()
    done = app.complete_checkout_session(session["id"])
    assert app.state.customers[done["customer"]]["email"] == "new@example.com"


async def test_a_credit_balance_is_applied_to_the_invoice_first() -> None:
    app = create_app()
    async with client_for(app) as client:
        customer_id, session = await start_checkout(client)
        await client.post(
            f"/v1/customers/{customer_id}/balance_transactions",
            data={"amount": "-500", "currency": "usd"},
        )
        done = app.complete_checkout_session(session["id"])
        invoice = (await client.get(f"/v1/invoices/{done['invoice']}")).json()
        customer = (await client.get(f"/v1/customers/{customer_id}")).json()
    assert (
        invoice["total"],
        invoice["amount_paid"],
        invoice["starting_balance"],
        invoice["ending_balance"],
    ) == (
        2000,
        1500,
        -500,
        0,
    )
    assert customer["balance"] == 0


async def test_renewal_bills_the_next_period_and_emits_invoice_paid() -> None:
    app = create_app(StripeConfig(now=lambda: START))
    async with client_for(app) as client:
        customer_id, session = await start_checkout(client)
        done = app.complete_checkout_session(session["id"])
        renewed = await client.post(f"/_fake/subscriptions/{done['subscription']}/renew")
        invoices = (await client.get("/v1/invoices", params={"customer": customer_id})).json()
        subscription = (await client.get(f"/v1/subscriptions/{done['subscription']}")).json()
    assert renewed.json()["billing_reason"] == "subscription_cycle"
    assert [i["id"] for i in invoices["data"]] == [renewed.json()["id"], done["invoice"]]
    assert subscription["latest_invoice"] == renewed.json()["id"]
    assert subscription["items"]["data"][0]["current_period_start"] == START + MONTH
    assert [e["type"] for e in app.events()[-7:]] == CHECKOUT_EVENTS[2:]


async def test_updating_a_subscription_emits_updated_with_previous_attributes() -> None:
    app = create_app()
    async with client_for(app) as client:
        _, session = await start_checkout(client)
        sub_id = app.complete_checkout_session(session["id"])["subscription"]
        updated = await client.post(
            f"/v1/subscriptions/{sub_id}",
            data={"metadata[plan]": "team", "cancel_at_period_end": "true"},
        )
    assert updated.json()["metadata"] == {"account_id": "acc_1", "plan": "team"}
    assert updated.json()["cancel_at_period_end"] is True
    event = app.events()[-1]
    assert event["type"] == "customer.subscription.updated"
    assert event["data"]["previous_attributes"]["metadata"]["plan"] == "pro"
    assert event["data"]["previous_attributes"]["cancel_at_period_end"] is False


async def test_changing_the_price_of_an_item_upgrades_the_plan() -> None:
    app = create_app()
    async with client_for(app) as client:
        _, session = await start_checkout(client)
        sub_id = app.complete_checkout_session(session["id"])["subscription"]
        sub = (await client.get(f"/v1/subscriptions/{sub_id}")).json()
        product = sub["items"]["data"][0]["price"]["product"]
        team = (
            await client.post(
                "/v1/prices",
                data={
                    "currency": "usd",
                    "unit_amount": "5000",
                    "product": product,
                    "recurring[interval]": "month",
                },
            )
        ).json()
        item_id = sub["items"]["data"][0]["id"]
        updated = await client.post(
            f"/v1/subscriptions/{sub_id}",
            data={"items[0][id]": item_id, "items[0][price]": team["id"]},
        )
    assert updated.json()["items"]["data"][0]["price"]["id"] == team["id"]


async def test_cancelling_a_subscription_emits_deleted_and_hides_it_from_default_lists() -> None:
    app = create_app()
    async with client_for(app) as client:
        customer_id, session = await start_checkout(client)
        sub_id = app.complete_checkout_session(session["id"])["subscription"]
        cancelled = await client.delete(f"/v1/subscriptions/{sub_id}")
        again = await client.delete(f"/v1/subscriptions/{sub_id}")
        default = (await client.get("/v1/subscriptions", params={"customer": customer_id})).json()
        everything = (await client.get("/v1/subscriptions", params={"status": "all"})).json()
        renew = await client.post(f"/_fake/subscriptions/{sub_id}/renew")
    assert cancelled.json()["status"] == "canceled" and cancelled.json()["canceled_at"] is not None
    assert again.status_code == 400
    assert app.events()[-1]["type"] == "customer.subscription.deleted"
    assert default["data"] == [] and [s["id"] for s in everything["data"]] == [sub_id]
    assert (renew.status_code, renew.json()["error"]["code"]) == (409, "subscription_not_active")


async def test_expanding_the_invoice_subscription_returns_the_object() -> None:
    app = create_app()
    async with client_for(app) as client:
        customer_id, session = await start_checkout(client)
        done = app.complete_checkout_session(session["id"])
        listed = (
            await client.get(
                "/v1/invoices",
                params={
                    "customer": customer_id,
                    "expand[]": "data.parent.subscription_details.subscription",
                },
            )
        ).json()
    details = listed["data"][0]["parent"]["subscription_details"]
    assert details["subscription"]["id"] == done["subscription"]


async def test_events_can_be_filtered_by_type_and_retrieved_by_id() -> None:
    app = create_app()
    async with client_for(app) as client:
        _, session = await start_checkout(client)
        app.complete_checkout_session(session["id"])
        paid = (await client.get("/v1/events", params={"type": "invoice.*"})).json()
        several = (
            await client.get(
                "/v1/events", params={"types[0]": "invoice.paid", "types[1]": "customer.created"}
            )
        ).json()
        one = (await client.get(f"/v1/events/{paid['data'][0]['id']}")).json()
        missing = await client.get("/v1/events/evt_nope")
    assert [e["type"] for e in paid["data"]] == [
        "invoice.payment_succeeded",
        "invoice.paid",
        "invoice.finalized",
        "invoice.created",
    ]
    assert sorted(e["type"] for e in several["data"]) == ["customer.created", "invoice.paid"]
    assert one == paid["data"][0]
    assert missing.status_code == 404


async def test_events_paginate_newest_first() -> None:
    app = create_app()
    async with client_for(app) as client:
        for n in range(5):
            await client.post("/v1/customers", data={"email": f"{n}@example.com"})
        first = (await client.get("/v1/events", params={"limit": 2})).json()
        rest = (
            await client.get(
                "/v1/events", params={"limit": 10, "starting_after": first["data"][-1]["id"]}
            )
        ).json()
    emails = [e["data"]["object"]["email"] for e in first["data"] + rest["data"]]
    assert emails == [f"{n}@example.com" for n in (4, 3, 2, 1, 0)]
    assert first["has_more"] is True and rest["has_more"] is False
    assert first["url"] == "/v1/events"
