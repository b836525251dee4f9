"""The ledger: positive amounts with a kind, newest first, `balance == sum(ledger)` after every operation;
the admin adjustment is an absolute setter that never counts as money paid."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from reference_support import (
    ADMIN,
    ALL_RAILS,
    ServiceFactory,
    adjust_balance,
    deliver_stripe,
    ledger,
    ledger_sum,
    map_stripe_customer,
    new_account,
    stripe_funded,
)


async def assert_ledger_consistent(client: httpx.AsyncClient, account_id: str) -> None:
    """balance == signed sum; every amount > 0 with a kind; newest first with a running balance."""
    body = await ledger(client, account_id)
    entries: list[dict[str, Any]] = body["entries"]
    assert body["balance_micros"] == sum(e["signed_amount_micros"] for e in entries)
    account = (await client.get(f"/v1/accounts/{account_id}")).json()
    assert account["balance_micros"] == body["balance_micros"]
    for e in entries:
        assert e["amount_micros"] > 0
        assert e["kind"] in ("credit", "debit", "adjustment")
        assert e["signed_amount_micros"] == e["direction"] * e["amount_micros"]
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True), "entries are newest first"
    if entries:
        assert entries[0]["balance_after_micros"] == body["balance_micros"]
    for newer, older in itertools.pairwise(entries):
        assert (
            older["balance_after_micros"] + newer["signed_amount_micros"]
            == (newer["balance_after_micros"])
        )


async def test_balance_equals_the_ledger_sum_after_every_kind_of_operation(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(**ALL_RAILS)
    account = await new_account(client)
    await map_stripe_customer(client, account, "cus_ledger")
    await assert_ledger_consistent(client, account)

    steps: list[tuple[str, dict[str, Any]]] = [
        ("adjust", {"balance_micros": 1_000_000}),
        ("credit", {"event": "evt_l1", "txn": "ccsbtxn_l1", "cents": 250}),
        ("charge", {"inference_id": "inf_l1", "cost_micros": 123_457, "margin_bps": 2_500}),
        ("usage", {"charges_micros": [1_000, 2_000, 3_000]}),
        ("adjust", {"balance_micros": -5_000}),
        ("credit", {"event": "evt_l2", "txn": "ccsbtxn_l2", "cents": 1}),
        ("charge", {"inference_id": "inf_zero", "cost_micros": 0, "margin_bps": 2_500}),
        ("adjust", {"balance_micros": 42}),
        ("adjust", {"balance_micros": 42}),
    ]
    for kind, args in steps:
        if kind == "adjust":
            await adjust_balance(client, account, args["balance_micros"])
        elif kind == "credit":
            body = stripe_funded(
                args["event"], txn_id=args["txn"], amount_cents=args["cents"], customer="cus_ledger"
            )
            assert (await deliver_stripe(client, body)).json()["status"] == "applied"
        elif kind == "charge":
            await client.post(
                "/v1/outcomes",
                json={
                    "inference_id": args["inference_id"],
                    "account_id": account,
                    "cost_micros": args["cost_micros"],
                },
            )
            r = await client.post(
                "/v1/charges",
                json={"inference_id": args["inference_id"], "margin_bps": args["margin_bps"]},
            )
            assert r.status_code == 200, r.text
        else:
            r = await client.post(
                "/v1/usage", json={"account_id": account, "charges_micros": args["charges_micros"]}
            )
            assert r.status_code == 200, r.text
        await assert_ledger_consistent(client, account)

    entries = (await ledger(client, account))["entries"]
    # adjust, credit, charge, usage settle, adjust, credit, adjust (zero charge and no-op adjust add none)
    assert [e["kind"] for e in reversed(entries)] == [
        "adjustment",
        "credit",
        "debit",
        "debit",
        "adjustment",
        "credit",
        "adjustment",
    ]
    assert (await ledger_sum(client, account))[0] == 42


async def test_ledger_limit_returns_the_newest_entries(service: httpx.AsyncClient) -> None:
    account = await new_account(service)
    for balance in (10, 20, 30):
        await adjust_balance(service, account, balance)
    r = await service.get(f"/v1/accounts/{account}/ledger", params={"limit": 2})
    entries = r.json()["entries"]
    assert [e["balance_after_micros"] for e in entries] == [30, 20]


async def test_ledger_of_an_unknown_account_is_404(service: httpx.AsyncClient) -> None:
    r = await service.get("/v1/accounts/acct_missing/ledger")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "account_not_found")


# ---------------------------------------------------------------- admin balance adjust


async def test_admin_adjust_sets_an_absolute_balance_through_one_adjustment_entry(
    service: httpx.AsyncClient,
) -> None:
    account = await new_account(service, balance=700)
    r = await service.post(
        "/admin/balance-adjust",
        json={"account_id": account, "balance_micros": 250, "reason": "goodwill correction"},
        headers={"X-Admin-Secret": ADMIN},
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["old_balance_micros"], body["new_balance_micros"]) == (700, 250)
    entry = body["entry"]
    assert (entry["kind"], entry["direction"], entry["amount_micros"]) == ("adjustment", -1, 450)
    assert entry["source"] == "admin"
    assert await ledger_sum(service, account) == (250, 250, 2)


async def test_admin_adjust_may_set_a_negative_balance(service: httpx.AsyncClient) -> None:
    account = await new_account(service, balance=100)
    await adjust_balance(service, account, -300)
    assert await ledger_sum(service, account) == (-300, -300, 2)
    entries = (await ledger(service, account))["entries"]
    assert entries[0]["amount_micros"] == 400


async def test_admin_adjust_to_the_current_balance_writes_no_entry(
    service: httpx.AsyncClient,
) -> None:
    account = await new_account(service, balance=100)
    r = await service.post(
        "/admin/balance-adjust",
        json={"account_id": account, "balance_micros": 100, "reason": "no-op"},
        headers={"X-Admin-Secret": ADMIN},
    )
    assert r.json()["entry"] is None
    assert await ledger_sum(service, account) == (100, 100, 1)


async def test_admin_adjust_never_moves_lifetime_paid(service: httpx.AsyncClient) -> None:
    account = await new_account(service)
    for balance in (5_000_000, 9_000_000, 0, 1):
        await adjust_balance(service, account, balance)
    assert (await service.get(f"/v1/accounts/{account}")).json()["lifetime_paid_micros"] == 0


async def test_admin_adjust_without_the_right_secret_is_401_and_changes_nothing(
    service: httpx.AsyncClient,
) -> None:
    account = await new_account(service, balance=100)
    for secret in (None, "", "wrong-secret", ADMIN + "x", ADMIN.upper()):
        headers = {} if secret is None else {"X-Admin-Secret": secret}
        r = await service.post(
            "/admin/balance-adjust",
            json={"account_id": account, "balance_micros": 10**9, "reason": "steal"},
            headers=headers,
        )
        assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized"), secret
    assert await ledger_sum(service, account) == (100, 100, 1)


async def test_admin_adjust_is_refused_when_no_admin_secret_is_configured(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(admin_secret=None)
    r = await client.post(
        "/admin/balance-adjust",
        json={"account_id": "acct_x", "balance_micros": 1, "reason": "x"},
        headers={"X-Admin-Secret": ""},
    )
    assert r.status_code == 401


async def test_admin_adjust_of_an_unknown_account_is_404(service: httpx.AsyncClient) -> None:
    r = await service.post(
        "/admin/balance-adjust",
        json={"account_id": "acct_missing", "balance_micros": 1, "reason": "x"},
        headers={"X-Admin-Secret": ADMIN},
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "account_not_found")


MALFORMED_ADJUSTMENTS = [
    b"{not json",
    b"[]",
    b'{"account_id": "a", "balance_micros": "lots", "reason": "x"}',
    b'{"account_id": "a", "balance_micros": 1.5, "reason": "x"}',
    b'{"account_id": "a", "balance_micros": 1}',
    b'{"account_id": "a", "balance_micros": 1, "reason": ""}',
    b'{"account_id": "a", "balance_micros": 1, "reason": "x", "extra": 1}',
    b'{"account_id": "a", "balance_micros": 10000000000000000, "reason": "x"}',
    b"",
]


async def test_malformed_admin_adjust_is_400(service: httpx.AsyncClient) -> None:
    for body in MALFORMED_ADJUSTMENTS:
        r = await service.post(
            "/admin/balance-adjust",
            content=body,
            headers={"X-Admin-Secret": ADMIN, "content-type": "application/json"},
        )
        assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_request"), body


async def test_reconcile_names_an_unknown_rail_first_then_wants_the_admin_secret(
    service: httpx.AsyncClient,
) -> None:
    r = await service.post("/admin/reconcile/paypal")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_rail")
    r = await service.post("/admin/reconcile/stripe", headers={"X-Admin-Secret": "wrong"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized")
