"""StripeSigner against stripe-python's own verifier, and its tolerance edges (PROCESSORS.md 1.1)."""

from __future__ import annotations

import json

import pytest
import stripe
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st
from stripe import SignatureVerificationError, Webhook, WebhookSignature

from fakes.signing import (
    MalformedHeaderError,
    MissingHeaderError,
    NoMatchingSignatureError,
    StripeSigner,
    TimestampOutsideToleranceError,
)

SECRET = "whsec_stripe_test_secret"
OLD_SECRET = "whsec_stripe_old_secret"
NOW = 1_700_000_000
EVENT = json.dumps({"id": "evt_123", "object": "event", "type": "invoice.paid"}).encode()


FROZEN_AT = "2023-11-14 22:13:20"  # NOW, in UTC


def signer_at(now: float = NOW, tolerance_seconds: int | None = 300) -> StripeSigner:
    return StripeSigner(SECRET, now=lambda: now, tolerance_seconds=tolerance_seconds)


# --- stripe-python accepts what we sign, and we accept what it signs -----------------------------


def test_construct_event_accepts_our_signature_and_returns_the_event() -> None:
    header = StripeSigner(SECRET).sign(EVENT)["Stripe-Signature"]
    event = Webhook.construct_event(EVENT, header, SECRET)
    assert event.id == "evt_123"
    assert event.type == "invoice.paid"


def test_construct_event_rejects_our_signature_over_a_tampered_body() -> None:
    header = StripeSigner(SECRET).sign(EVENT)["Stripe-Signature"]
    tampered = EVENT.replace(b"invoice.paid", b"invoice.void")
    with pytest.raises(SignatureVerificationError, match="No signatures found matching"):
        Webhook.construct_event(tampered, header, SECRET)


def test_we_accept_the_header_stripe_python_generates() -> None:
    header = WebhookSignature.generate_signature_header(EVENT.decode(), SECRET, timestamp=NOW)
    assert signer_at().verify(EVENT, {"Stripe-Signature": header}) == NOW


@settings(deadline=None)
@given(body=st.text())
def test_stripe_python_verifies_our_signature_over_any_text_body(body: str) -> None:
    header = StripeSigner(SECRET).sign(body.encode())["Stripe-Signature"]
    assert WebhookSignature.verify_header(body.encode(), header, SECRET, tolerance=300)


def test_a_body_that_is_not_utf8_round_trips_with_us_but_stripe_python_cannot_read_it() -> None:
    body = b'{"note":"\xff\xfe"}'
    headers = StripeSigner(SECRET).sign(body)
    StripeSigner(SECRET).verify(body, headers)
    with pytest.raises(UnicodeDecodeError):
        WebhookSignature.verify_header(body, headers["Stripe-Signature"], SECRET)


# --- rotation and the bogus v0 ------------------------------------------------------------------


def test_during_rotation_one_v1_per_secret_is_sent_and_either_secret_verifies() -> None:
    header = StripeSigner([SECRET, OLD_SECRET]).sign(EVENT)["Stripe-Signature"]
    assert header.count(",v1=") == 2
    Webhook.construct_event(EVENT, header, SECRET)
    Webhook.construct_event(EVENT, header, OLD_SECRET)
    StripeSigner(OLD_SECRET).verify(EVENT, {"Stripe-Signature": header})


def test_signing_with_the_newest_secret_only_is_an_option() -> None:
    headers = StripeSigner([SECRET, OLD_SECRET]).sign(EVENT, all_secrets=False)
    assert headers["Stripe-Signature"].count("v1=") == 1
    with pytest.raises(NoMatchingSignatureError):
        StripeSigner(OLD_SECRET).verify(EVENT, headers)


def test_the_test_mode_v0_is_ignored_by_stripe_python_and_by_us() -> None:
    headers = signer_at().sign(EVENT, timestamp=NOW, include_v0=True)
    assert headers["Stripe-Signature"].split(",")[-1].startswith("v0=")
    assert signer_at().verify(EVENT, headers) == NOW
    WebhookSignature.verify_header(EVENT, headers["Stripe-Signature"], SECRET)


def test_a_header_with_only_v0_has_no_matching_signature_as_in_stripe_python() -> None:
    header = signer_at().sign(EVENT, include_v0=True)["Stripe-Signature"]
    only_v0 = ",".join(item for item in header.split(",") if not item.startswith("v1="))
    with pytest.raises(NoMatchingSignatureError) as caught:
        signer_at().verify(EVENT, {"Stripe-Signature": only_v0})
    assert caught.value.code == "no_matching_signature"
    with pytest.raises(SignatureVerificationError, match="expected scheme v1"):
        WebhookSignature.verify_header(EVENT, only_v0, SECRET)


def test_any_matching_v1_among_several_passes() -> None:
    good = signer_at().sign(EVENT, timestamp=NOW)["Stripe-Signature"]
    t, v1 = good.split(",")
    assert signer_at().verify(EVENT, {"Stripe-Signature": f"{t},v1=deadbeef,{v1},v1=00"}) == NOW


# --- parsing and the order of checks ----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["v1=abc", "t=,v1=abc", "t=soon,v1=abc", "t=-5,v1=abc", "t= 5,v1=abc", "garbage", "t"],
)
def test_a_header_without_a_readable_timestamp_is_malformed(header: str) -> None:
    with pytest.raises(MalformedHeaderError):
        signer_at().verify(EVENT, {"Stripe-Signature": header})


def test_a_missing_header_is_missing_header() -> None:
    with pytest.raises(MissingHeaderError):
        signer_at().verify(EVENT, {})


def test_leading_zeros_in_t_do_not_change_what_is_signed_as_in_stripe_python() -> None:
    v1 = signer_at().sign(EVENT, timestamp=NOW)["Stripe-Signature"].split(",")[1]
    padded = f"t=000{NOW},{v1}"
    assert signer_at().verify(EVENT, {"Stripe-Signature": padded}) == NOW
    with freeze_time(FROZEN_AT):
        WebhookSignature.verify_header(EVENT, padded, SECRET, tolerance=300)


def test_a_wrong_signature_on_a_stale_event_reports_the_signature_not_the_age() -> None:
    # stripe-python checks the HMAC before the timestamp.
    stale = StripeSigner(OLD_SECRET).sign(EVENT, timestamp=NOW - 3600)
    with pytest.raises(NoMatchingSignatureError):
        signer_at().verify(EVENT, stale)


# --- tolerance: 300 s, past only ------------------------------------------------------------------


def test_an_event_exactly_at_the_tolerance_passes() -> None:
    headers = signer_at().sign(EVENT, timestamp=NOW - 300)
    assert signer_at().verify(EVENT, headers) == NOW - 300


def test_an_event_one_second_past_the_tolerance_is_rejected() -> None:
    headers = signer_at().sign(EVENT, timestamp=NOW - 301)
    with pytest.raises(TimestampOutsideToleranceError) as caught:
        signer_at().verify(EVENT, headers)
    assert caught.value.code == "timestamp_outside_tolerance"


def test_half_a_second_past_the_tolerance_is_rejected_like_stripe_python() -> None:
    headers = signer_at().sign(EVENT, timestamp=NOW - 300)
    with pytest.raises(TimestampOutsideToleranceError):
        signer_at(NOW + 0.5).verify(EVENT, headers)


def test_a_future_timestamp_passes_as_in_stripe_python() -> None:
    headers = signer_at().sign(EVENT, timestamp=NOW + 86_400)
    assert signer_at().verify(EVENT, headers) == NOW + 86_400


def test_a_custom_tolerance_is_honoured_and_none_disables_the_check() -> None:
    headers = signer_at().sign(EVENT, timestamp=NOW - 61)
    with pytest.raises(TimestampOutsideToleranceError):
        signer_at(tolerance_seconds=60).verify(EVENT, headers)
    ancient = signer_at().sign(EVENT, timestamp=0)
    assert signer_at(tolerance_seconds=None).verify(EVENT, ancient) == 0


def test_the_default_clock_follows_freezegun() -> None:
    with freeze_time(FROZEN_AT):
        headers = StripeSigner(SECRET).sign(EVENT)
        assert headers["Stripe-Signature"].startswith(f"t={NOW},")


@pytest.mark.parametrize(
    ("age_seconds", "accepted"), [(300, True), (301, False), (-3600, True), (0, True)]
)
def test_our_tolerance_agrees_with_construct_event_at_the_edges(
    age_seconds: int, accepted: bool
) -> None:
    with freeze_time(FROZEN_AT):
        signer = StripeSigner(SECRET)
        header = signer.sign(EVENT, timestamp=NOW - age_seconds)["Stripe-Signature"]
        ours: bool
        try:
            signer.verify(EVENT, {"Stripe-Signature": header})
            ours = True
        except TimestampOutsideToleranceError:
            ours = False
        try:
            stripe.Webhook.construct_event(EVENT, header, SECRET)
            theirs = True
        except SignatureVerificationError:
            theirs = False
    assert ours is theirs is accepted
