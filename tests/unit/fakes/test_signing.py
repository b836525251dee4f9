"""fakes.signing as a whole: the public surface, the error tree, known answers, registry, re-signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping

import httpx
import pytest
from starlette.datastructures import Headers

import fakes.signing as signing
from fakes.signing import (
    SCHEMES,
    CoinbaseCommerceSigner,
    Hook0Signer,
    InvalidSigningArgument,
    MalformedHeaderError,
    MissingHeaderError,
    NoMatchingSignatureError,
    RazorpaySigner,
    SignatureError,
    Signer,
    StandardWebhooksSigner,
    StripeSigner,
    TimestampOutsideToleranceError,
    XenditCallbackToken,
    signer_for,
)

NOW = 1_700_000_000.0


def fixed_clock(at: float = NOW) -> Callable[[], float]:
    return lambda: at


def test_public_names_are_pinned() -> None:
    assert sorted(signing.__all__) == sorted(
        [
            "DEFAULT_TOLERANCE_SECONDS",
            "HOOK0_DEFAULT_SIGNED_HEADERS",
            "SCHEMES",
            "CoinbaseCommerceSigner",
            "Hook0Signer",
            "InvalidSigningArgument",
            "MalformedHeaderError",
            "MissingHeaderError",
            "NoMatchingSignatureError",
            "RazorpaySigner",
            "SignatureError",
            "Signer",
            "StandardWebhooksSigner",
            "StripeSigner",
            "TimestampOutsideToleranceError",
            "XenditCallbackToken",
            "signer_for",
        ]
    )
    for name in signing.__all__:
        assert hasattr(signing, name)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (MissingHeaderError, "missing_header"),
        (MalformedHeaderError, "malformed_header"),
        (NoMatchingSignatureError, "no_matching_signature"),
        (TimestampOutsideToleranceError, "timestamp_outside_tolerance"),
    ],
)
def test_each_signature_error_has_a_stable_code_and_is_a_value_error(
    error: type[SignatureError], code: str
) -> None:
    assert error.code == code
    assert issubclass(error, SignatureError)
    assert issubclass(error, ValueError)
    assert error("boom", header="X-Sig").header == "X-Sig"


def test_a_caller_mistake_is_not_a_verdict_on_a_request() -> None:
    assert InvalidSigningArgument.code == "invalid_argument"
    assert issubclass(InvalidSigningArgument, ValueError)
    assert not issubclass(InvalidSigningArgument, SignatureError)


# --- known-answer vectors from PROCESSORS.md --------------------------------------------------


def test_stripe_known_answer_vector_of_processors_md_1_1() -> None:
    signer = StripeSigner("whsec_test_secret", now=fixed_clock(1_700_000_000))
    body = b'{"id":"evt_test","object":"event"}'
    headers = signer.sign(body, timestamp=1_700_000_000)
    assert headers == {
        "Stripe-Signature": "t=1700000000,"
        "v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"
    }
    assert signer.verify(body, headers) == 1_700_000_000


def test_hook0_known_answer_vector_of_processors_md_3_2() -> None:
    signer = Hook0Signer("cdp_sub_secret", now=fixed_clock(1_728_394_718))
    body = b'{"eventType":"onramp.transaction.success"}'
    request_headers = {"content-type": "application/json", "x-event-id": "evt_abc"}
    headers = signer.sign(
        body,
        headers=request_headers,
        signed_header_names=("content-type", "x-event-id"),
        timestamp=1_728_394_718,
    )
    assert headers == {
        "X-Hook0-Signature": "t=1728394718,h=content-type x-event-id,"
        "v1=261a253b874d1f8b0b6a70c41af9aba34815277d61564b52147af01cf07d9fcf"
    }
    assert signer.verify(body, request_headers | headers) == 1_728_394_718


def test_coinbase_commerce_known_answer_vector_of_processors_md_3_3() -> None:
    signer = CoinbaseCommerceSigner("cc_shared_secret")
    body = b'{"event":{"id":"evt_1","type":"charge:confirmed"}}'
    headers = signer.sign(body)
    assert headers == {
        "X-CC-Webhook-Signature": "3b8bb267a93102f8fde382e063262d80edee3cdbb99e15b2a7f4d4f4905cd769"
    }
    signer.verify(body, headers)


def test_razorpay_known_answer_vector_of_processors_md_4() -> None:
    signer = RazorpaySigner("rzp_webhook_secret")
    body = b'{"entity":"event","event":"subscription.charged"}'
    headers = signer.sign(body)
    assert headers == {
        "X-Razorpay-Signature": "d34fdb9eb600b964b58b21a9259470aae1cc0cd0ff2999797d0c7fe9c8c894a4"
    }
    signer.verify(body, headers)


def test_standard_webhooks_known_answer_vector_of_processors_md_5() -> None:
    signer = StandardWebhooksSigner(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", now=fixed_clock(1_614_265_330)
    )
    body = b'{"test": 2432232314}'
    headers = signer.sign(body, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1_614_265_330)
    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    assert signer.verify(body, headers) == 1_614_265_330


def test_xendit_sends_the_static_token_whatever_the_body() -> None:
    token = XenditCallbackToken("xnd_callback_token")
    assert token.sign(b"a") == token.sign(b"b") == {"x-callback-token": "xnd_callback_token"}
    token.verify(b"anything", {"X-CALLBACK-TOKEN": "xnd_callback_token"})


# --- the registry and the protocol ------------------------------------------------------------


def whsec(raw: bytes) -> str:
    """A secret every scheme accepts: Standard Webhooks needs base64 after the prefix."""
    return "whsec_" + base64.b64encode(raw).decode()


ALL_SCHEMES = ("stripe", "cdp", "coinbase_commerce", "razorpay", "xendit", "standard_webhooks")
SECRET = whsec(b"signing-test-key-24-bytes")
OLD_SECRET = whsec(b"old-secret-24-bytes-long")
OTHER_SECRET = whsec(b"other-secret-24-bytes-lo")
SECRET_FOR = dict.fromkeys(ALL_SCHEMES, SECRET)


def test_registry_names_every_scheme_once() -> None:
    assert set(SCHEMES) == set(ALL_SCHEMES)
    for name, cls in SCHEMES.items():
        signer = signer_for(name, SECRET)
        assert type(signer) is cls
        assert signer.scheme == name


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_signer_for_builds_a_signer_that_verifies_what_it_signs(scheme: str) -> None:
    signer: Signer = signer_for(scheme, SECRET_FOR[scheme], now=fixed_clock())
    assert isinstance(signer, SCHEMES[scheme])
    body = b'{"id":"evt_1"}'
    headers = signer.sign(body)
    owned = {name.lower() for name in signer.header_names}
    assert owned <= {name.lower() for name in headers}
    signer.verify(body, headers)


def test_signer_for_passes_the_clock_and_tolerance_to_timed_schemes() -> None:
    signer = signer_for("stripe", "whsec_x", now=fixed_clock(), tolerance_seconds=10)
    headers = signer.sign(b"{}")
    assert headers["Stripe-Signature"].startswith(f"t={int(NOW)},")
    old = StripeSigner("whsec_x").sign(b"{}", timestamp=int(NOW) - 11)
    with pytest.raises(TimestampOutsideToleranceError):
        signer.verify(b"{}", old)


def test_signer_for_refuses_an_unknown_scheme_and_lists_the_known_ones() -> None:
    with pytest.raises(InvalidSigningArgument, match=r"unknown signature scheme 'paypal'.*stripe"):
        signer_for("paypal", "secret")


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
@pytest.mark.parametrize("secret", ["", "   ", []])
def test_an_empty_secret_cannot_be_configured(scheme: str, secret: str | list[str]) -> None:
    with pytest.raises(InvalidSigningArgument):
        signer_for(scheme, secret)


def test_a_negative_tolerance_is_refused() -> None:
    with pytest.raises(InvalidSigningArgument, match="tolerance_seconds"):
        StripeSigner("whsec_x", tolerance_seconds=-1)


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_repr_never_shows_the_secret(scheme: str) -> None:
    signer = signer_for(scheme, SECRET_FOR[scheme])
    assert SECRET_FOR[scheme] not in repr(signer)
    assert SECRET.removeprefix("whsec_") not in repr(signer)


# --- header lookup ------------------------------------------------------------------------------


def _as_dict(h: Mapping[str, str]) -> Mapping[str, str]:
    return {k.upper(): v for k, v in h.items()}


def _as_httpx(h: Mapping[str, str]) -> Mapping[str, str]:
    return httpx.Headers({k.upper(): v for k, v in h.items()})


def _as_starlette(h: Mapping[str, str]) -> Mapping[str, str]:
    return Headers(raw=[(k.lower().encode(), v.encode()) for k, v in h.items()])


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
@pytest.mark.parametrize("wrap", [_as_dict, _as_httpx, _as_starlette])
def test_headers_are_found_whatever_their_case_and_mapping_type(
    scheme: str, wrap: Callable[[Mapping[str, str]], Mapping[str, str]]
) -> None:
    signer = signer_for(scheme, SECRET_FOR[scheme], now=fixed_clock())
    body = b'{"id":"evt_1"}'
    signer.verify(body, wrap(signer.sign(body)))


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_a_request_without_the_headers_is_missing_header(scheme: str) -> None:
    signer = signer_for(scheme, SECRET_FOR[scheme], now=fixed_clock())
    with pytest.raises(MissingHeaderError) as caught:
        signer.verify(b"{}", {"content-type": "application/json"})
    assert caught.value.code == "missing_header"


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_an_empty_signature_header_is_missing_header(scheme: str) -> None:
    signer = signer_for(scheme, SECRET_FOR[scheme], now=fixed_clock())
    headers = signer.sign(b"{}") | {name: "" for name in signer.header_names}
    with pytest.raises(MissingHeaderError):
        signer.verify(b"{}", headers)


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_another_secret_is_no_matching_signature(scheme: str) -> None:
    ours = signer_for(scheme, SECRET_FOR[scheme], now=fixed_clock())
    theirs = signer_for(scheme, OTHER_SECRET, now=fixed_clock())
    with pytest.raises(NoMatchingSignatureError):
        ours.verify(b"{}", theirs.sign(b"{}"))


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_a_signature_made_with_an_older_secret_still_verifies_during_rotation(
    scheme: str,
) -> None:
    old = signer_for(scheme, OLD_SECRET, now=fixed_clock())
    rotating = signer_for(
        scheme,
        [SECRET_FOR[scheme], OLD_SECRET],
        now=fixed_clock(),
    )
    rotating.verify(b"{}", old.sign(b"{}"))


# --- re-signing a recording -----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ALL_SCHEMES)
def test_resign_replaces_an_old_signature_under_the_new_secret_and_keeps_other_headers(
    scheme: str,
) -> None:
    recorded_with = signer_for(scheme, OTHER_SECRET, now=fixed_clock(0))
    target = signer_for(scheme, SECRET_FOR[scheme], now=fixed_clock())
    body = b'{"id":"evt_1"}'
    recording = {"Content-Type": "application/json", "X-Event-Id": "evt_1"}
    recording |= recorded_with.sign(body)
    fresh = target.resign(body, recording)
    target.verify(body, fresh)
    assert fresh["Content-Type"] == "application/json"
    assert fresh["X-Event-Id"] == "evt_1"
    # one value per header, whatever case the recording used
    assert len({k.lower() for k in fresh}) == len(fresh)


def test_resign_keeps_the_standard_webhooks_message_id_receivers_deduplicate_on() -> None:
    signer = StandardWebhooksSigner(SECRET_FOR["standard_webhooks"], now=fixed_clock())
    recording = {
        "Webhook-Id": "msg_original",
        "Webhook-Timestamp": "1",
        "Webhook-Signature": "v1,x",
    }
    fresh = signer.resign(b"{}", recording)
    assert fresh["webhook-id"] == "msg_original"
    assert fresh["webhook-timestamp"] == str(int(NOW))
    assert "Webhook-Signature" not in fresh


def test_resign_keeps_the_razorpay_event_id_receivers_deduplicate_on() -> None:
    signer = RazorpaySigner("rzp_webhook_secret")
    recording = {"X-Razorpay-Signature": "stale", "X-Razorpay-Event-Id": "evt_keep"}
    fresh = signer.resign(b"{}", recording)
    assert fresh["X-Razorpay-Event-Id"] == "evt_keep"
    signer.verify(b"{}", fresh)


def test_resign_keeps_the_hook0_signed_header_list_of_the_recording() -> None:
    signer = Hook0Signer("cdp_sub_secret", now=fixed_clock())
    body = b"{}"
    recording = {"content-type": "application/json", "x-event-id": "evt_1", "x-extra": "kept"}
    recording |= signer.sign(
        body, headers=recording, signed_header_names=["x-extra", "x-event-id"], timestamp=1
    )
    fresh = signer.resign(body, recording)
    assert ",h=x-extra x-event-id," in fresh["X-Hook0-Signature"]
    assert signer.verify(body, fresh) == int(NOW)


# --- an independent computation agrees with each HMAC scheme --------------------------------------


def test_each_hmac_scheme_matches_a_direct_hmac_computation() -> None:
    body = '{"amount":100,"note":"caf\u00e9"}'.encode()
    key = "k3y"

    def hexmac(message: bytes) -> str:
        return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()

    stripe = StripeSigner(key).sign(body, timestamp=42)["Stripe-Signature"]
    assert stripe == f"t=42,v1={hexmac(b'42.' + body)}"
    assert RazorpaySigner(key).sign(body)["X-Razorpay-Signature"] == hexmac(body)
    assert CoinbaseCommerceSigner(key).sign(body)["X-CC-Webhook-Signature"] == hexmac(body)
    hook0 = Hook0Signer(key).sign(
        body, headers={"X-Event-Id": "e"}, signed_header_names=["X-Event-Id"], timestamp=42
    )
    assert (
        hook0["X-Hook0-Signature"] == f"t=42,h=x-event-id,v1={hexmac(b'42.x-event-id.e.' + body)}"
    )
    raw_key = b"sixteen byte key"
    sw = StandardWebhooksSigner("whsec_" + base64.b64encode(raw_key).decode())
    digest = hmac.new(raw_key, b"msg_1.42." + body, hashlib.sha256).digest()
    signed = sw.sign(body, msg_id="msg_1", timestamp=42)
    assert signed["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


def test_two_signers_side_by_side_keep_their_own_secret_and_clock() -> None:
    early = StripeSigner("whsec_one", now=fixed_clock(1_000))
    late = StripeSigner("whsec_two", now=fixed_clock(NOW))
    early_headers, late_headers = early.sign(b"{}"), late.sign(b"{}")
    assert early.verify(b"{}", early_headers) == 1_000
    assert late.verify(b"{}", late_headers) == int(NOW)
    with pytest.raises(NoMatchingSignatureError):
        late.verify(b"{}", early_headers)
