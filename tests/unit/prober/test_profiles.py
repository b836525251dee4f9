"""Profiles: the two shipped ones, and strict loading of a user's own TOML."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.prober import ProfileError, UnknownProfile, load_profile, shipped_profiles
from harness.prober.profile import DEFAULT_PROFILE

MINIMAL = """
name = "mine"
[cohort]
create_path = "/accounts"
delete_path = "/accounts/{account_id}"
[checkout]
path = "/checkout"
body = { account = "{account_id}" }
[billing]
path = "/billing?account={account_id}"
[invoices]
path = "/invoices"
[webhook]
path = "/hooks/stripe"
scheme = "stripe"
secret_env = "MY_SECRET"
unsigned_body = { type = "invoice.paid" }
[webhook.rejection]
status = 401
code = "bad_signature"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reference_and_razorpay_subscriptions_ship_and_reference_is_the_default() -> None:
    assert shipped_profiles() == ("razorpay-subscriptions", "reference")
    assert DEFAULT_PROFILE == "reference"


def test_the_reference_profile_probes_the_reference_contract() -> None:
    profile = load_profile("reference")
    assert profile.checkout.path == "/v1/billing/checkout"
    assert profile.checkout.body == {"account_id": "{account_id}", "plan": "pro", "rail": "stripe"}
    assert profile.billing.path == "/v1/billing?account_id={account_id}"
    assert profile.webhook.path == "/v1/payments/webhook/stripe"
    assert profile.webhook.scheme == "stripe"
    assert profile.webhook.secret_env == ("STRIPE_WEBHOOK_SECRET",)
    assert (profile.webhook.rejection.status, profile.webhook.rejection.code) == (
        400,
        "missing_signature_header",
    )
    assert [(d.status, d.code) for d in profile.dormant] == [(503, "payments_not_live")]
    assert profile.needs_run_account
    assert profile.upgrade is not None and profile.upgrade.tier_field == "plan_tier"


def test_the_razorpay_profile_has_the_prior_art_api_shape() -> None:
    profile = load_profile("razorpay-subscriptions")
    assert profile.checkout.path == "/api/v1/billing/checkout"
    assert profile.checkout.body == {"plan": "pro"}
    assert profile.billing.path == "/api/v1/billing"
    assert profile.invoices.path == "/api/v1/billing/invoices"
    assert profile.webhook.path == "/razorpay/webhook"
    assert profile.webhook.scheme == "razorpay"
    assert profile.webhook.event_id_header == "x-razorpay-event-id"
    assert (profile.webhook.rejection.status, profile.webhook.rejection.code) == (
        400,
        "invalid_signature",
    )
    assert profile.webhook.unsigned_body == {
        "event": "subscription.charged",
        "payload": {"synthetic": "payment-probe-security-leg-not-a-real-webhook"},
    }
    assert profile.auth.required and profile.auth.token_env == "PAYMENT_PROBE_TOKEN"
    assert profile.upgrade is not None and profile.upgrade.event["event"] == "subscription.charged"
    assert profile.budgets_seconds == {
        "checkout_reachable": 5.0,
        "billing_state": 2.0,
        "invoices_reachable": 2.0,
        "webhook_security": 2.0,
        "upgrade_webhook_e2e": 8.0,
    }
    assert not profile.needs_run_account


def test_a_profile_file_loads_by_path_with_default_budgets(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, MINIMAL))
    assert profile.name == "mine"
    assert profile.webhook.secret_env == ("MY_SECRET",)
    assert profile.budgets_seconds["upgrade_webhook_e2e"] == 8.0
    assert profile.upgrade is None
    assert load_profile(str(tmp_path / "mine.toml")).name == "mine"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('name = "mine"', 'name = "mine"\nnmae = "typo"'), "unknown key(s): nmae"),
        (('scheme = "stripe"', 'scheme = "paypal"'), "`scheme` 'paypal' is not one of"),
        (("status = 401", 'status = "401"'), "`status` must be an integer, got str"),
        (("status = 401", "status = 99"), "`status` 99 is not an HTTP status"),
        (('path = "/invoices"', 'path = "/invoices?x={plan_id}"'), "uses {plan_id}"),
        (('path = "/invoices"', 'path = "invoices"'), "`path` must start with /"),
        (
            ('delete_path = "/accounts/{account_id}"', 'delete_path = "/accounts/all"'),
            "must name {account_id}",
        ),
        (('[invoices]\npath = "/invoices"', ""), "`invoices` is required"),
        (('secret_env = "MY_SECRET"', "secret_env = []"), "`secret_env` must name at least one"),
    ],
)
def test_a_malformed_profile_is_refused_with_the_key_named(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in MINIMAL
    with pytest.raises(ProfileError, match=r"profile .*mine\.toml") as caught:
        load_profile(write(tmp_path, MINIMAL.replace(old, new, 1)))
    assert message in str(caught.value)
    assert caught.value.code == "probe_profile_invalid"


def test_a_reachability_leg_needing_an_account_needs_a_way_to_get_one(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        '[cohort]\ncreate_path = "/accounts"\ndelete_path = "/accounts/{account_id}"\n', ""
    )
    with pytest.raises(ProfileError, match="no \\[cohort\\] to mint one"):
        load_profile(write(tmp_path, text))


def test_an_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(
        UnknownProfile, match="shipped: razorpay-subscriptions, reference"
    ) as caught:
        load_profile("stripe-connect")
    assert caught.value.code == "unknown_probe_profile"


def test_a_missing_profile_file_is_an_unknown_profile(tmp_path: Path) -> None:
    with pytest.raises(UnknownProfile, match="cannot read profile file"):
        load_profile(tmp_path / "absent.toml")


def test_invalid_toml_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(write(tmp_path, "name = "))


def test_a_profile_without_the_newer_keys_still_loads_with_safe_defaults(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, MINIMAL))
    assert profile.billing.fields == () and not profile.billing.authed  # no shape, no auth to check
    assert profile.cohort is not None
    assert profile.cohort.read_path == "/accounts/{account_id}"  # read back where it was deleted
    assert profile.cohort.guard_account_env is None
    assert profile.upgrade is None


def test_shapes_auth_read_back_guard_and_unknown_plan_answers_are_read(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'path = "/billing?account={account_id}"',
        'path = "/billing?account={account_id}"\nfields = ["plan.tier", "status"]\nauthed = true',
    ).replace(
        'delete_path = "/accounts/{account_id}"',
        'delete_path = "/accounts/{account_id}"\nread_path = "/accounts/{account_id}/state"\n'
        'guard_account_env = "MY_GUARD"',
    )
    text += """
[upgrade]
plan = "pro"
tier_path = "/billing?account={account_id}"
tier_field = "plan.tier"
event = { id = "{event_id}" }
[[upgrade.unknown_plan]]
status = 422
code = "unknown_plan"
"""
    profile = load_profile(write(tmp_path, text))
    assert profile.billing.fields == ("plan.tier", "status") and profile.billing.authed
    assert profile.cohort is not None
    assert profile.cohort.read_path == "/accounts/{account_id}/state"
    assert profile.cohort.guard_account_env == "MY_GUARD"
    assert profile.upgrade is not None
    assert [(e.status, e.code) for e in profile.upgrade.unknown_plan] == [(422, "unknown_plan")]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('path = "/invoices"', 'path = "/invoices"\nfields = []', "[invoices] `fields` must name"),
        (
            'path = "/invoices"',
            'path = "/invoices"\nauthed = "yes"',
            "`authed` must be true or false",
        ),
        (
            'delete_path = "/accounts/{account_id}"',
            'delete_path = "/accounts/{account_id}"\nread_path = "/a/{run_id}"',
            "read_path uses {run_id}",
        ),
    ],
)
def test_the_newer_keys_are_checked_as_strictly_as_the_rest(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(ProfileError, match=message.replace("[", r"\[").replace("{", r"\{")):
        load_profile(write(tmp_path, MINIMAL.replace(old, new)))


def test_the_shipped_profiles_name_the_fields_their_legs_rely_on() -> None:
    reference = load_profile("reference")
    assert reference.billing.fields == ("plan_tier",)
    assert not reference.checkout.authed  # the reference has no bearer auth
    razorpay = load_profile("razorpay-subscriptions")
    assert razorpay.billing.fields == ("tier",)
    assert all(t.authed for t in (razorpay.checkout, razorpay.billing, razorpay.invoices))
    assert razorpay.upgrade is not None and razorpay.upgrade.unknown_plan
