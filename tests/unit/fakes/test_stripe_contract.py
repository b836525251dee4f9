"""The pinned Stripe subset matches the routes the fake serves."""

from __future__ import annotations

import json

from contracts import contract_path
from fakes.stripe.contract import openapi


def test_the_pinned_stripe_subset_lists_exactly_the_routes_the_fake_serves() -> None:
    pinned = json.loads(contract_path("processors/stripe.openapi.json").read_text())
    # On failure: python -m fakes.stripe.contract > contracts/processors/stripe.openapi.json
    assert pinned == openapi()


def test_the_subset_covers_the_top_up_and_upgrade_flows() -> None:
    paths = openapi()["paths"]
    assert "post" in paths["/v1/customers/{customer}/balance_transactions"]
    assert "post" in paths["/v1/test_helpers/customers/{customer}/fund_cash_balance"]
    assert "post" in paths["/v1/checkout/sessions"]
    assert "delete" in paths["/v1/subscriptions/{subscription}"]
    assert "get" in paths["/v1/events"]
