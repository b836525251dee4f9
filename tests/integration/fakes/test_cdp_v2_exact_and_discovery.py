"""x402 v2's exact-amount rule and the Bazaar discovery list, through the x402 package's own clients.

The v2 exact-EVM facilitator of the x402 package refuses any authorization whose value is not the
required ``amount`` with ``invalid_exact_evm_payload_authorization_value_mismatch``; the fake must
agree, and list settled resources at ``GET /discovery/resources`` in the shape the package's Bazaar
client (``with_bazaar(...).extensions.bazaar.list_resources``) reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from x402.extensions.bazaar import ListDiscoveryResourcesParams, with_bazaar
from x402.extensions.bazaar.facilitator_client import BazaarExtension
from x402.http import FacilitatorConfig, HTTPFacilitatorClientSync
from x402.schemas import PaymentPayload, PaymentRequirements, ResourceInfo
from x402.schemas.v1 import PaymentPayloadV1, PaymentRequirementsV1

from fakes._common import LoopbackServer
from fakes.cdp import BASE_SEPOLIA_USDC, CdpFakeApp, create_app
from fakes.cdp.payer import X402Payer

pytestmark = pytest.mark.integration

PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
OTHER_PAY_TO = "0x1111111111111111111111111111111111111111"
PRICE_ATOMIC = 10_000
MISMATCH = "invalid_exact_evm_payload_authorization_value_mismatch"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CdpFakeApp, str]]:
    app = create_app()
    with LoopbackServer(app) as server:
        yield app, server.base_url


@pytest.fixture
def app(served: tuple[CdpFakeApp, str]) -> CdpFakeApp:
    served[0].reset()
    return served[0]


@pytest.fixture
def client(served: tuple[CdpFakeApp, str], app: CdpFakeApp) -> Iterator[HTTPFacilitatorClientSync]:
    with httpx.Client(timeout=10) as http:
        yield HTTPFacilitatorClientSync(FacilitatorConfig(url=served[1], http_client=http))


@pytest.fixture
def payer(app: CdpFakeApp) -> X402Payer:
    return X402Payer(private_key=app.config.funded_accounts[0].private_key)


def v2_requirements(amount: int = PRICE_ATOMIC, pay_to: str = PAY_TO) -> PaymentRequirements:
    return PaymentRequirements(
        scheme="exact",
        network="eip155:84532",
        asset=BASE_SEPOLIA_USDC,
        amount=str(amount),
        pay_to=pay_to,
        max_timeout_seconds=60,
        extra={"name": "USDC", "version": "2"},
    )


def v2_payment(
    payer: X402Payer,
    requirements: PaymentRequirements,
    *,
    value_atomic: int,
    url: str = "https://api.example.test/weather",
) -> PaymentPayload:
    """A v2 payload whose EIP-3009 authorization is signed for ``value_atomic``."""
    v1_view = {
        "scheme": "exact",
        "network": "base-sepolia",
        "maxAmountRequired": requirements.amount,
        "payTo": requirements.pay_to,
        "asset": requirements.asset,
        "maxTimeoutSeconds": 60,
        "extra": dict(requirements.extra or {}),
    }
    signed = payer.payment_payload(v1_view, value_atomic=value_atomic)
    resource = ResourceInfo(url=url, description="today's weather", mime_type="application/json")
    return PaymentPayload(payload=signed["payload"], accepted=requirements, resource=resource)


def bazaar_of(client: HTTPFacilitatorClientSync) -> BazaarExtension:
    """The package's Bazaar client; it calls ``_get_client().get`` synchronously, so it needs the sync
    facilitator client although ``with_bazaar`` is annotated with the async one."""
    return with_bazaar(client).extensions.bazaar  # type: ignore[arg-type]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(delta=st.integers(min_value=-PRICE_ATOMIC + 1, max_value=10**12).filter(lambda d: d != 0))
def test_a_v2_payment_signed_for_any_other_value_than_the_amount_is_refused_as_a_mismatch(
    app: CdpFakeApp, client: HTTPFacilitatorClientSync, payer: X402Payer, delta: int
) -> None:
    requirements = v2_requirements()
    payment = v2_payment(payer, requirements, value_atomic=PRICE_ATOMIC + delta)
    verdict = client.verify(payment, requirements)
    settled = client.settle(payment, requirements)
    assert (verdict.is_valid, verdict.invalid_reason) == (False, MISMATCH)
    assert (settled.success, settled.error_reason) == (False, MISMATCH)
    assert app.balance(PAY_TO) == 0


def test_a_v2_payment_of_exactly_the_amount_settles(
    app: CdpFakeApp, client: HTTPFacilitatorClientSync, payer: X402Payer
) -> None:
    requirements = v2_requirements()
    payment = v2_payment(payer, requirements, value_atomic=PRICE_ATOMIC)
    assert client.verify(payment, requirements).is_valid is True
    assert client.settle(payment, requirements).success is True
    assert app.balance(PAY_TO) == PRICE_ATOMIC


def test_a_v1_overpayment_still_settles_as_the_v1_spec_allows(
    app: CdpFakeApp, client: HTTPFacilitatorClientSync, payer: X402Payer
) -> None:
    requirements = {
        "scheme": "exact",
        "network": "base-sepolia",
        "maxAmountRequired": str(PRICE_ATOMIC),
        "resource": "https://api.example.test/v1/report",
        "description": "report",
        "mimeType": "application/json",
        "payTo": PAY_TO,
        "maxTimeoutSeconds": 60,
        "asset": BASE_SEPOLIA_USDC,
        "extra": {"name": "USDC", "version": "2"},
    }
    payment = payer.payment_payload(requirements, value_atomic=PRICE_ATOMIC + 1)
    settled = client.settle(
        PaymentPayloadV1.model_validate(payment), PaymentRequirementsV1.model_validate(requirements)
    )
    assert settled.success is True
    assert app.balance(PAY_TO) == PRICE_ATOMIC + 1


def test_discovery_is_empty_before_any_settlement(client: HTTPFacilitatorClientSync) -> None:
    listed = bazaar_of(client).list_resources()
    assert (listed.items, listed.pagination.total) == ([], 0)


def test_discovery_lists_each_settled_resource_with_requirements_the_x402_types_accept(
    client: HTTPFacilitatorClientSync, payer: X402Payer
) -> None:
    urls = [f"https://api.example.test/r/{n}" for n in range(3)]
    for n, url in enumerate(urls):
        requirements = v2_requirements(pay_to=PAY_TO if n < 2 else OTHER_PAY_TO)
        client.settle(
            v2_payment(payer, requirements, value_atomic=PRICE_ATOMIC, url=url), requirements
        )
    bazaar = bazaar_of(client)
    everything = bazaar.list_resources(ListDiscoveryResourcesParams(type="http"))
    assert [item.resource for item in everything.items] == urls
    assert everything.x402_version == 2
    for item in everything.items:
        accepted = [PaymentRequirements.model_validate(raw) for raw in item.accepts or []]
        assert [a.amount for a in accepted] == [str(PRICE_ATOMIC)]
        assert (item.type, item.x402_version, item.mime_type) == ("http", 2, "application/json")
        assert item.last_updated and item.last_updated.endswith("Z")
    page = bazaar.list_resources(ListDiscoveryResourcesParams(limit=1, offset=1))
    assert [item.resource for item in page.items] == urls[1:2]
    assert (page.pagination.limit, page.pagination.offset, page.pagination.total) == (1, 1, 3)
    mine = bazaar.list_resources(ListDiscoveryResourcesParams(pay_to=OTHER_PAY_TO.upper()))
    assert [item.resource for item in mine.items] == urls[2:]
    elsewhere = bazaar.list_resources(ListDiscoveryResourcesParams(network="eip155:8453"))
    assert elsewhere.items == []


def test_refused_payments_are_not_listed(
    client: HTTPFacilitatorClientSync, payer: X402Payer
) -> None:
    requirements = v2_requirements()
    client.settle(v2_payment(payer, requirements, value_atomic=PRICE_ATOMIC * 2), requirements)
    assert bazaar_of(client).list_resources().items == []


def test_a_bad_limit_is_a_400_the_bazaar_client_reports(client: HTTPFacilitatorClientSync) -> None:
    with pytest.raises(ValueError, match="400"):
        bazaar_of(client).list_resources(ListDiscoveryResourcesParams(limit=0))


def test_discovery_is_also_served_under_the_cdp_prefix(served: tuple[CdpFakeApp, str]) -> None:
    body: dict[str, Any] = httpx.get(f"{served[1]}/platform/v2/x402/discovery/resources").json()
    assert set(body) == {"x402Version", "items", "pagination"}
