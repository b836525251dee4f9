"""Schemes without a timestamp: Razorpay (against its SDK), Coinbase Commerce, Xendit's token."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import razorpay
from hypothesis import given, settings
from hypothesis import strategies as st
from razorpay.errors import SignatureVerificationError

from fakes.signing import (
    CoinbaseCommerceSigner,
    InvalidSigningArgument,
    MissingHeaderError,
    NoMatchingSignatureError,
    RazorpaySigner,
    XenditCallbackToken,
)

RZP_SECRET = "rzp_webhook_secret"
RZP_BODY = json.dumps(
    {"entity": "event", "event": "subscription.charged", "payload": {"payment": {"amount": 6000}}}
).encode()


def razorpay_utility() -> razorpay.Utility:
    # Webhook verification needs no API key, but the SDK hangs Utility off a Client.
    return razorpay.Client(auth=("rzp_test_key", "rzp_test_key_secret")).utility


# --- Razorpay -------------------------------------------------------------------------------------


def test_the_razorpay_sdk_accepts_our_signature() -> None:
    signature = RazorpaySigner(RZP_SECRET).sign(RZP_BODY)["X-Razorpay-Signature"]
    assert razorpay_utility().verify_webhook_signature(RZP_BODY.decode(), signature, RZP_SECRET)


def test_the_razorpay_sdk_rejects_our_signature_over_a_tampered_body() -> None:
    signature = RazorpaySigner(RZP_SECRET).sign(RZP_BODY)["X-Razorpay-Signature"]
    tampered = RZP_BODY.replace(b"6000", b"600000").decode()
    with pytest.raises(SignatureVerificationError):
        razorpay_utility().verify_webhook_signature(tampered, signature, RZP_SECRET)


@settings(deadline=None)
@given(body=st.text())
def test_the_razorpay_sdk_verifies_our_signature_over_any_text_body(body: str) -> None:
    signature = RazorpaySigner(RZP_SECRET).sign(body.encode())["X-Razorpay-Signature"]
    assert razorpay_utility().verify_webhook_signature(body, signature, RZP_SECRET)


def test_we_accept_a_signature_the_razorpay_sdk_accepts() -> None:
    signature = hmac.new(RZP_SECRET.encode(), RZP_BODY, hashlib.sha256).hexdigest()
    razorpay_utility().verify_webhook_signature(RZP_BODY.decode(), signature, RZP_SECRET)
    RazorpaySigner(RZP_SECRET).verify(RZP_BODY, {"x-razorpay-signature": signature})


def test_the_signature_is_64_lowercase_hex_and_deterministic() -> None:
    first = RazorpaySigner(RZP_SECRET).sign(RZP_BODY)["X-Razorpay-Signature"]
    assert first == RazorpaySigner(RZP_SECRET).sign(RZP_BODY)["X-Razorpay-Signature"]
    assert len(first) == 64
    assert first == first.lower()
    assert first != RazorpaySigner("another_secret").sign(RZP_BODY)["X-Razorpay-Signature"]


def test_an_uppercase_hex_signature_is_rejected_like_the_sdk_does() -> None:
    signature = RazorpaySigner(RZP_SECRET).sign(RZP_BODY)["X-Razorpay-Signature"].upper()
    with pytest.raises(NoMatchingSignatureError):
        RazorpaySigner(RZP_SECRET).verify(RZP_BODY, {"X-Razorpay-Signature": signature})
    with pytest.raises(SignatureVerificationError):
        razorpay_utility().verify_webhook_signature(RZP_BODY.decode(), signature, RZP_SECRET)


def test_the_event_id_header_is_set_when_given_and_keeps_verification_intact() -> None:
    headers = RazorpaySigner(RZP_SECRET).sign(RZP_BODY, event_id="evt_payprobe_1")
    assert headers["x-razorpay-event-id"] == "evt_payprobe_1"
    RazorpaySigner(RZP_SECRET).verify(RZP_BODY, headers)
    assert "x-razorpay-event-id" not in RazorpaySigner(RZP_SECRET).sign(RZP_BODY)


def test_an_empty_event_id_is_refused() -> None:
    with pytest.raises(InvalidSigningArgument):
        RazorpaySigner(RZP_SECRET).sign(RZP_BODY, event_id="")


def test_an_unsigned_razorpay_webhook_is_missing_header_and_an_empty_one_too() -> None:
    for headers in ({}, {"X-Razorpay-Signature": ""}):
        with pytest.raises(MissingHeaderError):
            RazorpaySigner(RZP_SECRET).verify(RZP_BODY, headers)


def test_an_empty_razorpay_secret_can_never_be_configured() -> None:
    for secret in ("", " ", ["rzp_webhook_secret", ""]):
        with pytest.raises(InvalidSigningArgument):
            RazorpaySigner(secret)


def test_an_older_razorpay_secret_still_verifies_retried_events() -> None:
    old = RazorpaySigner("old_secret").sign(RZP_BODY)
    RazorpaySigner([RZP_SECRET, "old_secret"]).verify(RZP_BODY, old)
    with pytest.raises(NoMatchingSignatureError):
        RazorpaySigner(RZP_SECRET).verify(RZP_BODY, old)


# --- Coinbase Commerce -----------------------------------------------------------------------------

CC_SECRET = "cc_shared_secret"
CC_BODY = b'{"event":{"id":"evt_1","type":"charge:confirmed"}}'


def test_commerce_compares_the_whole_header_value() -> None:
    signature = CoinbaseCommerceSigner(CC_SECRET).sign(CC_BODY)["X-CC-Webhook-Signature"]
    for wrapped in (f"sha256={signature}", f"{signature} ", f"v1={signature}"):
        with pytest.raises(NoMatchingSignatureError):
            CoinbaseCommerceSigner(CC_SECRET).verify(CC_BODY, {"X-CC-Webhook-Signature": wrapped})


def test_commerce_rejects_a_tampered_body() -> None:
    headers = CoinbaseCommerceSigner(CC_SECRET).sign(CC_BODY)
    with pytest.raises(NoMatchingSignatureError):
        CoinbaseCommerceSigner(CC_SECRET).verify(CC_BODY.replace(b"confirmed", b"failed"), headers)


# --- Xendit ----------------------------------------------------------------------------------------


def test_xendit_rejects_another_token() -> None:
    with pytest.raises(NoMatchingSignatureError) as caught:
        XenditCallbackToken("right").verify(b"{}", {"x-callback-token": "wrong"})
    assert caught.value.header == "x-callback-token"


def test_xendit_accepts_any_configured_token_and_sends_the_first() -> None:
    tokens = XenditCallbackToken(["new_token", "old_token"])
    assert tokens.sign(b"{}") == {"x-callback-token": "new_token"}
    tokens.verify(b"{}", {"X-CALLBACK-TOKEN": "old_token"})


def test_xendit_token_of_another_length_or_with_non_ascii_text_is_just_wrong() -> None:
    for given_token in ("righ", "right-and-more", "r\u00efght", "\ud800"):
        with pytest.raises(NoMatchingSignatureError):
            XenditCallbackToken("right").verify(b"{}", {"x-callback-token": given_token})


def test_an_empty_xendit_token_cannot_be_configured() -> None:
    with pytest.raises(InvalidSigningArgument, match="token"):
        XenditCallbackToken("")
