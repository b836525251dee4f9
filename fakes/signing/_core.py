"""What the schemes share: the `Signer` protocol, secret and clock handling, header parsing helpers."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import ClassVar, Protocol

from fakes.signing.errors import (
    InvalidSigningArgument,
    MalformedHeaderError,
    MissingHeaderError,
    TimestampOutsideToleranceError,
)

DEFAULT_TOLERANCE_SECONDS = 300

_DIGITS = re.compile(r"[0-9]+")


def system_clock() -> float:
    """`time.time`, looked up at each call (a default bound at import would not see freezegun)."""
    return time.time()


def normalize_secrets(secret: str | Sequence[str], what: str = "secret") -> tuple[str, ...]:
    """One secret or several (newest first) as a tuple; blank ones are refused."""
    values = (secret,) if isinstance(secret, str) else tuple(secret)
    if not values:
        raise InvalidSigningArgument(f"at least one {what} is required")
    for value in values:
        if not isinstance(value, str) or not value.strip():
            # An empty secret would let anyone sign (PRIOR_ART.md, cross-cutting pattern 2).
            raise InvalidSigningArgument(f"each {what} must be a non-blank string")
    return values


def check_tolerance(tolerance_seconds: int | None) -> int | None:
    """A replay window in seconds, or None for no timestamp check."""
    if tolerance_seconds is not None and tolerance_seconds < 0:
        raise InvalidSigningArgument(
            f"tolerance_seconds must be >= 0 or None, got {tolerance_seconds}"
        )
    return tolerance_seconds


def find_header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` in any mapping, compared case-insensitively."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def require_header(headers: Mapping[str, str], name: str) -> str:
    """The non-empty value of header ``name``, or `MissingHeaderError`."""
    value = find_header(headers, name)
    if not value:
        raise MissingHeaderError(f"{name} header is missing or empty", header=name)
    return value


def without_headers(headers: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """A copy of ``headers`` without ``names`` (case-insensitive)."""
    drop = {n.lower() for n in names}
    return {k: v for k, v in headers.items() if k.lower() not in drop}


def utf8(text: str) -> bytes:
    """UTF-8 that never raises: arbitrary header text may hold lone surrogates while verifying."""
    return text.encode("utf-8", "surrogatepass")


def equal(expected: str, given: str) -> bool:
    """Constant-time text equality (`hmac.compare_digest` on str refuses non-ASCII, bytes do not)."""
    return hmac.compare_digest(utf8(expected), utf8(given))


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """The raw HMAC-SHA256 digest every scheme here uses."""
    return hmac.new(key, message, hashlib.sha256).digest()


def parse_pairs(header: str) -> list[tuple[str, str]]:
    """``"k=v,k=v"`` (Stripe and Hook0) as pairs, in order.

    An item without ``=`` is skipped, as stripe-python skips items whose key it does not look for.
    """
    pairs = []
    for item in header.split(","):
        key, sep, value = item.partition("=")
        if sep:
            pairs.append((key, value))
    return pairs


def first_value(pairs: list[tuple[str, str]], key: str, header: str) -> str:
    """The first value for ``key``, or `MalformedHeaderError`."""
    for k, value in pairs:
        if k == key:
            return value
    raise MalformedHeaderError(f"{header} has no {key}= item", header=header)


def parse_timestamp(raw: str, header: str) -> int:
    """Unix seconds written as ASCII digits, or `MalformedHeaderError`."""
    if not _DIGITS.fullmatch(raw):
        raise MalformedHeaderError(
            f"{header} timestamp is not unix seconds: {raw[:40]!r}", header=header
        )
    try:
        return int(raw)
    except ValueError as exc:  # more digits than int() will parse
        raise MalformedHeaderError(f"{header} timestamp is too long", header=header) from exc


def signing_time(timestamp: int | None, now: Callable[[], float]) -> int:
    """The timestamp to sign with: the one given, else the clock's whole seconds."""
    if timestamp is None:
        return int(now())
    if timestamp < 0:
        raise InvalidSigningArgument(f"timestamp must be unix seconds >= 0, got {timestamp}")
    return timestamp


def check_window(
    header: str, timestamp: int, now: float, tolerance: int | None, *, future_too: bool
) -> None:
    """Raise `TimestampOutsideToleranceError` if ``timestamp`` is older (or newer) than allowed.

    The edges pass: exactly ``tolerance`` seconds old is still inside, as in stripe-python
    (``timestamp < now - tolerance`` fails) and standardwebhooks.
    """
    if tolerance is None:
        return
    if timestamp < now - tolerance or (future_too and timestamp > now + tolerance):
        raise TimestampOutsideToleranceError(
            f"{header} timestamp {timestamp} is outside the {tolerance} s window around {now:.0f}",
            header=header,
        )


class Signer(Protocol):
    """What every scheme offers: the replayer and the fakes depend on this, not on a class.

    ``header_names`` are the headers ``sign`` produces that belong to the scheme: strip them from a
    recording before re-signing. ``resign`` does exactly that while keeping the delivery's identity
    (Standard Webhooks ``webhook-id``, the Hook0 signed header list).
    """

    @property
    def scheme(self) -> str:
        """The scheme's name in `SCHEMES` (``"stripe"``, ``"cdp"``, ...)."""
        ...

    @property
    def header_names(self) -> tuple[str, ...]:
        """The scheme's signature headers."""
        ...

    def sign(self, body: bytes) -> dict[str, str]:
        """Headers to add to a request carrying ``body``."""
        ...

    def verify(self, body: bytes, headers: Mapping[str, str]) -> int | None:
        """Raise `SignatureError` unless ``headers`` sign ``body``; return the signed timestamp if any."""
        ...

    def resign(self, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` with this scheme's headers replaced by a fresh signature of ``body``."""
        ...


class BaseSigner:
    """Secrets and the parts of the `Signer` protocol that do not depend on the scheme."""

    __slots__ = ("_secrets",)
    scheme: ClassVar[str]
    header_names: ClassVar[tuple[str, ...]]
    secret_kind: ClassVar[str] = "secret"  # how error messages name the key ("token" for Xendit)

    def __init__(self, secret: str | Sequence[str]) -> None:
        self._secrets = normalize_secrets(secret, self.secret_kind)

    def __repr__(self) -> str:
        # Never print a secret: reprs end up in logs and test reports.
        return f"{type(self).__name__}(secrets={len(self._secrets)})"

    def sign(self, body: bytes) -> dict[str, str]:
        """Headers to add to a request carrying ``body`` (each scheme overrides this)."""
        raise NotImplementedError

    def resign(self, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` with this scheme's headers replaced by a fresh signature of ``body``."""
        return without_headers(headers, self.header_names) | self.sign(body)

    def _hex(self, secret: str, message: bytes) -> str:
        return hmac_sha256(secret.encode("utf-8"), message).hex()

    def _any_hex_matches(self, message: bytes, candidates: Sequence[str]) -> bool:
        return any(
            equal(self._hex(secret, message), candidate)
            for secret in self._secrets
            for candidate in candidates
        )


class ClockedSigner(BaseSigner):
    """A signer whose scheme carries a timestamp checked against an injected clock."""

    __slots__ = ("_now", "_tolerance")

    def __init__(
        self,
        secret: str | Sequence[str],
        *,
        tolerance_seconds: int | None = DEFAULT_TOLERANCE_SECONDS,
        now: Callable[[], float] = system_clock,
    ) -> None:
        super().__init__(secret)
        self._tolerance = check_tolerance(tolerance_seconds)
        self._now = now

    @property
    def tolerance_seconds(self) -> int | None:
        """The replay window in seconds; None disables the timestamp check."""
        return self._tolerance

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(secrets={len(self._secrets)}, "
            f"tolerance_seconds={self._tolerance})"
        )
