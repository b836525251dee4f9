"""Issue 12 class 4 on SQLite and PostgreSQL: input a database cannot hold, signed events out of range, JSON
nested 100,000 levels, racing Idempotency-Keys, concurrent plan events and oversized headers all answer 4xx
in the error shape, never a 5xx a processor would retry for days."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from reference_support import (
    ADMIN,
    ALL_RAILS,
    CDP,
    cdp_transfer,
    deliver_cdp,
    deliver_stripe,
    deliver_xendit,
    hook0_header,
    new_account,
    stripe_funded,
    stripe_invoice_paid,
    stripe_subscription_deleted,
    xendit_invoice,
)

Factory = Callable[..., Awaitable[httpx.AsyncClient]]
CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "payments.openapi.json"
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture
async def rails(make_service: Factory) -> httpx.AsyncClient:
    return await make_service(**ALL_RAILS)


def error_code(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def operations() -> list[tuple[str, str]]:
    paths = json.loads(CONTRACT.read_text())["paths"]
    return [
        (m.upper(), p) for p, ops in paths.items() for m in ops if m in ("get", "post", "delete")
    ]


# ---------------------------------------------------------------- NUL and lone surrogates


async def test_a_nul_in_any_path_or_query_is_400_on_every_route(rails: httpx.AsyncClient) -> None:
    for method, path in operations():
        has_param = "{" in path
        url = re.sub(r"\{[a-z_]+\}", "a%00b", path)
        for target in ([url] if has_param else []) + [f"{url}?account_id=a%00b"]:
            r = await rails.request(method, target, headers={"X-Admin-Secret": ADMIN})
            assert error_code(r) == (400, "invalid_request"), (method, target, r.text)


BODY_ROUTES: list[tuple[str, dict[str, Any]]] = [
    ("/v1/accounts", {"email": "a{}b@example.com"}),
    ("/v1/outcomes", {"inference_id": "i{}", "account_id": "a", "cost_micros": 1}),
    ("/v1/charges", {"inference_id": "i{}"}),
    ("/v1/usage", {"account_id": "a{}", "charges_micros": [1]}),
    ("/v1/payments/topup/stripe", {"account_id": "a{}", "amount_micros": 1_000_000}),
    ("/v1/billing/checkout", {"account_id": "a{}", "plan": "pro"}),
    ("/admin/balance-adjust", {"account_id": "a{}", "balance_micros": 1, "reason": "r"}),
]


@pytest.mark.parametrize("bad", ["\x00", "\ud800"], ids=["nul", "lone_surrogate"])
async def test_an_unstorable_string_in_any_json_body_is_400(
    rails: httpx.AsyncClient, bad: str
) -> None:
    for path, template in BODY_ROUTES:
        body = {k: v.replace("{}", bad) if isinstance(v, str) else v for k, v in template.items()}
        raw = json.dumps(body).encode()  # \u0000 and \ud800 escapes: valid JSON, unstorable text
        r = await rails.post(
            path,
            content=raw,
            headers={"content-type": "application/json", "X-Admin-Secret": ADMIN},
        )
        assert r.status_code == 400, (path, r.text)
        assert r.json()["error"]["code"] in ("invalid_json", "invalid_request"), path


# ---------------------------------------------------------------- 100,000 levels of JSON


async def test_json_nested_100000_levels_is_400_on_every_json_route(
    rails: httpx.AsyncClient,
) -> None:
    for path, _ in BODY_ROUTES:
        r = await rails.post(
            path,
            content=DEEP,
            headers={"content-type": "application/json", "X-Admin-Secret": ADMIN},
        )
        assert r.status_code == 400, (path, r.text)
        assert "code" in r.json()["error"]
    # usage even while payments are dormant
    dormant = await rails.post(
        "/v1/usage", content=DEEP, headers={"content-type": "application/json"}
    )
    assert dormant.status_code == 400


async def test_signed_webhooks_nested_100000_levels_are_invalid_payload(
    rails: httpx.AsyncClient,
) -> None:
    stripe = await deliver_stripe(rails, DEEP)
    xendit = await rails.post(
        "/v1/payments/webhook/xendit",
        content=DEEP,
        headers={
            "content-type": "application/json",
            "x-callback-token": ALL_RAILS["xendit"].callback_token,
        },
    )
    headers = {"content-type": "application/json", "x-event-id": "e1", "x-event-type": "t"}
    headers["X-Hook0-Signature"] = hook0_header(DEEP, headers)
    cdp = await rails.post("/v1/payments/webhook/cdp", content=DEEP, headers=headers)
    for r in (stripe, xendit, cdp):
        assert error_code(r) == (400, "invalid_payload"), r.text


async def test_an_x_payment_nested_too_deeply_is_refused_not_a_crash(
    rails: httpx.AsyncClient,
) -> None:
    deep = base64.b64encode(b"[" * 5_000 + b"]" * 5_000).decode()
    r = await rails.post("/v1/usage", json={"charges_micros": [1]}, headers={"X-PAYMENT": deep})
    assert error_code(r) == (400, "invalid_payment")
    huge = base64.b64encode(
        DEEP
    ).decode()  # 266 KB: past the header limit before anything parses it
    r = await rails.post("/v1/usage", json={"charges_micros": [1]}, headers={"X-PAYMENT": huge})
    assert error_code(r) == (431, "request_header_fields_too_large")


# ---------------------------------------------------------------- signed events out of range


async def test_signed_events_out_of_range_are_invalid_payload_and_move_no_money(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails)
    answers = [
        await deliver_stripe(
            rails, stripe_funded("evt_big", txn_id="ccsbtxn_big", amount_cents=10**17)
        ),
        await deliver_stripe(
            rails, stripe_funded("evt_\ud800", txn_id="ccsbtxn_s", amount_cents=100)
        ),
        await deliver_stripe(
            rails, stripe_funded("evt_" + "x" * 300, txn_id="ccsbtxn_l", amount_cents=100)
        ),
        await deliver_stripe(
            rails, stripe_funded("evt_cur", txn_id="ccsbtxn_c", amount_cents=100, currency="u" * 9)
        ),
        await deliver_xendit(
            rails, xendit_invoice(invoice_id="inv_big", external_id="top_x", amount=1e30)
        ),
        await deliver_cdp(
            rails, cdp_transfer(transaction="0xbig", value_micros=10**30, nonce="n"), event_id="c1"
        ),
        await deliver_cdp(
            rails,
            cdp_transfer(transaction="0x" + "f" * 300, value_micros=1, nonce="n"),
            event_id="c2",
        ),
    ]
    for r in answers:
        assert error_code(r) == (400, "invalid_payload"), r.text
    got = (await rails.get(f"/v1/accounts/{account}")).json()
    assert got["balance_micros"] == 0


async def test_a_non_usdc_cdp_transfer_is_recorded_not_credited(rails: httpx.AsyncClient) -> None:
    payload = cdp_transfer(transaction="0xother", value_micros=5_000_000, nonce="n")
    payload["data"]["asset"] = "0x" + "1" * 40
    r = await deliver_cdp(rails, payload, event_id="c_other")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "not_credited"


# ---------------------------------------------------------------- concurrency


async def test_fifty_concurrent_top_ups_with_one_key_start_once(make_service: Factory) -> None:
    client = await make_service(cdp=CDP)
    account = await new_account(client)
    answers = await asyncio.gather(
        *(
            client.post(
                "/v1/payments/topup/cdp",
                json={"account_id": account, "amount_micros": 1_000_000},
                headers={"Idempotency-Key": "one-key"},
            )
            for _ in range(50)
        )
    )
    statuses = [r.status_code for r in answers]
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201, 409}, statuses
    ids = {r.json()["id"] for r in answers if r.status_code in (200, 201)}
    assert len(ids) == 1
    for r in answers:
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "conflict"


async def test_concurrent_plan_events_for_one_account_all_apply(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    paid = [
        stripe_invoice_paid(
            f"evt_p{i}",
            account_id=account,
            plan="pro" if i % 2 else "team",
            subscription=f"sub_{i}",
            invoice=f"in_{i}",
        )
        for i in range(12)
    ]
    canceled = [
        stripe_subscription_deleted(f"evt_d{i}", subscription=f"sub_{i}") for i in range(0, 12, 3)
    ]
    answers = await asyncio.gather(*(deliver_stripe(rails, b) for b in paid + canceled))
    assert [r.status_code for r in answers] == [200] * len(answers)
    billing = (await rails.get("/v1/billing", params={"account_id": account})).json()
    assert billing["plan_tier"] == "team"


# ---------------------------------------------------------------- header limits


async def test_too_many_or_too_large_headers_are_431_in_the_error_shape(
    service: httpx.AsyncClient,
) -> None:
    many = [(f"x-h{i}", "v") for i in range(2_000)]
    r = await service.get("/healthz", headers=many)
    assert error_code(r) == (431, "request_header_fields_too_large")
    r = await service.get("/healthz", headers={"x-big": "a" * (1024 * 1024)})
    assert error_code(r) == (431, "request_header_fields_too_large")
    assert (await service.get("/healthz", headers={"x-ok": "a" * 4096})).status_code == 200
