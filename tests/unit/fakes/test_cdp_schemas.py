"""The fake facilitator's answers validate against the x402 project's schemas, pinned in
``contracts/processors/x402.schemas.json`` (generated from the x402 package's models)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from contracts import contract_path
from fakes.cdp import BASE_SEPOLIA_USDC, CdpConfig, CdpFakeApp, create_app
from fakes.cdp.payer import X402Payer
from fakes.cdp.schemas import schemas

NOW = 1_750_000_000.0
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
PINNED: dict[str, Any] = json.loads(contract_path("processors/x402.schemas.json").read_text())


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(PINNED["schemas"][name])


def test_the_pinned_schemas_are_those_of_the_installed_x402_package() -> None:
    # On failure: python -m fakes.cdp.schemas > contracts/processors/x402.schemas.json
    assert json.loads(json.dumps(schemas())) == PINNED


def requirements(version: int, amount: int = 10_000) -> dict[str, Any]:
    common = {
        "scheme": "exact",
        "payTo": PAY_TO,
        "maxTimeoutSeconds": 60,
        "asset": BASE_SEPOLIA_USDC,
        "extra": {"name": "USDC", "version": "2"},
    }
    if version == 1:
        return common | {
            "network": "base-sepolia",
            "maxAmountRequired": str(amount),
            "resource": "https://api.example.test/r",
            "description": "r",
            "mimeType": "application/json",
        }
    return common | {"network": "eip155:84532", "amount": str(amount)}


def request_body(payer: X402Payer, version: int, value: int, amount: int) -> dict[str, Any]:
    v1 = payer.payment_payload(requirements(1, amount), value_atomic=value)
    payload = (
        v1
        if version == 1
        else {
            "x402Version": 2,
            "payload": v1["payload"],
            "accepted": requirements(2, amount),
            "resource": {"url": "https://api.example.test/v2", "mimeType": "application/json"},
        }
    )
    return {
        "x402Version": version,
        "paymentPayload": payload,
        "paymentRequirements": requirements(version, amount),
    }


@pytest.fixture
def app() -> CdpFakeApp:
    return create_app(CdpConfig(now=lambda: NOW))


@pytest.fixture
async def http(app: CdpFakeApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://cdp.test") as client:
        yield client


@pytest.fixture
def payer(app: CdpFakeApp) -> X402Payer:
    return X402Payer(private_key=app.config.funded_accounts[0].private_key, now=lambda: NOW)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    version=st.sampled_from([1, 2]),
    value=st.integers(min_value=1, max_value=10**9),
    amount=st.integers(min_value=1, max_value=10**9),
)
async def test_verify_and_settle_answers_validate_whatever_the_payment(
    http: httpx.AsyncClient, payer: X402Payer, version: int, value: int, amount: int
) -> None:
    body = request_body(payer, version, value, amount)
    verified = await http.post("/verify", json=body)
    settled = await http.post("/settle", json=body)
    assert list(validator("VerifyResponse").iter_errors(verified.json())) == []
    assert list(validator("SettleResponse").iter_errors(settled.json())) == []
    name = "PaymentPayloadV1" if version == 1 else "PaymentPayload"
    assert list(validator(name).iter_errors(body["paymentPayload"])) == []


async def test_supported_and_malformed_answers_validate(http: httpx.AsyncClient) -> None:
    supported = (await http.get("/supported")).json()
    assert list(validator("SupportedResponse").iter_errors(supported)) == []
    malformed = await http.post("/verify", content=b"{}")
    assert malformed.status_code == 400
    assert list(validator("VerifyResponse").iter_errors(malformed.json())) == []
    refused = await http.post("/settle", content=b"[]")
    assert list(validator("SettleResponse").iter_errors(refused.json())) == []


async def test_discovery_items_carry_requirements_valid_under_their_version(
    http: httpx.AsyncClient, payer: X402Payer
) -> None:
    for version in (1, 2):
        await http.post("/settle", json=request_body(payer, version, 10_000, 10_000))
    listed = (await http.get("/discovery/resources")).json()
    assert {item["x402Version"] for item in listed["items"]} == {1, 2}
    for item in listed["items"]:
        name = "PaymentRequirementsV1" if item["x402Version"] == 1 else "PaymentRequirements"
        for accepted in item["accepts"]:
            assert list(validator(name).iter_errors(accepted)) == []
