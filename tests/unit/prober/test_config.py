"""Configuration at the edge: the enabled flag, the target URL, timeouts, templates."""

from __future__ import annotations

import pytest

from harness.prober import (
    InvalidEnabledFlag,
    InvalidTarget,
    ProbeConfig,
    load_profile,
    parse_enabled_flag,
)
from harness.prober.config import display_target, leg_timeout_seconds
from harness.prober.templates import placeholders_in, render_path, render_value


@pytest.mark.parametrize("value", [None, "", "  ", "1", "true", "YES", " on "])
def test_the_probe_runs_unless_switched_off(value: str | None) -> None:
    assert parse_enabled_flag(value) is True


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "OFF "])
def test_the_off_spellings_make_the_probe_inert(value: str) -> None:
    assert parse_enabled_flag(value) is False


def test_a_flag_that_is_neither_on_nor_off_is_refused() -> None:
    with pytest.raises(InvalidEnabledFlag) as caught:
        parse_enabled_flag("disabled-ish")
    assert caught.value.code == "invalid_probe_enabled_flag"


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("https://staging.example.test/api/", "https://staging.example.test/api"),
    ],
)
def test_the_target_trailing_slash_is_trimmed(url: str, normalized: str) -> None:
    config = ProbeConfig(target=url, profile=load_profile("reference"))
    assert config.target == normalized


@pytest.mark.parametrize(
    "url", ["ftp://example.test", "127.0.0.1:8000", "http://", "http://h.test/?a=1", "not a url"]
)
def test_a_target_that_is_not_an_http_base_url_is_refused(url: str) -> None:
    with pytest.raises(InvalidTarget) as caught:
        ProbeConfig(target=url, profile=load_profile("reference"))
    assert caught.value.code == "invalid_probe_target"


def test_credentials_are_dropped_from_the_displayed_target() -> None:
    assert display_target("https://u:p@h.test:8443/x") == "https://h.test:8443/x"
    assert display_target("http://h.test") == "http://h.test"


@pytest.mark.parametrize(
    ("budget", "timeout"), [(2.0, 4.0), (5.0, 10.0), (8.0, 15.0), (0.0, 15.0), (0.25, 0.5)]
)
def test_each_leg_times_out_at_twice_its_budget_capped_at_15_seconds(
    budget: float, timeout: float
) -> None:
    assert leg_timeout_seconds(budget) == timeout


def test_budgets_come_from_overrides_then_the_profile() -> None:
    config = ProbeConfig(
        target="http://t.test",
        profile=load_profile("reference"),
        budgets_seconds={"billing_state": 0.5},
    )
    assert config.budget_for("billing_state") == 0.5
    assert config.budget_for("upgrade_webhook_e2e") == 8.0


def test_a_lone_placeholder_keeps_its_type_and_others_become_text() -> None:
    template = {"created": "{now}", "name": "probe-{run_id}", "list": ["{account_id}", 3]}
    values: dict[str, str | int] = {"now": 1700000000, "run_id": "r1", "account_id": "acct_1"}
    assert render_value(template, values) == {
        "created": 1700000000,
        "name": "probe-r1",
        "list": ["acct_1", 3],
    }
    assert placeholders_in(template) == {"now", "run_id", "account_id"}


def test_path_placeholders_are_percent_encoded() -> None:
    assert render_path("/v1/accounts/{account_id}", {"account_id": "a/../b?c"}) == (
        "/v1/accounts/a%2F..%2Fb%3Fc"
    )
