"""Targets: the in-process reference wired to loopback fakes, rebuildable; a URL target is not."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.target import (
    TargetNotRebuildable,
    fake_env,
    reference_target,
    url_target,
)


def test_the_in_process_reference_is_live_and_wired_to_all_three_fakes() -> None:
    with reference_target() as target:
        assert target.capabilities.live and target.capabilities.rebuildable
        assert target.capabilities.rails == ("cdp", "stripe", "xendit")
        with target.client() as client:
            status = client.get("/v1/payments/status").json()
        assert status == {
            "live": True,
            "rails": {rail: {"configured": True} for rail in ("stripe", "cdp", "xendit")},
        }
        cdp = target.fakes.get("cdp").config()
        assert cdp["webhook_secret"] == target.fakes.credentials.cdp_webhook_secret


def test_a_top_up_through_the_reference_reaches_the_stripe_fakes_journal() -> None:
    with reference_target() as target, target.client() as client:
        account = client.post("/v1/accounts", json={}).json()["id"]
        started = client.post(
            "/v1/payments/topup/stripe", json={"account_id": account, "amount_micros": 5_000_000}
        )
        assert started.status_code == 201, started.text
        calls = target.fakes.get("stripe").journal(method="POST")
        assert any(call["path"] == "/v1/customers" for call in calls)


async def test_the_async_client_works_from_any_event_loop() -> None:
    with reference_target(with_fakes=False) as target:
        async with target.async_client() as client:
            created = await client.post("/v1/accounts", json={"is_test_cohort": True})
            assert created.status_code == 201
            gone = await client.delete(f"/v1/accounts/{created.json()['id']}")
            assert gone.status_code == 204


def test_a_rebuilt_reference_takes_other_settings() -> None:
    with (
        reference_target(with_fakes=False) as target,
        target.rebuild(payments_live=False) as dormant,
    ):
        assert not dormant.capabilities.live
        with dormant.client() as client:
            refused = client.post("/v1/charges", json={"inference_id": "inf_1"})
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "payments_not_live"


def test_a_url_target_cannot_be_rebuilt(serve_reference: Callable[..., str]) -> None:
    target = url_target(serve_reference())
    assert target.capabilities.live and not target.capabilities.rebuildable
    with pytest.raises(TargetNotRebuildable):
        target.rebuild(payments_live=False)


def test_fake_env_names_every_setting_a_service_needs() -> None:
    with reference_target() as target:
        env = fake_env(target.fakes)
    assert env["PAYMENTS_LIVE"] == "1"
    for name in ("STRIPE_API_BASE", "XENDIT_API_BASE", "CDP_FACILITATOR_URL", "CDP_PAY_TO"):
        assert env[name]
