"""Many distinct, realistic Stripe webhook bodies, made from the fake Stripe's own events.

The event a bank-transfer top-up is credited on (``customer_cash_balance_transaction.created``,
PROCESSORS.md 1.3) is taken from the fake Stripe after a real ``fund_cash_balance``, then copied with a
fresh event id and transaction id for each body, so every copy is a new event to the receiver (which
dedupes by event id) while keeping the fake's exact wire format.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx

from fakes.stripe import StripeFakeApp

__all__ = ["FUNDED_EVENT", "customer_for", "funding_bodies", "funding_template"]

FUNDED_EVENT = "customer_cash_balance_transaction.created"
_EVENT_MARK, _OBJECT_MARK = "evt_PAYHARNESS_BENCH_EVENT", "ccsbtxn_PAYHARNESS_BENCH_OBJECT"


def customer_for(base_url: str, api_key: str) -> str:
    """A new customer on the fake Stripe serving at ``base_url`` (its id)."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        answer = client.post(
            "/v1/customers",
            headers={"Authorization": f"Bearer {api_key}"},
            data={"email": "bench@payharness.invalid"},
        )
    answer.raise_for_status()
    return str(answer.json()["id"])


def funding_template(
    fake: StripeFakeApp, customer_id: str, *, amount_cents: int, reference: str | None
) -> str:
    """Fund ``customer_id`` on the fake and return its funding event as a template (compact JSON)."""
    fake.fund_cash_balance(customer_id, amount_cents, "usd", reference=reference)
    event = dict(fake.events(FUNDED_EVENT)[-1])
    event["id"] = _EVENT_MARK
    event["data"] = {**event["data"], "object": {**event["data"]["object"], "id": _OBJECT_MARK}}
    return json.dumps(event, separators=(",", ":"))


def funding_bodies(templates: Sequence[str], *, label: str, count: int) -> list[tuple[str, bytes]]:
    """``count`` (event id, body) pairs spread over ``templates``; ids are unique per ``label``."""
    bodies = []
    for i in range(count):
        event_id = f"evt_bench{label}{i:08d}"
        body = (
            templates[i % len(templates)]
            .replace(_EVENT_MARK, event_id)
            .replace(_OBJECT_MARK, f"ccsbtxn_bench{label}{i:08d}")
            .encode()
        )
        bodies.append((event_id, body))
    return bodies
