"""The `[gate]` table of a profile: how the gate reaches a service of its own shape, checked on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.prober import ProfileError, load_profile, shipped_profiles

ACME = Path(__file__).parents[3] / "examples" / "acme_billing" / "profile.toml"


def test_the_shipped_prober_profiles_still_load_and_speak_the_contract_directly() -> None:
    for name in shipped_profiles():
        assert load_profile(name).gate is None


def test_the_acme_profile_declares_its_money_its_errors_and_what_it_lacks() -> None:
    gate = load_profile(ACME).gate
    assert gate is not None
    assert (gate.money.unit, gate.money.micros_per_unit, gate.money.max_amount) == (
        "cents",
        10_000,
        100_000_000,
    )
    assert (gate.money.min_margin_bps, gate.money.max_margin_bps) == (0, 5_000)
    assert gate.errors["invalid_signature"] == "webhook_signature_invalid"
    assert gate.errors["insufficient_credits"] == "insufficient_credit"
    assert not gate.has("cdp") and not gate.has("paid_usage") and gate.has("stripe")
    assert gate.webhooks == {"stripe": "/webhooks/stripe", "xendit": "/webhooks/xendit"}
    assert gate.operations["ledger"].adjustments == ("test_state",)
    assert (gate.account_metadata_key, gate.outbound_timeout_seconds) == ("acme_user", 1.0)


def _broken(tmp_path: Path, old: str, new: str) -> str:
    text = ACME.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ('unit = "cents"', 'unit = "pennies"', "[gate.money] `unit` 'pennies'"),
        (
            "outbound_timeout_seconds = 1",
            "outbound_timeout_seconds = 0",
            "`outbound_timeout_seconds`",
        ),
        ('margin_rounding = "up"', 'margin_rounding = "sideways"', "`margin_rounding`"),
        ('lacks = ["cdp"', 'lacks = ["teleport", "cdp"', "`lacks` names 'teleport'"),
        (
            'insufficient_credits = "insufficient_credit"',
            'insufficient_credits = "too_poor"',
            "`errors.insufficient_credits` maps onto 'too_poor'",
        ),
        ('cost_cents = "{cost}"', 'cost_cents = "{price}"', "uses {price}"),
        ('charged = "charged_cents"', 'charge = "charged_cents"', "`fields.charge`"),
        ('"{env:ACME_TEST_TOKEN}"', '"{env:OTHER_TOKEN}"', "{env:OTHER_TOKEN}"),
        ("min_margin_bps = 0", "min_margin_bps = 9000", "`min_margin_bps` is above"),
        ('live_field = "enabled"', 'live_feld = "enabled"', "unknown key(s): live_feld"),
    ],
)
def test_a_broken_gate_table_is_refused_in_one_line_naming_the_key(
    tmp_path: Path, old: str, new: str, named: str
) -> None:
    assert named in _broken(tmp_path, old, new)


def test_a_gate_table_without_a_way_to_fund_accounts_is_refused(tmp_path: Path) -> None:
    message = _broken(tmp_path, "[gate.operations.set_balance]", "[gate.operations.unused]")
    assert "unknown key(s): unused" in message
