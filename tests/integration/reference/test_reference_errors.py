"""Bad requests get a precise answer in our error shape, never a 500; `/metrics` shows what happened."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from reference_support import (
    ALL_RAILS,
    ServiceFactory,
    deliver_stripe,
    map_stripe_customer,
    new_account,
    stripe_funded,
    stripe_header,
)

ONE_MIB = 1024 * 1024

# every route that reads a JSON body, with the rails configured so each reaches its body
JSON_ROUTES = [
    "/v1/accounts",
    "/v1/outcomes",
    "/v1/charges",
    "/v1/usage",
    "/v1/payments/topup/stripe",
    "/v1/billing/checkout",
]


@pytest.fixture
async def rails(make_service: ServiceFactory) -> httpx.AsyncClient:
    """A live service with every rail configured."""
    return await make_service(**ALL_RAILS)


def error(r: httpx.Response) -> tuple[int, str]:
    body = r.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return r.status_code, str(body["error"]["code"])


async def test_malformed_json_is_400_invalid_json(rails: httpx.AsyncClient) -> None:
    for path in JSON_ROUTES:
        r = await rails.post(
            path, content=b'{"account_id": ', headers={"content-type": "application/json"}
        )
        assert error(r) == (400, "invalid_json"), path


WRONG_BODIES: list[tuple[str, object, str]] = [
    ("/v1/accounts", {"is_test_cohort": "maybe"}, "is_test_cohort"),
    ("/v1/outcomes", {"inference_id": "i", "account_id": "a", "cost_micros": "ten"}, "cost_micros"),
    ("/v1/outcomes", {"inference_id": "i", "account_id": "a", "cost_micros": -1}, "cost_micros"),
    ("/v1/outcomes", {"inference_id": "i", "account_id": "a"}, "cost_micros"),
    ("/v1/charges", {"inference_id": 12, "margin_bps": "high"}, "margin_bps"),
    ("/v1/charges", {"inference_id": "i", "surprise": 1}, "surprise"),
    ("/v1/usage", {"charges_micros": [1, "two"]}, "charges_micros.1"),
    ("/v1/usage", {"charges_micros": [-1]}, "charges_micros"),
    ("/v1/payments/topup/stripe", {"account_id": "a", "amount_micros": 0}, "amount_micros"),
    ("/v1/payments/topup/stripe", {"account_id": "a", "amount_micros": 1.5}, "amount_micros"),
    ("/v1/billing/checkout", {"account_id": "a", "plan": "gold"}, "plan"),
]


async def test_wrong_types_are_422_validation_error_naming_the_field(
    rails: httpx.AsyncClient,
) -> None:
    for path, body, field in WRONG_BODIES:
        r = await rails.post(path, json=body)
        assert error(r) == (422, "validation_error"), (path, body)
        assert field in r.json()["error"]["message"], (path, body)


async def test_validation_errors_list_field_paths_in_one_shape_on_every_route(
    rails: httpx.AsyncClient,
) -> None:
    # /v1/outcomes is validated by FastAPI, the others by the route after its own checks: same shape
    for path, body, fields in (
        (
            "/v1/outcomes",
            {"inference_id": "i", "account_id": "a", "cost_micros": "x"},
            ["cost_micros"],
        ),
        ("/v1/charges", {"inference_id": "i", "margin_bps": "x"}, ["margin_bps"]),
        (
            "/v1/usage",
            {"charges_micros": [1, "two"], "stream": "perhaps"},
            ["charges_micros.1", "stream"],
        ),
    ):
        details = (await rails.post(path, json=body)).json()["error"]["details"]["fields"]
        assert [d["field"] for d in details] == fields, path
        assert all(set(d) == {"field", "message"} for d in details), path


async def test_a_body_over_one_mib_is_413_payload_too_large(rails: httpx.AsyncClient) -> None:
    for path in JSON_ROUTES:
        r = await rails.post(
            path, content=b" " * (ONE_MIB + 1), headers={"content-type": "application/json"}
        )
        assert error(r) == (413, "payload_too_large"), path


async def test_a_streamed_body_over_one_mib_without_a_length_is_413_too(
    rails: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(17):
            yield b" " * 65_536

    for path in JSON_ROUTES:
        r = await rails.post(path, content=chunks(), headers={"content-type": "application/json"})
        assert "content-length" not in r.request.headers
        assert error(r) == (413, "payload_too_large"), path


async def test_an_oversized_webhook_is_refused_before_it_is_verified(
    rails: httpx.AsyncClient,
) -> None:
    body = b'{"pad": "' + b"x" * ONE_MIB + b'"}'
    r = await deliver_stripe(rails, body, header=stripe_header(body))
    assert error(r) == (413, "payload_too_large")


async def test_unknown_ids_and_paths_are_404_in_our_shape(rails: httpx.AsyncClient) -> None:
    for method, path, code in (
        ("GET", "/v1/accounts/acct_none", "account_not_found"),
        ("GET", "/v1/accounts/acct_none/ledger", "account_not_found"),
        ("DELETE", "/v1/accounts/acct_none", "account_not_found"),
        ("GET", "/v1/billing?account_id=acct_none", "account_not_found"),
        ("GET", "/v1/billing/invoices?account_id=acct_none", "account_not_found"),
        ("POST", "/v1/payments/topup/paypal", "unknown_rail"),
        ("POST", "/v1/payments/webhook/paypal", "unknown_rail"),
        ("POST", "/v1/payments/topup/cdp/top_none/pay", "topup_not_found"),
        ("GET", "/v1/nothing-here", "not_found"),
    ):
        assert error(await rails.request(method, path)) == (404, code), path


async def test_unknown_ids_in_bodies_are_404(rails: httpx.AsyncClient) -> None:
    r = await rails.post(
        "/v1/payments/topup/stripe", json={"account_id": "acct_none", "amount_micros": 10_000}
    )
    assert error(r) == (404, "account_not_found")
    r = await rails.post(
        "/v1/billing/checkout", json={"account_id": "acct_none", "plan": "pro", "rail": "stripe"}
    )
    assert error(r) == (404, "account_not_found")
    r = await rails.post("/v1/charges", json={"inference_id": "inf_none"})
    assert error(r) == (404, "outcome_not_found")


async def test_a_wrong_method_is_405_in_our_shape(rails: httpx.AsyncClient) -> None:
    assert error(await rails.delete("/v1/charges")) == (405, "method_not_allowed")


async def test_stripe_top_up_in_fractions_of_a_cent_is_422(rails: httpx.AsyncClient) -> None:
    account = await new_account(rails)
    r = await rails.post(
        "/v1/payments/topup/stripe", json={"account_id": account, "amount_micros": 10_001}
    )
    assert error(r) == (422, "validation_error")


async def test_health_answers_ok(rails: httpx.AsyncClient) -> None:
    assert (await rails.get("/healthz")).json() == {"status": "ok"}


# ---------------------------------------------------------------- /metrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_metrics_expose_webhooks_signature_failures_settles_and_charges(
    rails: httpx.AsyncClient,
) -> None:
    account = await new_account(rails, balance=1_000_000)
    await map_stripe_customer(rails, account, "cus_metrics")
    body = stripe_funded("evt_m", txn_id="ccsbtxn_m", amount_cents=100, customer="cus_metrics")
    await deliver_stripe(rails, body)
    await deliver_stripe(rails, body)
    await deliver_stripe(rails, body, signed=False)
    await deliver_stripe(rails, body, header=stripe_header(body, secret="whsec_wrong"))
    await deliver_stripe(rails, b"not json")
    await rails.post(
        "/v1/outcomes", json={"inference_id": "inf_m", "account_id": account, "cost_micros": 10}
    )
    await rails.post("/v1/charges", json={"inference_id": "inf_m"})
    await rails.post("/v1/usage", json={"account_id": account, "charges_micros": [5]})
    await rails.post("/v1/usage", json={"account_id": account, "charges_micros": []})

    r = await rails.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    seen = samples(r.text)

    def value(name: str, **labels: str) -> float:
        return seen.get((name, tuple(sorted(labels.items()))), 0.0)

    webhooks = "payments_webhooks_total"
    assert value(webhooks, rail="stripe", outcome="applied") == 1
    assert value(webhooks, rail="stripe", outcome="duplicate") == 1
    assert value(webhooks, rail="stripe", outcome="rejected") == 2
    assert value(webhooks, rail="stripe", outcome="invalid") == 1
    failures = "payments_webhook_signature_failures_total"
    assert value(failures, rail="stripe", reason="missing") == 1
    assert value(failures, rail="stripe", reason="invalid") == 1
    settle = "payments_settle_at_close_total"
    assert value(settle, outcome="settled") == 1
    assert value(settle, outcome="skipped") == 1
    assert value(settle, outcome="failed") == 0
    assert (settle, (("outcome", "unconfirmed"),)) in seen  # present at zero from the start
    assert value("payments_charges_total", status="charged") == 1


async def test_two_services_in_one_process_keep_their_own_metrics(
    make_service: ServiceFactory,
) -> None:
    first = await make_service()
    second = await make_service()
    account = await new_account(first, balance=100)
    await first.post("/v1/usage", json={"account_id": account, "charges_micros": [1]})
    first_seen = samples((await first.get("/metrics")).text)
    second_seen = samples((await second.get("/metrics")).text)
    key = ("payments_settle_at_close_total", (("outcome", "settled"),))
    assert (first_seen[key], second_seen[key]) == (1, 0)
