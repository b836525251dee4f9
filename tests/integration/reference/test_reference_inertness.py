"""Dormant means inert: every money route refuses with `payments_not_live`, nothing moves, routes stay."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from reference_support import (
    ADMIN,
    ALL_RAILS,
    ServiceFactory,
    count_ledger_entries,
    count_rows,
    deliver_stripe,
    deliver_xendit,
    insert_topup,
    metric,
    new_account,
    stripe_funded,
    xendit_invoice,
)

from harness.reference.models import Receipt, Settlement, WebhookEvent

RAILS = ("stripe", "xendit", "cdp")
SETTLE_OUTCOMES = ("settled", "failed", "unconfirmed", "skipped")


def money_requests(account_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, httpx kwargs) of every money route, each with a body that would be valid when live."""
    requests: list[tuple[str, str, dict[str, Any]]] = []
    for rail in RAILS:
        requests.append(
            (
                "POST",
                f"/v1/payments/topup/{rail}",
                {"json": {"account_id": account_id, "amount_micros": 5_000_000}},
            )
        )
        requests.append(
            (
                "POST",
                f"/v1/payments/webhook/{rail}",
                {"content": b"{}", "headers": {"content-type": "application/json"}},
            )
        )
        requests.append(
            ("POST", f"/admin/reconcile/{rail}", {"headers": {"X-Admin-Secret": ADMIN}})
        )
    requests.append(
        ("POST", "/v1/payments/topup/cdp/top_any/pay", {"headers": {"X-PAYMENT": "e30="}})
    )
    requests.append(
        (
            "POST",
            "/v1/billing/checkout",
            {"json": {"account_id": account_id, "plan": "pro", "rail": "stripe"}},
        )
    )
    requests.append(("POST", "/v1/charges", {"json": {"inference_id": "inf_dormant"}}))
    return requests


async def settle_counts(client: httpx.AsyncClient) -> dict[str, float]:
    return {o: metric(client, "payments_settle_at_close_total", outcome=o) for o in SETTLE_OUTCOMES}


@pytest.mark.parametrize("flag", [False, True], ids=["dormant", "live"])
async def test_every_money_route_answers_payments_not_live_only_when_dormant(
    make_service: ServiceFactory, flag: bool
) -> None:
    # no outbound retries: a live reconcile of xendit reaches for a processor that is not there
    client = await make_service(payments_live=flag, outbound_max_retries=0, **ALL_RAILS)
    account = await new_account(client, balance=1_000_000)
    r = await client.post(
        "/v1/outcomes",
        json={"inference_id": "inf_dormant", "account_id": account, "cost_micros": 100},
    )
    assert r.status_code == 201
    for method, path, kwargs in money_requests(account):
        if flag and "/topup/" in path and not path.endswith("/pay"):
            continue  # live top-ups call the processor; that is the rails' own tests' business
        if flag and path == "/v1/billing/checkout":
            continue
        r = await client.request(method, path, **kwargs)
        code = r.json().get("error", {}).get("code") if r.status_code >= 400 else None
        if flag:
            assert code != "payments_not_live", f"{method} {path} -> {r.status_code} {r.text}"
        else:
            assert (r.status_code, code) == (503, "payments_not_live"), f"{method} {path}"


async def test_dormant_service_writes_no_ledger_entry_and_settles_nothing(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(payments_live=False, **ALL_RAILS)
    account = await new_account(client, balance=1_000_000)
    await client.post(
        "/v1/outcomes",
        json={"inference_id": "inf_dormant", "account_id": account, "cost_micros": 100},
    )
    await insert_topup(client, account, rail="xendit", amount_micros=5_000_000, topup_id="top_d1")
    entries_before = await count_ledger_entries(client)
    settles_before = await settle_counts(client)

    for method, path, kwargs in money_requests(account):
        await client.request(method, path, **kwargs)
    # correctly signed deliveries that would credit money when live are refused too
    r = await deliver_stripe(
        client, stripe_funded("evt_d1", txn_id="ccsbtxn_d1", amount_cents=500, reference="top_d1")
    )
    assert r.json()["error"]["code"] == "payments_not_live"
    r = await deliver_xendit(
        client, xendit_invoice(invoice_id="inv_d1", external_id="top_d1", amount=5)
    )
    assert r.json()["error"]["code"] == "payments_not_live"
    for stream in (False, True):
        r = await client.post(
            "/v1/usage",
            json={"account_id": account, "charges_micros": [100, 200], "stream": stream},
        )
        assert r.status_code == 200

    assert await count_ledger_entries(client) == entries_before
    assert await count_rows(client, WebhookEvent) == 0
    assert await count_rows(client, Receipt) == 0
    assert await count_rows(client, Settlement) == 0
    assert await settle_counts(client) == settles_before
    balance = (await client.get(f"/v1/accounts/{account}")).json()
    assert (balance["balance_micros"], balance["lifetime_paid_micros"]) == (1_000_000, 0)


async def test_dormant_usage_is_served_for_free(make_service: ServiceFactory) -> None:
    client = await make_service(payments_live=False)
    account = await new_account(client, balance=50)
    r = await client.post("/v1/usage", json={"account_id": account, "charges_micros": [100, 200]})
    assert r.status_code == 200
    body = r.json()
    assert body["live"] is False
    assert body["spent_micros"] == 0
    assert body["output"] == ["unit 0", "unit 1"]
    assert (await client.get(f"/v1/accounts/{account}")).json()["balance_micros"] == 50


def registered_routes(client: httpx.AsyncClient) -> set[tuple[str, str]]:
    """(method, path) of every route, from the document FastAPI generates out of the routes themselves
    (the service serves the pinned contract file at /openapi.json, which would hide a missing route)."""
    paths = FastAPI.openapi(client.app)["paths"]  # type: ignore[attr-defined]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


async def test_routes_are_registered_the_same_whether_live_or_dormant(
    make_service: ServiceFactory,
) -> None:
    dormant = await make_service(payments_live=False)
    live = await make_service(payments_live=True, **ALL_RAILS)
    assert registered_routes(dormant) == registered_routes(live)
    for route in (
        ("POST", "/v1/payments/webhook/{rail}"),
        ("POST", "/v1/payments/topup/{rail}"),
        ("POST", "/v1/payments/topup/cdp/{topup_id}/pay"),
        ("POST", "/v1/billing/checkout"),
        ("POST", "/v1/charges"),
        ("POST", "/admin/reconcile/{rail}"),
    ):
        assert route in registered_routes(dormant)
    served = [(await c.get("/openapi.json")).json()["paths"] for c in (dormant, live)]
    assert served[0] == served[1]


async def test_status_reports_dormant_and_which_rails_are_configured(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(payments_live=False, stripe=ALL_RAILS["stripe"])
    r = await client.get("/v1/payments/status")
    assert r.json() == {
        "live": False,
        "rails": {
            "stripe": {"configured": True},
            "cdp": {"configured": False},
            "xendit": {"configured": False},
        },
    }


async def test_live_but_unconfigured_rail_says_rail_not_configured(
    service: httpx.AsyncClient,
) -> None:
    account = await new_account(service)
    for rail in RAILS:
        r = await service.post(
            f"/v1/payments/topup/{rail}", json={"account_id": account, "amount_micros": 10_000}
        )
        assert (r.status_code, r.json()["error"]["code"]) == (503, "rail_not_configured"), rail
        r = await service.post(f"/v1/payments/webhook/{rail}", content=b"{}")
        assert (r.status_code, r.json()["error"]["code"]) == (503, "rail_not_configured"), rail
    assert (await service.get("/v1/payments/status")).json()["live"] is True


async def test_live_checkout_and_pay_on_unconfigured_rails_say_rail_not_configured(
    service: httpx.AsyncClient,
) -> None:
    account = await new_account(service)
    r = await service.post(
        "/v1/billing/checkout", json={"account_id": account, "plan": "pro", "rail": "xendit"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (503, "rail_not_configured")
    r = await service.post("/v1/payments/topup/cdp/top_x/pay")
    assert (r.status_code, r.json()["error"]["code"]) == (503, "rail_not_configured")


async def test_live_reconcile_of_an_unconfigured_rail_answers_a_result_not_an_error(
    service: httpx.AsyncClient,
) -> None:
    r = await service.post("/admin/reconcile/stripe", headers={"X-Admin-Secret": ADMIN})
    assert r.status_code == 200
    assert r.json()["status"] == "not_configured"
