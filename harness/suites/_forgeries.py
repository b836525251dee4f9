"""A catalogue of webhook forgeries, generated per signature scheme, and the schemes the target's rails use.

A :class:`Scheme` says how one rail's webhooks are signed (which header, whether it carries a timestamp and
in which directions the window is enforced, whether one header may carry several signatures). From it,
:func:`forgeries` derives every applicable forgery: missing and empty headers, a wrong secret, a prefix,
suffix, substring, truncation, extension or one changed character of the right signature, a valid
signature over a different body, a timestamp moved after signing, stale and future timestamps, several
signatures none of which is valid, and the right signature under an unsupported scheme only. Each one
must be refused. :func:`rotations` gives the deliveries that look odd but are authentic (several
signatures of which one is valid, as during a secret rotation): those must be accepted.

A new scheme gets every forgery by being described here once; nothing is listed per rail by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = [
    "ROTATION_NAMES",
    "SCHEMES",
    "Forgery",
    "Scheme",
    "Signed",
    "cases",
    "forgeries",
    "rotations",
]

#: How far outside every scheme's window (300 s) the stale and future timestamps are.
OUTSIDE_WINDOW_SECONDS = 3600
#: A secret no target is configured with.
WRONG_SECRET = "whsec_payharness_not_the_secret_0123456789"

#: Signs a body: (body, secret or None for the right one, timestamp or None for now) → headers.
Signed = Callable[[bytes, "str | None", "int | None"], dict[str, str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Scheme:
    """How one rail signs its webhooks (PROCESSORS.md 1.1, 2.1, 3.2)."""

    rail: str
    header: str
    #: the signature item inside the header (`v1`), or "" when the whole header is the token
    item: str = ""
    timed: bool = False
    #: the window refuses future timestamps too (Stripe's SDK tolerates them: its window is past-only)
    future_refused: bool = False
    #: one header may carry several signatures (secret rotation)
    multi: bool = False
    #: the scheme names the signed headers (Hook0 `h=`): a signed header changed after signing
    signed_headers: tuple[str, ...] = ()

    def value(self, headers: Mapping[str, str]) -> str:
        """The scheme's header value in `headers`."""
        return next(v for k, v in headers.items() if k.lower() == self.header.lower())

    def signature(self, value: str) -> str:
        """The signature inside a header value (the whole value for a static token)."""
        if not self.item:
            return value
        return next(v for k, _, v in _items(value) if k == self.item)

    def with_signatures(self, value: str, signatures: list[str], *, item: str | None = None) -> str:
        """`value` with its signatures replaced by `signatures` (under `item`, default the scheme's)."""
        if not self.item:
            return signatures[0]
        kept = [f"{k}={v}" for k, _, v in _items(value) if k != self.item]
        return ",".join(kept + [f"{item or self.item}={s}" for s in signatures])

    def replaced(self, headers: Mapping[str, str], value: str) -> dict[str, str]:
        """`headers` with the scheme's header set to `value`."""
        return {k: v for k, v in headers.items() if k.lower() != self.header.lower()} | {
            self.header: value
        }


def _items(value: str) -> list[tuple[str, str, str]]:
    return [item.partition("=") for item in value.split(",")]


#: The schemes of the target's webhook rails.
SCHEMES: dict[str, Scheme] = {
    "stripe": Scheme(rail="stripe", header="Stripe-Signature", item="v1", timed=True, multi=True),
    "cdp": Scheme(
        rail="cdp",
        header="X-Hook0-Signature",
        item="v1",
        timed=True,
        future_refused=True,
        # Hook0 sends one `v1` (and a legacy `v0`); its official verifier (hook0-client) keeps the last of
        # repeated parts, so several `v1` signatures are not a shape Hook0 rotates with
        multi=False,
        signed_headers=("x-event-id", "x-event-type"),
    ),
    "xendit": Scheme(rail="xendit", header="x-callback-token"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Forgery:
    """One way to fake a delivery: `make(scheme, sign, body)` gives the headers to send with `body`."""

    name: str
    applies: Callable[[Scheme], bool]
    make: Callable[[Scheme, Signed, bytes], dict[str, str]]


def _always(scheme: Scheme) -> bool:
    return True


def _mutated(change: Callable[[str], str]) -> Callable[[Scheme, Signed, bytes], dict[str, str]]:
    """Headers whose signature is the right one changed by `change` (a prefix, a truncation...)."""

    def make(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, str]:
        headers = sign(body, None, None)
        value = scheme.value(headers)
        forged = change(scheme.signature(value))
        return scheme.replaced(headers, scheme.with_signatures(value, [forged]))

    return make


def _missing(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, str]:
    headers = sign(body, None, None)
    return {k: v for k, v in headers.items() if k.lower() != scheme.header.lower()}


def _empty(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, str]:
    return scheme.replaced(sign(body, None, None), "")


def _wrong_secret(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, str]:
    return sign(body, WRONG_SECRET, None)


def _other_body(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, str]:
    # a genuine signature, of a body that differs by one trailing space
    return sign(body + b" ", None, None)


def _timestamp_moved(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, str]:
    headers = sign(body, None, None)
    items = _items(scheme.value(headers))
    moved = [f"{k}={int(v) - 1}" if k == "t" else f"{k}={v}" for k, _, v in items]
    return scheme.replaced(headers, ",".join(moved))


def _stale(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, str]:
    return sign(body, None, int(time.time()) - OUTSIDE_WINDOW_SECONDS)


def _future(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, str]:
    return sign(body, None, int(time.time()) + OUTSIDE_WINDOW_SECONDS)


def _none_valid(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, str]:
    headers = sign(body, None, None)
    value = scheme.value(headers)
    wrong = scheme.signature(scheme.value(sign(body, WRONG_SECRET, None)))
    right = scheme.signature(value)
    return scheme.replaced(headers, scheme.with_signatures(value, [wrong, right[::-1]]))


def _unsupported_only(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, str]:
    # the right HMAC, under a scheme version the receiver must ignore (`v0`)
    headers = sign(body, None, None)
    value = scheme.value(headers)
    right = scheme.signature(value)
    return scheme.replaced(headers, scheme.with_signatures(value, [right], item="v0"))


def _signed_header_changed(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, str]:
    headers = sign(body, None, None)
    name = scheme.signed_headers[-1]
    return {k: (f"{v}.forged" if k.lower() == name else v) for k, v in headers.items()}


def _flip(text: str) -> str:
    last = text[-1:]
    return text[:-1] + ("1" if last != "1" else "2")


def forgeries() -> list[Forgery]:
    """Every forgery, each with the schemes it applies to."""
    timed: Callable[[Scheme], bool] = lambda s: s.timed  # noqa: E731
    return [
        Forgery(name="missing-header", applies=_always, make=_missing),
        Forgery(name="empty-header", applies=_always, make=_empty),
        Forgery(name="wrong-secret", applies=_always, make=_wrong_secret),
        Forgery(
            name="signature-prefix", applies=_always, make=_mutated(lambda s: s[: len(s) // 2])
        ),
        Forgery(
            name="signature-suffix", applies=_always, make=_mutated(lambda s: s[len(s) // 2 :])
        ),
        Forgery(name="signature-substring", applies=_always, make=_mutated(lambda s: s[2:-2])),
        Forgery(name="signature-truncated", applies=_always, make=_mutated(lambda s: s[:-1])),
        Forgery(name="signature-extended", applies=_always, make=_mutated(lambda s: s + s[-1])),
        Forgery(name="one-character-changed", applies=_always, make=_mutated(_flip)),
        Forgery(name="signature-of-another-body", applies=lambda s: bool(s.item), make=_other_body),
        Forgery(name="timestamp-changed-after-signing", applies=timed, make=_timestamp_moved),
        Forgery(name="stale-timestamp", applies=timed, make=_stale),
        Forgery(name="future-timestamp", applies=lambda s: s.future_refused, make=_future),
        Forgery(name="several-signatures-none-valid", applies=lambda s: s.multi, make=_none_valid),
        Forgery(name="unsupported-scheme-only", applies=lambda s: s.multi, make=_unsupported_only),
        Forgery(
            name="signed-header-changed",
            applies=lambda s: bool(s.signed_headers),
            make=_signed_header_changed,
        ),
    ]


#: The authentic odd shapes :func:`rotations` builds.
ROTATION_NAMES = (
    "old-secret-then-valid",
    "valid-then-old-secret",
    "valid-with-an-unsupported-scheme",
)


def rotations(scheme: Scheme, sign: Signed, body: bytes) -> dict[str, dict[str, str]]:
    """Authentic deliveries in unusual shape (must be accepted): name → headers. Empty for a static token."""
    if not scheme.multi:
        return {}
    headers = sign(body, None, None)
    value = scheme.value(headers)
    right = scheme.signature(value)
    wrong = scheme.signature(scheme.value(sign(body, WRONG_SECRET, None)))
    unsupported = scheme.with_signatures(value, [right], item="v0")
    return {
        "old-secret-then-valid": scheme.replaced(
            headers, scheme.with_signatures(value, [wrong, right])
        ),
        "valid-then-old-secret": scheme.replaced(
            headers, scheme.with_signatures(value, [right, wrong])
        ),
        "valid-with-an-unsupported-scheme": scheme.replaced(
            headers, f"{unsupported},{scheme.item}={right}"
        ),
    }


def cases() -> list[tuple[str, Forgery]]:
    """(rail, forgery) for every rail and every forgery that applies to its scheme."""
    return [(rail, f) for rail, scheme in SCHEMES.items() for f in forgeries() if f.applies(scheme)]
