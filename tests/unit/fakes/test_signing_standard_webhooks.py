"""StandardWebhooksSigner against the standardwebhooks package (PROCESSORS.md 5)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from fakes.signing import (
    InvalidSigningArgument,
    MalformedHeaderError,
    MissingHeaderError,
    NoMatchingSignatureError,
    StandardWebhooksSigner,
    TimestampOutsideToleranceError,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_" + base64.b64encode(b"an-older-secret-24-bytes").decode()
NOW = 1_614_265_330
FROZEN_AT = "2021-02-25 15:02:10"  # NOW, in UTC
BODY = b'{"type":"invoice.paid","data":{"amount_cents":500}}'


def signer_at(now: float = NOW) -> StandardWebhooksSigner:
    return StandardWebhooksSigner(SECRET, now=lambda: now)


def test_the_standardwebhooks_package_accepts_our_headers_and_returns_the_payload() -> None:
    headers = StandardWebhooksSigner(SECRET).sign(BODY, msg_id="msg_1")
    assert Webhook(SECRET).verify(BODY, headers) == {
        "type": "invoice.paid",
        "data": {"amount_cents": 500},
    }


def test_the_standardwebhooks_package_rejects_our_headers_over_a_tampered_body() -> None:
    headers = StandardWebhooksSigner(SECRET).sign(BODY)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(SECRET).verify(BODY.replace(b"500", b"50000"), headers)


@settings(deadline=None)
@given(body=st.text())
def test_the_standardwebhooks_package_verifies_our_signature_over_any_text_body(body: str) -> None:
    headers = StandardWebhooksSigner(SECRET).sign(body.encode())
    Webhook(SECRET).verify(body.encode(), headers, json_parse=False)


def test_we_accept_what_the_standardwebhooks_package_signs() -> None:
    when = datetime.fromtimestamp(NOW, tz=UTC)
    signature = Webhook(SECRET).sign("msg_lib", when, BODY.decode())
    headers = {
        "webhook-id": "msg_lib",
        "webhook-timestamp": str(NOW),
        "webhook-signature": signature,
    }
    assert signer_at().verify(BODY, headers) == NOW


def test_a_secret_without_the_prefix_or_its_padding_is_the_same_key() -> None:
    unprefixed = SECRET.removeprefix("whsec_")
    headers = signer_at().sign(BODY, msg_id="msg_1", timestamp=NOW)
    StandardWebhooksSigner(unprefixed, now=lambda: NOW).verify(BODY, headers)
    raw = base64.b64encode(b"twenty-five-bytes-of-key!").decode()
    assert raw.endswith("=")
    padded = StandardWebhooksSigner("whsec_" + raw).sign(BODY, msg_id="m", timestamp=NOW)
    unpadded = StandardWebhooksSigner("whsec_" + raw.rstrip("=")).sign(
        BODY, msg_id="m", timestamp=NOW
    )
    assert padded == unpadded


@pytest.mark.parametrize("secret", ["whsec_", "whsec_!!!!", "whsec_\u00e9t\u00e9"])
def test_a_secret_that_is_not_base64_or_decodes_to_nothing_is_refused(secret: str) -> None:
    with pytest.raises(InvalidSigningArgument):
        StandardWebhooksSigner(secret)


# --- identity -------------------------------------------------------------------------------------


def test_a_message_id_is_generated_by_the_injected_source_when_none_is_given() -> None:
    ids = iter(["msg_a", "msg_b"])
    signer = StandardWebhooksSigner(SECRET, now=lambda: NOW, new_msg_id=lambda: next(ids))
    assert signer.sign(BODY)["webhook-id"] == "msg_a"
    assert signer.sign(BODY)["webhook-id"] == "msg_b"


def test_two_default_signers_do_not_reuse_message_ids() -> None:
    first, second = StandardWebhooksSigner(SECRET), StandardWebhooksSigner(SECRET)
    assert first.sign(BODY)["webhook-id"] != second.sign(BODY)["webhook-id"]


@pytest.mark.parametrize("msg_id", ["", "msg.1", "msg 1", "msg\n1", "m\u00e9g"])
def test_a_message_id_that_cannot_be_signed_unambiguously_is_refused(msg_id: str) -> None:
    with pytest.raises(InvalidSigningArgument):
        signer_at().sign(BODY, msg_id=msg_id)


def test_a_changed_message_id_is_rejected() -> None:
    headers = signer_at().sign(BODY, msg_id="msg_1", timestamp=NOW) | {"webhook-id": "msg_2"}
    with pytest.raises(NoMatchingSignatureError):
        signer_at().verify(BODY, headers)


# --- the signature list ---------------------------------------------------------------------------


def test_during_rotation_one_signature_per_secret_is_listed_and_either_secret_verifies() -> None:
    headers = StandardWebhooksSigner([SECRET, OLD_SECRET]).sign(BODY)
    assert headers["webhook-signature"].count("v1,") == 2
    Webhook(SECRET).verify(BODY, headers)
    Webhook(OLD_SECRET).verify(BODY, headers)
    StandardWebhooksSigner(OLD_SECRET).verify(BODY, headers)


def test_entries_of_another_version_are_skipped() -> None:
    headers = signer_at().sign(BODY, timestamp=NOW)
    listed = f"v1a,c29tZSBlZDI1NTE5 {headers['webhook-signature']} v2,abc"
    assert signer_at().verify(BODY, headers | {"webhook-signature": listed}) == NOW


def test_a_list_of_only_other_versions_has_no_matching_signature() -> None:
    headers = signer_at().sign(BODY, timestamp=NOW) | {"webhook-signature": "v1a,abc v2,def"}
    with pytest.raises(NoMatchingSignatureError):
        signer_at().verify(BODY, headers)


@pytest.mark.parametrize("listed", ["v1", "v1,abc  v1,def", " v1,abc", "garbage"])
def test_an_entry_that_is_not_version_comma_signature_is_malformed(listed: str) -> None:
    headers = signer_at().sign(BODY, timestamp=NOW) | {"webhook-signature": listed}
    with pytest.raises(MalformedHeaderError):
        signer_at().verify(BODY, headers)


def test_a_non_canonical_base64_spelling_of_the_right_bytes_is_rejected() -> None:
    # SW-PY decodes before comparing and would accept this; we compare the text (see the docstring).
    headers = signer_at().sign(b'{"test": 2432232314}', msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek")
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    same_bytes = {"webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF="}
    with pytest.raises(NoMatchingSignatureError):
        signer_at().verify(b'{"test": 2432232314}', headers | same_bytes)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_of_the_three_headers_is_required(missing: str) -> None:
    headers = signer_at().sign(BODY)
    del headers[missing]
    with pytest.raises(MissingHeaderError) as caught:
        signer_at().verify(BODY, headers)
    assert caught.value.header == missing


@pytest.mark.parametrize("stamp", ["1614265330.0", "1.6e9", "-1", "soon", " 1614265330"])
def test_a_timestamp_that_is_not_integer_seconds_is_malformed(stamp: str) -> None:
    headers = signer_at().sign(BODY) | {"webhook-timestamp": stamp}
    with pytest.raises(MalformedHeaderError):
        signer_at().verify(BODY, headers)


# --- tolerance: 5 minutes both ways, checked before the signature as in SW-PY ---------------------


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_a_message_within_five_minutes_either_way_passes(offset: int) -> None:
    headers = signer_at().sign(BODY, timestamp=NOW + offset)
    assert signer_at().verify(BODY, headers) == NOW + offset


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_message_more_than_five_minutes_away_either_way_is_rejected(offset: int) -> None:
    headers = signer_at().sign(BODY, timestamp=NOW + offset)
    with pytest.raises(TimestampOutsideToleranceError):
        signer_at().verify(BODY, headers)


def test_the_age_is_checked_before_the_signature_as_in_the_package() -> None:
    stale = StandardWebhooksSigner(OLD_SECRET).sign(BODY, timestamp=NOW - 3600)
    with pytest.raises(TimestampOutsideToleranceError):
        signer_at().verify(BODY, stale)
    with freeze_time(FROZEN_AT), pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(SECRET).verify(BODY, stale)


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-300, True), (-301, False), (300, True), (301, False)]
)
def test_our_window_agrees_with_the_package_at_the_edges(offset: int, accepted: bool) -> None:
    with freeze_time(FROZEN_AT):
        signer = StandardWebhooksSigner(SECRET)
        headers = signer.sign(BODY, timestamp=NOW + offset)
        try:
            signer.verify(BODY, headers)
            ours = True
        except TimestampOutsideToleranceError:
            ours = False
        try:
            Webhook(SECRET).verify(BODY, headers)
            theirs = True
        except WebhookVerificationError:
            theirs = False
    assert ours is theirs is accepted
