"""The fake's Hook0 verifier agrees with the official one (``hook0-client``'s
``hook0.signature.verify_webhook_signature_with_current_time``) on generated deliveries."""

from __future__ import annotations

import datetime

from hook0 import signature as hook0_signature  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from fakes.signing import Hook0Signer, SignatureError

SECRET = "cdp_sub_secret"
NOW = 1_728_394_718
TOLERANCE = 300
HEADER = "X-Hook0-Signature"
NAMES = ("content-type", "x-event-id", "x-event-type")

values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)


def official_accepts(body: bytes, headers: dict[str, str]) -> bool:
    try:
        return bool(
            hook0_signature.verify_webhook_signature_with_current_time(
                headers[HEADER],
                body,
                headers,
                SECRET,
                TOLERANCE,
                datetime.datetime.fromtimestamp(NOW, datetime.UTC),
            )
        )
    except hook0_signature.Hook0ClientError:
        return False


def fake_accepts(body: bytes, headers: dict[str, str]) -> bool:
    try:
        Hook0Signer(SECRET, tolerance_seconds=TOLERANCE, now=lambda: NOW).verify(body, headers)
    except SignatureError:
        return False
    return True


@given(
    body=st.binary(max_size=64),
    request=st.fixed_dictionaries({name: values for name in NAMES}),
    dropped=st.sets(st.sampled_from(NAMES)),
    changed=st.dictionaries(st.sampled_from(NAMES), values, max_size=2),
    skew=st.sampled_from([0, -TOLERANCE - 1, TOLERANCE + 1, 17]),
)
def test_the_fake_and_the_official_verifier_agree_on_any_delivery(
    body: bytes,
    request: dict[str, str],
    dropped: set[str],
    changed: dict[str, str],
    skew: int,
) -> None:
    signed = request | Hook0Signer(SECRET).sign(body, headers=request, timestamp=NOW + skew)
    delivered = {k: v for k, v in (signed | changed).items() if k not in dropped}
    assert fake_accepts(body, delivered) == official_accepts(body, delivered)


def test_a_delivery_missing_a_covered_header_is_refused_by_both() -> None:
    request = {name: "v" for name in NAMES}
    signed = request | Hook0Signer(SECRET).sign(b"{}", headers=request, timestamp=NOW)
    del signed["x-event-type"]
    assert (fake_accepts(b"{}", signed), official_accepts(b"{}", signed)) == (False, False)


def test_an_untouched_delivery_is_accepted_by_both() -> None:
    request = {name: "v" for name in NAMES}
    signed = request | Hook0Signer(SECRET).sign(b"{}", headers=request, timestamp=NOW)
    assert (fake_accepts(b"{}", signed), official_accepts(b"{}", signed)) == (True, True)
