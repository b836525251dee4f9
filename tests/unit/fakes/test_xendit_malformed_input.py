"""Whatever JSON a client sends, the fake Xendit answers in Xendit's error shape, never with a 500."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes.xendit import XenditConfig, create_app

KEY = "xnd_development_payharness_test"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)
fields = st.sampled_from(
    [
        "external_id",
        "amount",
        "currency",
        "invoice_duration",
        "payer_email",
        "description",
        "items",
        "metadata",
        "reference_id",
        "customer_id",
        "recurring_action",
        "schedule",
        "payment_methods",
        "failed_cycle_action",
        "email",
        "type",
        "individual_detail",
        "business_detail",
        "addresses",
        "immediate_action_type",
        "notification_config",
    ]
)
bodies = st.dictionaries(fields, json_values, max_size=8) | json_values


async def post(app: Any, path: str, content: bytes) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://xendit.test", auth=(KEY, "")
    ) as client:
        return await client.post(path, content=content)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=bodies,
    path=st.sampled_from(["/v2/invoices", "/customers", "/recurring/plans"]),
)
def test_any_json_body_gets_a_xendit_answer_not_a_server_error(body: Any, path: str) -> None:
    app = create_app(XenditConfig(currencies=("IDR", "USD")))
    response = asyncio.run(post(app, path, json.dumps(body).encode()))
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        assert set(response.json()) == {"error_code", "message"}


def test_absurd_numbers_are_validation_errors() -> None:
    app = create_app()
    for body in (
        b'{"external_id": "a", "amount": 1, "invoice_duration": 1e300}',
        b'{"external_id": "a", "amount": 1e300}',
        b'{"external_id": "a", "amount": 1e-300}',
    ):
        response = asyncio.run(post(app, "/v2/invoices", body))
        assert response.status_code == 400, body
