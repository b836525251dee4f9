"""Properties every scheme must hold, over arbitrary bodies and arbitrary header text (hypothesis)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes.signing import SignatureError, Signer, signer_for

NOW = 1_700_000_000
SCHEMES = ("stripe", "cdp", "coinbase_commerce", "razorpay", "xendit", "standard_webhooks")
SECRET = "whsec_" + base64.b64encode(b"property-test-key-24byte").decode()
REQUEST = {"content-type": "application/json", "x-event-id": "evt_1", "x-event-type": "t.created"}

PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Any code point, lone surrogates included: a header parser must cope with all of them.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=200)


def signer(scheme: str) -> Signer:
    return signer_for(scheme, SECRET, now=lambda: NOW)


def signed(scheme: str, body: bytes) -> dict[str, str]:
    # resign, not sign: the one Signer call that also covers the Hook0 headers under signature.
    return signer(scheme).resign(body, REQUEST)


def rejects(scheme: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        signer(scheme).verify(body, headers)
    except SignatureError:
        return True
    return False


@pytest.mark.parametrize("scheme", SCHEMES)
@PROPERTY
@given(body=st.binary(max_size=512))
def test_what_we_sign_we_verify_for_any_bytes_even_not_utf8(scheme: str, body: bytes) -> None:
    assert not rejects(scheme, body, signed(scheme, body))


@pytest.mark.parametrize("scheme", [s for s in SCHEMES if s != "xendit"])
@PROPERTY
@given(body=st.binary(min_size=1, max_size=256), data=st.data())
def test_any_changed_byte_of_the_body_is_rejected(
    scheme: str, body: bytes, data: st.DataObject
) -> None:
    headers = signed(scheme, body)
    at = data.draw(st.integers(0, len(body) - 1), label="at")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != body[at]), label="new byte")
    assert rejects(scheme, body[:at] + bytes([value]) + body[at + 1 :], headers)


@pytest.mark.parametrize("scheme", [s for s in SCHEMES if s != "xendit"])
@PROPERTY
@given(body=st.binary(max_size=64), extra=st.binary(min_size=1, max_size=8))
def test_a_body_with_bytes_added_or_removed_is_rejected(
    scheme: str, body: bytes, extra: bytes
) -> None:
    headers = signed(scheme, body)
    assert rejects(scheme, body + extra, headers)
    if body:
        assert rejects(scheme, body[:-1], headers)


@pytest.mark.parametrize("scheme", SCHEMES)
@PROPERTY
@given(body=st.binary(max_size=64), data=st.data())
def test_any_changed_character_of_a_signature_header_is_rejected(
    scheme: str, body: bytes, data: st.DataObject
) -> None:
    headers = signed(scheme, body)
    name = data.draw(st.sampled_from(signer(scheme).header_names), label="header")
    value = headers[name]
    at = data.draw(st.integers(0, len(value) - 1), label="at")

    # Hook0 reads covered header names and hex codes case-insensitively (hook0-client lowercases
    # `h` names and decodes codes with bytes.fromhex), so a change of case only is no change there.
    def changes(c: str) -> bool:
        return c.lower() != value[at].lower() if scheme == "cdp" else c != value[at]

    char = data.draw(st.characters().filter(changes), label="new char")
    assert rejects(scheme, body, headers | {name: value[:at] + char + value[at + 1 :]})


@pytest.mark.parametrize("scheme", SCHEMES)
@PROPERTY
@given(body=st.binary(max_size=64), data=st.data())
def test_a_signature_header_with_a_character_dropped_is_rejected(
    scheme: str, body: bytes, data: st.DataObject
) -> None:
    headers = signed(scheme, body)
    name = data.draw(st.sampled_from(signer(scheme).header_names), label="header")
    value = headers[name]
    at = data.draw(st.integers(0, len(value) - 1), label="at")
    assert rejects(scheme, body, headers | {name: value[:at] + value[at + 1 :]})


@pytest.mark.parametrize("scheme", SCHEMES)
@PROPERTY
@given(values=st.lists(ANY_TEXT, min_size=3, max_size=3), body=st.binary(max_size=32))
def test_arbitrary_header_text_raises_nothing_but_signature_error(
    scheme: str, values: list[str], body: bytes
) -> None:
    headers = dict(zip(signer(scheme).header_names, values, strict=False)) | REQUEST
    rejects(scheme, body, headers)  # any other exception fails the test


# Near-valid "k=v,k=v" headers reach deeper into the Stripe and Hook0 parsers than random text.
PAIR_KEYS = st.sampled_from(["t", "v1", "v0", "h", "", "T", "v1 "])
PAIR_VALUES = st.one_of(
    ANY_TEXT,
    st.integers(-(10**30), 10**30).map(str),
    st.just("0" * 5000),
    st.text("0123456789abcdef", max_size=64),
    st.text("content-type x-event-id ", max_size=40),
)
PAIR_HEADERS = st.lists(st.tuples(PAIR_KEYS, PAIR_VALUES), max_size=6).map(
    lambda pairs: ",".join(f"{k}={v}" for k, v in pairs)
)


@pytest.mark.parametrize("scheme", ["stripe", "cdp"])
@PROPERTY
@given(header=PAIR_HEADERS)
def test_near_valid_pair_headers_raise_nothing_but_signature_error(
    scheme: str, header: str
) -> None:
    rejects(scheme, b"{}", REQUEST | {signer(scheme).header_names[0]: header})


SW_LISTS = st.lists(
    st.tuples(st.sampled_from(["v1", "v1a", "", "v2"]), st.one_of(ANY_TEXT, st.just(""))).map(
        lambda pair: ",".join(pair)
    ),
    max_size=4,
).map(" ".join)


@PROPERTY
@given(
    msg_id=ANY_TEXT,
    stamp=st.one_of(ANY_TEXT, st.integers(0, 10**20).map(str)),
    listed=st.one_of(SW_LISTS, ANY_TEXT),
)
def test_near_valid_standard_webhooks_headers_raise_nothing_but_signature_error(
    msg_id: str, stamp: str, listed: str
) -> None:
    headers = {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": listed}
    rejects("standard_webhooks", b"{}", headers)


@pytest.mark.parametrize("scheme", SCHEMES)
@PROPERTY
@given(other=st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=5), body=st.binary(max_size=32))
def test_unrelated_headers_never_change_the_verdict_on_a_valid_request(
    scheme: str, other: dict[str, str], body: bytes
) -> None:
    headers = signed(scheme, body)
    owned = {name.lower() for name in headers}
    noise = {k: v for k, v in other.items() if k.lower() not in owned}
    assert not rejects(scheme, body, noise | headers)
