"""Acme billing, the foreign-shaped example service, wired to the fakes by per-rail webhook URLs.

These prove the example is a working Stripe + Xendit integration (credits, plans, charges, webhooks) and that
each planted defect really misbehaves, so a harness that misses one has missed a real bug.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from acme_stack import TEST_TOKEN, running_acme

from fakes._common import Fault
from fakes.signing import StripeSigner
from fakes.stack import FakeStack

pytestmark = pytest.mark.integration


@dataclass
class Acme:
    """A running Acme and the fakes it talks to."""

    http: httpx.Client
    fakes: FakeStack
    env: dict[str, str]

    def user(self, *, credits: int = 0) -> str:
        made = self.http.post("/api/v1/users", json={"email": "t@acme.test", "sandbox": True})
        assert made.status_code == 201, made.text
        user_id = str(made.json()["user"]["id"])
        if credits:
            state = {
                "state": "user has credits",
                "params": {"user_id": user_id, "credits_cents": credits},
            }
            set_up = self.http.post(
                "/_test/state", json=state, headers={"x-test-token": TEST_TOKEN}
            )
            assert set_up.status_code == 200, set_up.text
        return user_id

    def read(self, user_id: str) -> dict[str, Any]:
        got = self.http.get(f"/api/v1/users/{user_id}")
        assert got.status_code == 200, got.text
        return dict(got.json()["user"])

    def drain(self) -> None:
        for app in self.fakes.apps.values():
            app.webhooks.drain_blocking(10)

    def stripe_credit(self, user_id: str, cents: int) -> None:
        bought = self.http.post(
            "/api/v1/credits/purchase",
            json={"user_id": user_id, "amount_cents": cents, "provider": "stripe"},
        )
        assert bought.status_code == 201, bought.text
        customer = bought.json()["ref"]
        key = self.env["STRIPE_API_KEY"]
        funded = httpx.post(
            f"{self.env['STRIPE_API_BASE']}/v1/test_helpers/customers/{customer}/fund_cash_balance",
            data={"amount": cents, "currency": "usd"},
            auth=(key, ""),
        )
        assert funded.status_code == 200, funded.text
        self.drain()


def _start(tmp_path: Path, defects: str = "", enabled: bool = True) -> Iterator[Acme]:
    with (
        running_acme(tmp_path, defects, enabled) as (base_url, stack, env),
        httpx.Client(base_url=base_url, timeout=30) as http,
    ):
        yield Acme(http, stack, env)


@pytest.fixture
def acme(tmp_path: Path) -> Iterator[Acme]:
    yield from _start(tmp_path)


@pytest.fixture
def acme_with(tmp_path: Path) -> Iterator[Callable[[str], Acme]]:
    started: list[Iterator[Acme]] = []

    def start(defects: str) -> Acme:
        gen = _start(tmp_path, defects)
        started.append(gen)
        return next(gen)

    yield start
    for gen in started:
        next(gen, None)


def test_a_stripe_bank_transfer_credits_the_user_once(acme: Acme) -> None:
    user = acme.user()
    acme.stripe_credit(user, 2_500)
    assert (acme.read(user)["credits_cents"], acme.read(user)["paid_cents"]) == (2_500, 2_500)


def test_a_paid_xendit_invoice_credits_its_purchase_once(acme: Acme) -> None:
    user = acme.user()
    bought = acme.http.post(
        "/api/v1/credits/purchase",
        json={"user_id": user, "amount_cents": 1_234, "provider": "xendit"},
        headers={"Idempotency-Key": "buy-1"},
    )
    assert bought.status_code == 201, bought.text
    again = acme.http.post(
        "/api/v1/credits/purchase",
        json={"user_id": user, "amount_cents": 1_234, "provider": "xendit"},
        headers={"Idempotency-Key": "buy-1"},
    )
    assert again.json() == bought.json()
    paid = httpx.post(f"{acme.env['XENDIT_API_BASE']}/_fake/invoices/{bought.json()['ref']}/pay")
    assert paid.status_code == 200, paid.text
    acme.drain()
    assert acme.read(user)["credits_cents"] == 1_234


def test_a_subscription_checkout_flips_the_plan_and_cancelling_drops_it(acme: Acme) -> None:
    user = acme.user()
    started = acme.http.post("/api/v1/billing/checkout", json={"user_id": user, "plan": "pro"})
    assert started.status_code == 201, started.text
    base, key = acme.env["STRIPE_API_BASE"], acme.env["STRIPE_API_KEY"]
    done = httpx.post(f"{base}/_fake/checkout/sessions/{started.json()['session_id']}/complete")
    assert done.status_code == 200, done.text
    acme.drain()
    assert acme.http.get(f"/api/v1/billing/{user}").json()["plan"] == "pro"
    sub = done.json()["subscription"]
    sub_id = sub["id"] if isinstance(sub, dict) else sub
    assert httpx.delete(f"{base}/v1/subscriptions/{sub_id}", auth=(key, "")).status_code == 200
    acme.drain()
    assert acme.read(user)["plan"] == "free"


def test_a_cancellation_delivered_before_its_payment_keeps_the_user_free(acme: Acme) -> None:
    user, sub = acme.user(), "sub_early_cancel"
    meta = {"acme_user": user, "plan": "team"}
    canceled = {"id": sub, "object": "subscription", "status": "canceled", "metadata": meta}
    paid = {
        "id": "in_early",
        "object": "invoice",
        "amount_paid": 10_000,
        "currency": "usd",
        "parent": {"subscription_details": {"subscription": sub, "metadata": meta}},
    }
    signer = StripeSigner(acme.env["STRIPE_WEBHOOK_SECRET"])
    for event_id, event_type, obj in (
        ("evt_cancel", "customer.subscription.deleted", canceled),
        ("evt_paid", "invoice.paid", paid),
    ):
        body = json.dumps({"id": event_id, "type": event_type, "data": {"object": obj}}).encode()
        answer = acme.http.post("/webhooks/stripe", content=body, headers=signer.sign(body))
        assert answer.status_code == 200, answer.text
    assert acme.read(user)["plan"] == "free"


def test_a_charge_adds_the_rounded_up_clamped_markup_and_refuses_an_overdraft(acme: Acme) -> None:
    user = acme.user(credits=1_000)
    charged = acme.http.post(
        "/api/v1/usage/charge",
        json={"user_id": user, "request_id": "r1", "cost_cents": 333, "markup_bps": 99_999},
    )
    assert charged.json() == {
        "ok": True,
        "charged_cents": 500,
        "markup_bps": 5_000,
        "replayed": False,
    }
    refused = acme.http.post(
        "/api/v1/usage/charge",
        json={"user_id": user, "request_id": "r2", "cost_cents": 501, "markup_bps": 0},
    )
    assert (refused.status_code, refused.json()) == (
        402,
        {"ok": False, "error": "insufficient_credits"},
    )
    assert acme.read(user)["credits_cents"] == 500


def test_a_forged_stripe_signature_is_refused_in_acmes_error_shape(acme: Acme) -> None:
    body = b'{"id": "evt_forged", "type": "invoice.paid", "data": {"object": {}}}'
    headers = StripeSigner("whsec_not_the_secret").sign(body)
    answer = acme.http.post("/webhooks/stripe", content=body, headers=headers)
    assert (answer.status_code, answer.json()) == (400, {"ok": False, "error": "invalid_signature"})


def test_a_dormant_acme_answers_billing_disabled_and_calls_no_processor(tmp_path: Path) -> None:
    gen = _start(tmp_path, enabled=False)
    acme = next(gen)
    try:
        user = acme.user()
        acme.fakes.stripe.journal.clear()
        bought = acme.http.post(
            "/api/v1/credits/purchase",
            json={"user_id": user, "amount_cents": 500, "provider": "stripe"},
        )
        assert (bought.status_code, bought.json()["error"]) == (503, "billing_disabled")
        assert len(acme.fakes.stripe.journal) == 0
    finally:
        next(gen, None)


# -- the planted defects misbehave (so a harness that misses them has missed a real bug) -----------------


def test_planted_duplicate_credit_credits_a_redelivered_funding_twice(
    acme_with: Callable[[str], Acme],
) -> None:
    acme = acme_with("stripe_no_dedupe")
    user = acme.user()
    acme.stripe_credit(user, 1_000)
    event = acme.fakes.stripe.events("customer_cash_balance_transaction.created")[-1]
    acme.fakes.stripe.webhooks.send(
        event["id"], json.dumps(event).encode(), event_type=event["type"]
    )
    acme.drain()
    assert acme.read(user)["credits_cents"] == 2_000


def test_planted_overdraft_lets_a_charge_take_the_balance_below_zero(
    acme_with: Callable[[str], Acme],
) -> None:
    acme = acme_with("overdraw_by_one")
    user = acme.user(credits=100)
    acme.http.post(
        "/api/v1/usage/charge",
        json={"user_id": user, "request_id": "r", "cost_cents": 101, "markup_bps": 0},
    )
    assert acme.read(user)["credits_cents"] == -1


def test_planted_prefix_token_check_takes_a_forged_xendit_callback(
    acme_with: Callable[[str], Acme],
) -> None:
    acme = acme_with("xendit_token_prefix")
    answer = acme.http.post(
        "/webhooks/xendit",
        json={"id": "inv", "status": "PAID", "external_id": "nope", "amount": 5, "currency": "USD"},
        headers={"x-callback-token": acme.env["XENDIT_CALLBACK_TOKEN"][:3]},
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(("defects", "invoices"), [("", 1), ("xendit_retry_new_key", 2)])
def test_a_xendit_invoice_whose_answer_was_lost_is_retried_under_its_key_unless_planted_otherwise(
    acme_with: Callable[[str], Acme], defects: str, invoices: int
) -> None:
    acme = acme_with(defects)
    acme.fakes.xendit.faults.add(
        Fault(path="/v2/invoices", method="POST", lose_answer=True, first_k=1)
    )
    bought = acme.http.post(
        "/api/v1/credits/purchase",
        json={"user_id": acme.user(), "amount_cents": 500, "provider": "xendit"},
    )
    assert bought.status_code == 201, bought.text
    found = httpx.get(
        f"{acme.env['XENDIT_API_BASE']}/v2/invoices",
        params={"external_id": bought.json()["purchase_id"]},
        auth=(acme.env["XENDIT_API_KEY"], ""),
    )
    listed = found.json()
    assert len(listed if isinstance(listed, list) else listed["data"]) == invoices
