"""`PAYMENTS_LIVE` switches money on only for an explicit yes; everything else leaves the service dormant."""

from __future__ import annotations

import pytest

from harness.reference import parse_live_flag, settings_from_env

LIVE_SPELLINGS = ["1", "true", "TRUE", "True", "yes", "YES", "on", "On", " on ", "\ttrue\n", " 1 "]
DORMANT_SPELLINGS = [
    None,
    "",
    " ",
    "0",
    " 0 ",
    "false",
    "FALSE",
    "no",
    "off",
    "OFF",
    "2",
    "enabled",
    "y",
    "t",
    "truee",
    "yes please",
    "1.0",
    "ON!",
    "live",
]


@pytest.mark.parametrize("value", LIVE_SPELLINGS)
def test_explicit_yes_spellings_switch_payments_live(value: str) -> None:
    assert parse_live_flag(value) is True


@pytest.mark.parametrize("value", DORMANT_SPELLINGS)
def test_anything_else_leaves_payments_dormant(value: str | None) -> None:
    assert parse_live_flag(value) is False


@pytest.mark.parametrize("value", LIVE_SPELLINGS)
def test_environment_with_a_yes_builds_live_settings(value: str) -> None:
    assert settings_from_env({"PAYMENTS_LIVE": value}).payments_live is True


@pytest.mark.parametrize("value", [v for v in DORMANT_SPELLINGS if v is not None])
def test_environment_with_any_other_value_builds_dormant_settings(value: str) -> None:
    assert settings_from_env({"PAYMENTS_LIVE": value}).payments_live is False


def test_environment_without_the_flag_builds_dormant_settings() -> None:
    assert settings_from_env({}).payments_live is False


def test_environment_configures_a_rail_only_when_all_its_variables_are_set() -> None:
    settings = settings_from_env(
        {
            "PAYMENTS_LIVE": "yes",
            "STRIPE_API_BASE": "http://127.0.0.1:12111",
            "STRIPE_API_KEY": "sk_test_x",
            "STRIPE_WEBHOOK_SECRET": "whsec_x",
        }
    )
    assert settings.stripe is not None
    assert settings.stripe.webhook_secret == "whsec_x"
    assert settings.xendit is None
    assert settings.cdp is None


def test_half_configured_rail_is_refused_rather_than_silently_left_off() -> None:
    with pytest.raises(ValueError, match="STRIPE_WEBHOOK_SECRET"):
        settings_from_env({"STRIPE_API_BASE": "http://x", "STRIPE_API_KEY": "sk_test_x"})


def test_environment_margins_and_admin_secret_reach_the_settings() -> None:
    settings = settings_from_env(
        {"MIN_MARGIN_BPS": "100", "MAX_MARGIN_BPS": "5000", "ADMIN_SECRET": "s3cret"}
    )
    assert (settings.min_margin_bps, settings.max_margin_bps) == (100, 5000)
    assert settings.admin_secret == "s3cret"
