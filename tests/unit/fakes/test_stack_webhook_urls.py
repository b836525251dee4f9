"""Per-rail webhook URLs for a service whose webhook paths are its own (`payharness fakes --webhook-url`)."""

from __future__ import annotations

import pytest

from fakes.stack import FakeStack, StackConfig


def test_per_rail_urls_win_over_the_target_and_the_other_rails_keep_the_contract_path() -> None:
    stack = FakeStack(StackConfig(webhook_urls={"stripe": "http://127.0.0.1:9/hooks/stripe"}))
    assert stack.webhook_urls("http://127.0.0.1:8000/") == {
        "stripe": "http://127.0.0.1:9/hooks/stripe",
        "cdp": "http://127.0.0.1:8000/v1/payments/webhook/cdp",
        "xendit": "http://127.0.0.1:8000/v1/payments/webhook/xendit",
    }


def test_without_a_target_only_the_named_rails_get_webhooks() -> None:
    stack = FakeStack(StackConfig(webhook_urls={"xendit": "http://127.0.0.1:9/x"}))
    assert stack.webhook_urls(None) == {"xendit": "http://127.0.0.1:9/x"}


def test_a_rail_without_a_fake_is_refused_with_the_rails_there_are() -> None:
    stack = FakeStack(StackConfig(webhook_urls={"paypal": "http://127.0.0.1:9/p"}))
    with pytest.raises(ValueError, match="stripe, cdp or xendit"):
        stack.webhook_urls(None)
