"""Whatever a client sends to /verify or /settle, the fake answers in the facilitator's shape, never 500."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes.cdp import BASE_SEPOLIA_USDC, CdpConfig, create_app
from fakes.cdp.payer import X402Payer

NOW = 1_750_000_000.0
REQUIREMENTS = {
    "scheme": "exact",
    "network": "base-sepolia",
    "maxAmountRequired": "10000",
    "resource": "https://api.example.test/pay",
    "description": "top-up",
    "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
    "maxTimeoutSeconds": 60,
    "asset": BASE_SEPOLIA_USDC,
    "extra": {"name": "USDC", "version": "2"},
}
APP = create_app(CdpConfig(now=lambda: NOW))
PAYMENT = X402Payer(
    private_key=APP.config.funded_accounts[0].private_key, now=lambda: NOW
).payment_payload(REQUIREMENTS)
VALID: dict[str, Any] = {
    "x402Version": 1,
    "paymentPayload": PAYMENT,
    "paymentRequirements": REQUIREMENTS,
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**80), 10**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["0x", "0x" + "00" * 20, "0x" + "ff" * 32, "-1", "1e5", "base"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def paths(document: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path in a nested dict (where a fuzzed value can be planted)."""
    found = [prefix] if prefix else []
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths(value, (*prefix, key))
    return found


PATHS = paths(VALID)


def planted(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(VALID)
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


async def post(path: str, content: bytes) -> httpx.Response:
    transport = httpx.ASGITransport(app=APP)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://cdp.test") as client:
        return await client.post(path, content=content)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    where=st.sampled_from(PATHS),
    value=json_values,
    endpoint=st.sampled_from(["/verify", "/settle"]),
)
def test_any_field_replaced_by_any_json_is_answered_without_a_server_error(
    where: tuple[str, ...], value: Any, endpoint: str
) -> None:
    response = asyncio.run(post(endpoint, json.dumps(planted(where, value)).encode()))
    assert response.status_code in (200, 400), (where, value, response.text)
    body = response.json()
    if endpoint == "/verify":
        assert isinstance(body["isValid"], bool)
    else:
        assert isinstance(body["success"], bool) and isinstance(body["transaction"], str)
    APP.reset()


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=64))
def test_arbitrary_bytes_are_a_400_invalid_payload(raw: bytes) -> None:
    response = asyncio.run(post("/verify", raw))
    assert response.status_code == 400
    assert response.json()["invalidReason"] in ("invalid_payload", "invalid_x402_version")
