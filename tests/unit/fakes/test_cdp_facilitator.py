"""The fake CDP facilitator judged through the x402 package's own HTTPFacilitatorClient, in process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from x402.http import FacilitatorConfig, HTTPFacilitatorClient
from x402.schemas import PaymentPayload, PaymentRequirements
from x402.schemas.v1 import PaymentPayloadV1, PaymentRequirementsV1

from fakes.cdp import BASE_SEPOLIA_USDC, CdpConfig, CdpFakeApp, create_app, derive_test_key
from fakes.cdp.payer import X402Payer
from fakes.cdp.payloads import FacilitatorRequest, parse_request

NOW = 1_750_000_000.0
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
PRICE_ATOMIC = 10_000  # 0.01 USDC


def in_process(app: Any) -> httpx.ASGITransport:
    """An httpx transport calling ``app`` in process (typed ``Any``: FakeApp's ASGI signature uses
    ``Mapping`` where httpx declares ``MutableMapping``)."""
    return httpx.ASGITransport(app=app)


def clock() -> float:
    return NOW


def requirements_v1(**overrides: Any) -> dict[str, Any]:
    """A v1 `accepts` entry as a resource server answers it (PROCESSORS.md 3.1)."""
    base: dict[str, Any] = {
        "scheme": "exact",
        "network": "base-sepolia",
        "maxAmountRequired": str(PRICE_ATOMIC),
        "resource": "https://api.example.test/v1/payments/topup/cdp/t_1/pay",
        "description": "top-up",
        "mimeType": "application/json",
        "payTo": PAY_TO,
        "maxTimeoutSeconds": 60,
        "asset": BASE_SEPOLIA_USDC,
        "extra": {"name": "USDC", "version": "2"},
    }
    return base | overrides


@pytest.fixture
def app() -> CdpFakeApp:
    return create_app(CdpConfig(now=clock))


@pytest.fixture
def payer(app: CdpFakeApp) -> X402Payer:
    return X402Payer(private_key=app.config.funded_accounts[0].private_key, now=clock)


@pytest.fixture
async def http(app: CdpFakeApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=in_process(app), base_url="http://cdp.test") as client:
        yield client


@pytest.fixture
def facilitator(http: httpx.AsyncClient) -> HTTPFacilitatorClient:
    return HTTPFacilitatorClient(FacilitatorConfig(url="http://cdp.test", http_client=http))


def as_models(
    payment: dict[str, Any], requirements: dict[str, Any]
) -> tuple[PaymentPayloadV1, PaymentRequirementsV1]:
    return (
        PaymentPayloadV1.model_validate(payment),
        PaymentRequirementsV1.model_validate(requirements),
    )


async def test_valid_payment_verifies_and_names_the_payer(
    facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    requirements = requirements_v1()
    result = await facilitator.verify(*as_models(payer.payment_payload(requirements), requirements))
    assert result.is_valid is True
    assert result.payer == payer.address


async def test_settle_moves_the_authorized_value_from_payer_to_pay_to(
    app: CdpFakeApp, facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    before = app.balance(payer.address)
    requirements = requirements_v1()
    result = await facilitator.settle(*as_models(payer.payment_payload(requirements), requirements))
    assert result.success is True
    assert result.network == "base-sepolia"
    assert result.payer == payer.address
    assert result.transaction.startswith("0x") and len(result.transaction) == 66
    assert app.balance(payer.address) == before - PRICE_ATOMIC
    assert app.balance(PAY_TO) == PRICE_ATOMIC
    [settlement] = app.settlements()
    assert settlement.transaction == result.transaction
    assert settlement.value_atomic == PRICE_ATOMIC


async def test_identical_settle_retry_returns_the_same_transaction_and_moves_money_once(
    app: CdpFakeApp, facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    requirements = requirements_v1()
    models = as_models(payer.payment_payload(requirements), requirements)
    first = await facilitator.settle(*models)
    retry = await facilitator.settle(*models)
    assert retry.success is True
    assert retry.transaction == first.transaction
    assert app.balance(PAY_TO) == PRICE_ATOMIC
    assert len(app.settlements()) == 1


async def test_a_different_payload_reusing_a_settled_nonce_is_refused(
    app: CdpFakeApp, facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    requirements = requirements_v1()
    nonce = "0x" + "ab" * 32
    await facilitator.settle(
        *as_models(payer.payment_payload(requirements, nonce=nonce), requirements)
    )
    replay = payer.payment_payload(requirements, nonce=nonce, value_atomic=PRICE_ATOMIC + 1)
    verdict = await facilitator.verify(*as_models(replay, requirements))
    settled = await facilitator.settle(*as_models(replay, requirements))
    assert verdict.invalid_reason == "invalid_transaction_state"
    assert (settled.success, settled.error_reason, settled.transaction) == (
        False,
        "invalid_transaction_state",
        "",
    )
    assert app.balance(PAY_TO) == PRICE_ATOMIC


async def test_verify_of_an_already_settled_payment_is_invalid(
    facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    requirements = requirements_v1()
    models = as_models(payer.payment_payload(requirements), requirements)
    await facilitator.settle(*models)
    assert (await facilitator.verify(*models)).invalid_reason == "invalid_transaction_state"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"valid_before": int(NOW) - 1}, "invalid_exact_evm_payload_authorization_valid_before"),
        # validBefore inside the 6 s settle buffer of the x402 facilitator is already expired.
        ({"valid_before": int(NOW) + 5}, "invalid_exact_evm_payload_authorization_valid_before"),
        ({"valid_after": int(NOW) + 60}, "invalid_exact_evm_payload_authorization_valid_after"),
        ({"value_atomic": PRICE_ATOMIC - 1}, "invalid_exact_evm_payload_authorization_value"),
        ({"pay_to": "0x" + "11" * 20}, "invalid_exact_evm_payload_recipient_mismatch"),
    ],
)
async def test_authorization_outside_the_requirements_is_refused_with_the_spec_reason(
    app: CdpFakeApp,
    facilitator: HTTPFacilitatorClient,
    payer: X402Payer,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    requirements = requirements_v1()
    models = as_models(payer.payment_payload(requirements, **overrides), requirements)
    verdict = await facilitator.verify(*models)
    settled = await facilitator.settle(*models)
    assert (verdict.is_valid, verdict.invalid_reason) == (False, reason)
    assert (settled.success, settled.error_reason) == (False, reason)
    assert app.settlements() == []


async def test_paying_more_than_required_is_valid_and_settles_the_authorized_value(
    app: CdpFakeApp, facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    requirements = requirements_v1()
    payment = payer.payment_payload(requirements, value_atomic=PRICE_ATOMIC * 2)
    result = await facilitator.settle(*as_models(payment, requirements))
    assert result.success is True
    assert app.balance(PAY_TO) == PRICE_ATOMIC * 2


async def test_signature_by_another_key_is_refused(
    facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    requirements = requirements_v1()
    payment = payer.payment_payload(requirements)
    impostor = X402Payer(private_key=derive_test_key("someone-else", 0), now=clock)
    payment["payload"]["signature"] = impostor.payment_payload(requirements)["payload"]["signature"]
    verdict = await facilitator.verify(*as_models(payment, requirements))
    assert verdict.invalid_reason == "invalid_exact_evm_payload_signature"


async def test_tampered_value_breaks_the_signature(
    facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    requirements = requirements_v1()
    payment = payer.payment_payload(requirements)
    payment["payload"]["authorization"]["value"] = str(PRICE_ATOMIC * 100)
    verdict = await facilitator.verify(*as_models(payment, requirements))
    assert verdict.invalid_reason == "invalid_exact_evm_payload_signature"


async def test_signature_under_another_token_domain_is_refused(
    facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    requirements = requirements_v1()
    signed_for_version_1 = payer.payment_payload(
        requirements_v1(extra={"name": "USDC", "version": "1"})
    )
    verdict = await facilitator.verify(*as_models(signed_for_version_1, requirements))
    assert verdict.invalid_reason == "invalid_exact_evm_payload_signature"


async def test_unfunded_wallet_is_refused_for_insufficient_funds(
    app: CdpFakeApp, facilitator: HTTPFacilitatorClient
) -> None:
    broke = X402Payer(private_key=derive_test_key("unfunded", 0), now=clock)
    requirements = requirements_v1()
    models = as_models(broke.payment_payload(requirements), requirements)
    assert (await facilitator.verify(*models)).invalid_reason == "insufficient_funds"
    assert (await facilitator.settle(*models)).error_reason == "insufficient_funds"
    app.fund(broke.address, PRICE_ATOMIC)
    assert (await facilitator.settle(*models)).success is True
    assert app.balance(broke.address) == 0


async def test_payment_above_the_balance_is_refused(
    app: CdpFakeApp, facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    too_much = app.balance(payer.address) + 1
    requirements = requirements_v1(maxAmountRequired=str(too_much))
    verdict = await facilitator.verify(
        *as_models(payer.payment_payload(requirements), requirements)
    )
    assert verdict.invalid_reason == "insufficient_funds"


@pytest.mark.parametrize(
    ("payment_change", "requirements_change", "reason"),
    [
        ({"network": "base"}, {}, "invalid_network"),
        ({"network": "avalanche-fuji"}, {"network": "avalanche-fuji"}, "invalid_network"),
        ({"network": "eip155:84532"}, {"network": "eip155:84532"}, "invalid_network"),
        ({"scheme": "upto"}, {}, "invalid_scheme"),
        ({"scheme": "upto"}, {"scheme": "upto"}, "unsupported_scheme"),
        ({}, {"asset": "0x" + "22" * 20}, "invalid_payment_requirements"),
        ({"x402Version": 2}, {}, "invalid_x402_version"),
    ],
)
async def test_mismatched_scheme_network_asset_or_version_is_refused(
    http: httpx.AsyncClient,
    payer: X402Payer,
    payment_change: dict[str, Any],
    requirements_change: dict[str, Any],
    reason: str,
) -> None:
    payment = payer.payment_payload(requirements_v1()) | payment_change
    if payment_change.get("x402Version") == 2:
        payment["accepted"] = {"scheme": "exact", "network": "base-sepolia"}
    body = {
        "x402Version": 1,
        "paymentPayload": payment,
        "paymentRequirements": requirements_v1(**requirements_change),
    }
    response = await http.post("/verify", json=body)
    assert response.status_code == 200
    assert response.json()["isValid"] is False
    assert response.json()["invalidReason"] == reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "invalid_payload"),
        (b"[]", "invalid_payload"),
        (json.dumps({"x402Version": 1, "paymentRequirements": {}}).encode(), "invalid_payload"),
        (
            json.dumps(
                {"x402Version": 7, "paymentPayload": {"payload": {}}, "paymentRequirements": {}}
            ).encode(),
            "invalid_x402_version",
        ),
    ],
)
async def test_malformed_body_is_a_400_in_the_facilitator_shape_never_a_500(
    http: httpx.AsyncClient, content: bytes, reason: str
) -> None:
    for path in ("/verify", "/settle"):
        response = await http.post(path, content=content)
        assert response.status_code == 400
        body = response.json()
        assert body.get("invalidReason", body.get("errorReason")) == reason


async def test_authorization_with_missing_or_non_numeric_fields_is_invalid_payload(
    http: httpx.AsyncClient, payer: X402Payer
) -> None:
    payment = payer.payment_payload(requirements_v1())
    payment["payload"]["authorization"]["value"] = "ten"
    body = {"x402Version": 1, "paymentPayload": payment, "paymentRequirements": requirements_v1()}
    response = await http.post("/settle", json=body)
    assert response.status_code == 400
    assert response.json()["errorReason"] == "invalid_payload"
    assert response.json()["payer"] == payer.address
    assert response.json()["network"] == "base-sepolia"


async def test_requirements_without_an_amount_are_invalid_payment_requirements(
    http: httpx.AsyncClient, payer: X402Payer
) -> None:
    requirements = requirements_v1()
    del requirements["maxAmountRequired"]
    body = {
        "x402Version": 1,
        "paymentPayload": payer.payment_payload(requirements_v1()),
        "paymentRequirements": requirements,
    }
    response = await http.post("/verify", json=body)
    assert response.status_code == 400
    assert response.json()["invalidReason"] == "invalid_payment_requirements"


async def test_v2_payload_with_caip2_network_verifies_and_settles(
    app: CdpFakeApp, facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    v1 = payer.payment_payload(requirements_v1())
    requirements = PaymentRequirements(
        scheme="exact",
        network="eip155:84532",
        asset=BASE_SEPOLIA_USDC,
        amount=str(PRICE_ATOMIC),
        pay_to=PAY_TO,
        max_timeout_seconds=60,
        extra={"name": "USDC", "version": "2"},
    )
    payload = PaymentPayload(payload=v1["payload"], accepted=requirements)
    assert (await facilitator.verify(payload, requirements)).is_valid is True
    settled = await facilitator.settle(payload, requirements)
    assert (settled.success, settled.network, settled.amount) == (
        True,
        "eip155:84532",
        str(PRICE_ATOMIC),
    )
    assert app.balance(PAY_TO) == PRICE_ATOMIC


async def test_supported_lists_exact_on_base_sepolia_in_v1_and_v2_naming(
    http: httpx.AsyncClient,
) -> None:
    body = (await http.get("/supported")).json()
    kinds = {(kind["x402Version"], kind["scheme"], kind["network"]) for kind in body["kinds"]}
    assert kinds == {(1, "exact", "base-sepolia"), (2, "exact", "eip155:84532")}
    assert list(body["signers"]) == ["eip155:*"]


async def test_facilitator_also_answers_under_the_cdp_platform_prefix(
    http: httpx.AsyncClient, payer: X402Payer
) -> None:
    client = HTTPFacilitatorClient(
        FacilitatorConfig(url="http://cdp.test/platform/v2/x402", http_client=http)
    )
    requirements = requirements_v1()
    result = await client.verify(*as_models(payer.payment_payload(requirements), requirements))
    assert result.is_valid is True


async def test_configured_bearer_token_is_required(payer: X402Payer) -> None:
    app = create_app(CdpConfig(now=clock, bearer_token="cdp-test-token"))
    transport = in_process(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cdp.test") as client:
        anonymous = await client.get("/supported")
        authorized = await client.get(
            "/supported", headers={"Authorization": "Bearer cdp-test-token"}
        )
    assert anonymous.status_code == 401
    assert anonymous.json()["errorType"] == "unauthorized"
    assert authorized.status_code == 200


async def test_unknown_route_is_a_cdp_shaped_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/discovery/unknown")
    assert response.status_code == 404
    assert set(response.json()) == {"errorType", "errorMessage"}


async def test_transaction_hashes_are_deterministic_per_seed_and_instances_do_not_share_state(
    payer: X402Payer,
) -> None:
    requirements = requirements_v1()
    hashes = []
    for _ in range(2):
        app = create_app(CdpConfig(now=clock))
        outcome = app.facilitator.settle(_parse(payer.payment_payload(requirements), requirements))
        hashes.append(outcome.body["transaction"])
        assert app.balance(PAY_TO) == PRICE_ATOMIC  # the other instance's settle is not seen here
    assert hashes[0] == hashes[1]


async def test_reset_restores_balances_and_forgets_nonces(
    app: CdpFakeApp, facilitator: HTTPFacilitatorClient, payer: X402Payer
) -> None:
    requirements = requirements_v1()
    models = as_models(payer.payment_payload(requirements), requirements)
    await facilitator.settle(*models)
    app.reset()
    assert app.balance(PAY_TO) == 0
    assert app.settlements() == []
    assert (await facilitator.verify(*models)).is_valid is True


def _parse(payment: dict[str, Any], requirements: dict[str, Any]) -> FacilitatorRequest:
    body = {"x402Version": 1, "paymentPayload": payment, "paymentRequirements": requirements}
    return parse_request(json.dumps(body).encode())
