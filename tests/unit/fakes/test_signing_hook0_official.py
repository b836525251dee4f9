"""The fake's Hook0 verifier agrees with the official one (``hook0-client``'s
``hook0.signature.verify_webhook_signature_with_current_time``) on generated deliveries."""

from __future__ import annotations

import datetime
import hashlib
import hmac

from hook0 import signature as hook0_signature  # type: ignore[import-untyped]
from hypothesis import assume, given
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


def v0_code(timestamp: int, body: bytes) -> str:
    return hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_legacy_v0_only_signature_is_accepted_by_both() -> None:
    signed = {"X-Hook0-Signature": f"t={NOW},v0={v0_code(NOW, b'{}')}"}
    assert (fake_accepts(b"{}", signed), official_accepts(b"{}", signed)) == (True, True)


def test_a_wrong_v1_is_not_rescued_by_a_right_v0_in_either() -> None:
    signed = {"X-Hook0-Signature": f"t={NOW},v0={v0_code(NOW, b'{}')},h=,v1=00ff"}
    assert (fake_accepts(b"{}", signed), official_accepts(b"{}", signed)) == (False, False)


part_names = st.sampled_from(["t", "h", "v0", "v1", " t", "v1 ", "x", ""])
part_values = st.one_of(
    st.sampled_from([str(NOW), "", "content-type", "Content-Type x-event-id", "00ff", "zz"]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10),
)


@given(
    parts=st.lists(st.tuples(part_names, part_values), max_size=6),
    keep_valid=st.booleans(),
    body=st.binary(max_size=16),
)
def test_the_fake_and_the_official_verifier_agree_on_any_header_text(
    parts: list[tuple[str, str]], keep_valid: bool, body: bytes
) -> None:
    request = {name: "v" for name in NAMES}
    valid = Hook0Signer(SECRET).sign(body, headers=request, timestamp=NOW)[HEADER]
    extra = ",".join(f"{name}={value}" for name, value in parts)
    header = f"{valid},{extra}" if keep_valid and extra else (valid if keep_valid else extra)
    assume(header)  # an absent header is refused before either parser runs
    delivered = request | {HEADER: header}
    assert fake_accepts(body, delivered) == official_accepts(body, delivered)
