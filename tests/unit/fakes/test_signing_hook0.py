"""Hook0Signer: CDP webhooks' X-Hook0-Signature (PROCESSORS.md 3.2)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from fakes.signing import (
    HOOK0_DEFAULT_SIGNED_HEADERS,
    Hook0Signer,
    InvalidSigningArgument,
    MalformedHeaderError,
    MissingHeaderError,
    NoMatchingSignatureError,
    TimestampOutsideToleranceError,
)

SECRET = "cdp_sub_secret"
NOW = 1_728_394_718
BODY = b'{"eventType":"onramp.transaction.success"}'
REQUEST = {
    "content-type": "application/json",
    "x-event-id": "evt_abc",
    "x-event-type": "onramp.transaction.success",
}


def signer_at(now: float = NOW) -> Hook0Signer:
    return Hook0Signer(SECRET, now=lambda: now)


def delivered(timestamp: int = NOW) -> dict[str, str]:
    """A request as CDP would send it: its headers plus the signature over the default names."""
    return REQUEST | signer_at().sign(BODY, headers=REQUEST, timestamp=timestamp)


def test_the_default_signed_headers_are_those_of_the_cdp_docs_example() -> None:
    assert HOOK0_DEFAULT_SIGNED_HEADERS == ("content-type", "x-event-id", "x-event-type")
    header = delivered()["X-Hook0-Signature"]
    assert header.startswith(f"t={NOW},h=content-type x-event-id x-event-type,v1=")


def test_the_docs_verification_algorithm_accepts_our_signature() -> None:
    # CDP-WH TypeScript sample: HMAC(secret, `${t}.${h}.${values joined by "."}.${body}`), hex.
    header = delivered()["X-Hook0-Signature"]
    items = dict(item.split("=", 1) for item in header.split(","))
    names = items["h"].split(" ")
    values = ".".join(REQUEST.get(name, "") for name in names)
    signed = f"{items['t']}.{items['h']}.{values}.".encode() + BODY
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, items["v1"])


def test_a_signed_header_with_a_changed_value_is_rejected() -> None:
    headers = delivered() | {"x-event-type": "onramp.transaction.failed"}
    with pytest.raises(NoMatchingSignatureError):
        signer_at().verify(BODY, headers)


def test_a_header_that_is_not_signed_may_change_freely() -> None:
    headers = delivered() | {"user-agent": "Hook0/1.0", "X-Unsigned": "anything"}
    assert signer_at().verify(BODY, headers) == NOW


def test_signed_header_names_are_looked_up_whatever_their_case() -> None:
    headers = {k.title(): v for k, v in delivered().items()}
    assert signer_at().verify(BODY, headers) == NOW


def test_a_signature_covering_a_header_the_request_lacks_is_refused() -> None:
    signature = delivered()
    request = {k: v for k, v in signature.items() if k != "x-event-id"}
    with pytest.raises(MissingHeaderError) as caught:
        signer_at().verify(BODY, request)
    assert (caught.value.code, caught.value.header) == ("missing_header", "x-event-id")


def test_signing_a_header_the_request_lacks_is_refused() -> None:
    with pytest.raises(InvalidSigningArgument, match="x-event-id"):
        signer_at().sign(BODY, headers={"content-type": "application/json"}, timestamp=NOW)


def test_a_bare_body_is_signed_over_no_header() -> None:
    signature = signer_at().sign(BODY, timestamp=NOW)
    assert signature["X-Hook0-Signature"].startswith(f"t={NOW},h=,v1=")
    assert signer_at().verify(BODY, signature) == NOW


def test_names_are_lowercased_in_h() -> None:
    signature = signer_at().sign(
        BODY, headers=REQUEST, signed_header_names=["Content-Type", "X-Event-Id"], timestamp=NOW
    )
    assert ",h=content-type x-event-id," in signature["X-Hook0-Signature"]
    assert signer_at().verify(BODY, REQUEST | signature) == NOW


@pytest.mark.parametrize("names", [["x event"], ["x,event"], [""], ["caf\u00e9"]])
def test_a_name_h_cannot_carry_is_refused_when_signing(names: list[str]) -> None:
    with pytest.raises(InvalidSigningArgument):
        signer_at().sign(BODY, headers=REQUEST, signed_header_names=names)


def test_a_single_string_of_names_is_refused_rather_than_split_into_letters() -> None:
    with pytest.raises(InvalidSigningArgument):
        signer_at().sign(BODY, headers=REQUEST, signed_header_names="content-type")


def test_v0_is_ignored_in_the_order_of_the_docs_example() -> None:
    header = delivered()["X-Hook0-Signature"]
    t, h, v1 = header.split(",")
    docs_order = f"{t},v0=9f8e7d6c,{h},{v1}"
    assert signer_at().verify(BODY, REQUEST | {"X-Hook0-Signature": docs_order}) == NOW


def test_a_header_with_only_v0_has_no_matching_signature() -> None:
    t, h, _ = delivered()["X-Hook0-Signature"].split(",")
    with pytest.raises(NoMatchingSignatureError):
        signer_at().verify(BODY, REQUEST | {"X-Hook0-Signature": f"{t},{h},v0=9f8e7d6c"})


def test_the_last_v1_is_the_one_verified_as_the_official_verifier_reads_it() -> None:
    header = delivered()["X-Hook0-Signature"]
    with pytest.raises(NoMatchingSignatureError):
        signer_at().verify(BODY, REQUEST | {"X-Hook0-Signature": f"{header},v1=00ff"})
    t, h, v1 = header.split(",")
    swapped = f"{t},{h},v1=00ff,{v1}"
    assert signer_at().verify(BODY, REQUEST | {"X-Hook0-Signature": swapped}) == NOW


@pytest.mark.parametrize(
    "header",
    [
        f"t={NOW},v1=ab",  # no h: covers no header, and ab is not the code
        f"t={NOW},h= content-type,v1=ab",  # blanks around a part are stripped
    ],
)
def test_a_readable_header_with_a_wrong_code_does_not_match(header: str) -> None:
    with pytest.raises(NoMatchingSignatureError):
        signer_at().verify(BODY, REQUEST | {"X-Hook0-Signature": header})


@pytest.mark.parametrize(
    "header",
    [
        "h=content-type,v1=ab",  # no t
        "t=later,h=content-type,v1=ab",
        f"t={NOW},h=content-type  x-event-id,v1=ab",  # empty name between two spaces
        f"t={NOW},h=content-type,v1=abc",  # not whole hexadecimal
        f"t={10**13},h=content-type,v1=ab",  # further than 10^12 s from the epoch
    ],
)
def test_an_unreadable_header_is_malformed(header: str) -> None:
    with pytest.raises(MalformedHeaderError) as caught:
        signer_at().verify(BODY, REQUEST | {"X-Hook0-Signature": header})
    assert caught.value.code == "malformed_header"


def test_an_empty_h_signs_no_headers() -> None:
    signature = signer_at().sign(BODY, signed_header_names=(), timestamp=NOW)
    assert f"t={NOW},h=,v1=" in signature["X-Hook0-Signature"]
    assert signer_at().verify(BODY, REQUEST | signature) == NOW


# --- the 5 minute window, both directions ---------------------------------------------------------


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_an_event_within_five_minutes_either_way_passes(offset: int) -> None:
    assert signer_at().verify(BODY, delivered(NOW + offset)) == NOW + offset


@pytest.mark.parametrize("offset", [-301, 301])
def test_an_event_more_than_five_minutes_away_either_way_is_rejected(offset: int) -> None:
    with pytest.raises(TimestampOutsideToleranceError):
        signer_at().verify(BODY, delivered(NOW + offset))


def test_the_signature_is_checked_before_the_age() -> None:
    stale = REQUEST | Hook0Signer("another_secret").sign(BODY, headers=REQUEST, timestamp=0)
    with pytest.raises(NoMatchingSignatureError):
        signer_at().verify(BODY, stale)


def test_signing_uses_the_injected_clock() -> None:
    header = signer_at(NOW + 0.9).sign(BODY, headers=REQUEST)["X-Hook0-Signature"]
    assert header.startswith(f"t={NOW},")


def test_a_negative_timestamp_is_refused_when_signing() -> None:
    with pytest.raises(InvalidSigningArgument):
        signer_at().sign(BODY, headers=REQUEST, timestamp=-1)
