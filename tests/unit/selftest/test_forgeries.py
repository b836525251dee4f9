"""The authenticity suite's forgery catalogue is right by the processors' own verifiers: every forgery it
generates for a scheme is refused by that scheme's verifier (fakes.signing, which follows the official
SDKs), every authentic odd shape (rotation) is accepted, and every scheme gets every forgery that applies."""

from __future__ import annotations

import pytest

from fakes.signing import Hook0Signer, SignatureError, StripeSigner, XenditCallbackToken
from harness.suites._forgeries import ROTATION_NAMES, SCHEMES, Forgery, cases, forgeries, rotations

NOW = 1_800_000_000
SECRET = {
    "stripe": "whsec_unit_test_secret",
    "cdp": "cdp_unit_test_secret",
    "xendit": "xnd_token_1",
}
BODY = b'{"id":"evt_1","amount":1000}'
EVENT_HEADERS = {"content-type": "application/json", "x-event-id": "evt_1", "x-event-type": "t"}


def _verifier(rail: str, secret: str) -> StripeSigner | Hook0Signer | XenditCallbackToken:
    if rail == "stripe":
        return StripeSigner(secret, now=lambda: NOW)
    if rail == "cdp":
        return Hook0Signer(secret, now=lambda: NOW)
    return XenditCallbackToken(secret)


def _sign(rail: str):  # type: ignore[no-untyped-def]
    def sign(body: bytes, secret: str | None, timestamp: int | None) -> dict[str, str]:
        signer = _verifier(rail, secret or SECRET[rail])
        if isinstance(signer, StripeSigner):
            return signer.sign(body, timestamp=timestamp or NOW)
        if isinstance(signer, Hook0Signer):
            return EVENT_HEADERS | signer.sign(
                body, headers=EVENT_HEADERS, timestamp=timestamp or NOW
            )
        return signer.sign(body)

    return sign


@pytest.mark.parametrize(("rail", "forgery"), cases(), ids=[f"{r}-{f.name}" for r, f in cases()])
def test_every_generated_forgery_is_refused_by_the_schemes_own_verifier(
    rail: str, forgery: Forgery
) -> None:
    headers = forgery.make(SCHEMES[rail], _sign(rail), BODY)
    with pytest.raises(SignatureError):
        _verifier(rail, SECRET[rail]).verify(BODY, headers)


@pytest.mark.parametrize("rail", [r for r, s in SCHEMES.items() if s.multi])
def test_every_rotation_shape_is_authentic(rail: str) -> None:
    shapes = rotations(SCHEMES[rail], _sign(rail), BODY)
    assert set(shapes) == set(ROTATION_NAMES)
    for headers in shapes.values():
        _verifier(rail, SECRET[rail]).verify(BODY, headers)


def test_each_scheme_gets_every_forgery_that_applies_to_it() -> None:
    names = {rail: {f.name for r, f in cases() if r == rail} for rail in SCHEMES}
    everywhere = {
        "missing-header",
        "empty-header",
        "wrong-secret",
        "signature-prefix",
        "signature-suffix",
    }
    assert all(everywhere <= found for found in names.values())
    assert {"stale-timestamp", "future-timestamp", "signed-header-changed"} <= names["cdp"]
    assert "future-timestamp" not in names["stripe"]  # Stripe's window is past-only (stripe-python)
    assert "signature-of-another-body" not in names["xendit"]  # a static token signs no body
    assert len(forgeries()) == len({f.name for f in forgeries()})
