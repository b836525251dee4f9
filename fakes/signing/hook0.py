"""CDP webhooks' ``X-Hook0-Signature`` scheme, sent through Hook0 (PROCESSORS.md 3.2)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import ClassVar

from fakes.signing._core import (
    ClockedSigner,
    check_window,
    find_header,
    first_value,
    parse_pairs,
    parse_timestamp,
    require_header,
    signing_time,
    utf8,
    without_headers,
)
from fakes.signing.errors import (
    InvalidSigningArgument,
    MalformedHeaderError,
    MissingHeaderError,
    NoMatchingSignatureError,
)

__all__ = ["HOOK0_DEFAULT_SIGNED_HEADERS", "Hook0Signer"]

# The header names CDP's docs example signs (PROCESSORS.md 3.2, CDP-WH).
HOOK0_DEFAULT_SIGNED_HEADERS: tuple[str, ...] = ("content-type", "x-event-id", "x-event-type")

_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")  # an RFC 9110 token, lowercase


class Hook0Signer(ClockedSigner):
    """``X-Hook0-Signature: t=<unix>,h=<names>,v1=<hex>`` for CDP webhooks (PROCESSORS.md 3.2, CDP-WH).

    HMAC-SHA256 keyed with the subscription secret as UTF-8 (the docs' TypeScript sample passes it to
    ``createHmac`` as is; decoding is UNVERIFIED) over ``f"{t}.{h}.{values}.{body}"``, where ``values``
    are the named request headers' values joined by ``"."``. ``t`` and ``h`` enter the message exactly
    as they appear in the header. ``v0`` (legacy Hook0) is ignored; any matching ``v1`` passes.

    A header that ``h`` names but the request lacks is refused before any HMAC is computed
    (:class:`MissingHeaderError` naming that header), as the official verifier does
    (``hook0-client`` 2.0.3, ``hook0.signature.verify_webhook_signature``: "A header the signature says
    it covers but the request did not carry is refused outright"): otherwise a sender could drop a
    covered header and keep the signature valid. The CDP docs' TypeScript sample, which reads
    ``headers[name] ?? ""``, is the laxer reading this no longer follows. For the same reason
    :meth:`sign` refuses to cover a header the given request does not carry.

    Window: CDP's docs only say "reject events older than 5 minutes". We also reject timestamps more
    than the tolerance in the future, so a forged future ``t`` cannot stretch a signature's lifetime.
    Checks run in Stripe's order: parse, ``v1`` present, HMAC, then the timestamp.
    """

    __slots__ = ()
    scheme: ClassVar[str] = "cdp"
    header: ClassVar[str] = "X-Hook0-Signature"
    header_names: ClassVar[tuple[str, ...]] = ("X-Hook0-Signature",)

    def sign(
        self,
        body: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        signed_header_names: Sequence[str] = HOOK0_DEFAULT_SIGNED_HEADERS,
        timestamp: int | None = None,
    ) -> dict[str, str]:
        """The ``X-Hook0-Signature`` header for ``body`` sent with ``headers``.

        ``signed_header_names`` are lowercased; the request must carry those headers with the values
        given in ``headers``, and a name missing from ``headers`` is an
        :class:`InvalidSigningArgument`. Without ``headers`` (a bare body) the signature covers no
        header (``h=`` empty).
        """
        if isinstance(signed_header_names, str):
            raise InvalidSigningArgument("signed_header_names is a sequence of names, not one str")
        names = [name.lower() for name in signed_header_names] if headers is not None else []
        for name in names:
            if not _HEADER_NAME.fullmatch(name):
                raise InvalidSigningArgument(f"not a header name that h= can carry: {name!r}")
            if headers is not None and find_header(headers, name) is None:
                raise InvalidSigningArgument(
                    f"the request has no {name!r} header, so a signature cannot cover it"
                )
        t = str(signing_time(timestamp, self._now))
        h = " ".join(names)
        message = self._message(t, h, names, headers or {}, body)
        return {self.header: f"t={t},h={h},v1={self._hex(self._secrets[0], message)}"}

    def verify(self, body: bytes, headers: Mapping[str, str]) -> int:
        """Check ``X-Hook0-Signature`` against ``body`` and ``headers``; return its timestamp."""
        value = require_header(headers, self.header)
        pairs = parse_pairs(value)
        raw_t = first_value(pairs, "t", self.header)
        timestamp = parse_timestamp(raw_t, self.header)
        h = first_value(pairs, "h", self.header)
        names = h.split(" ") if h else []
        if "" in names:
            raise MalformedHeaderError(f"{self.header} h= has an empty name", header=self.header)
        for name in names:
            if find_header(headers, name) is None:
                raise MissingHeaderError(
                    f"{self.header} covers the {name!r} header, which the request lacks",
                    header=name,
                )
        signatures = [v for k, v in pairs if k == "v1"]
        if not signatures:
            raise NoMatchingSignatureError(f"{self.header} has no v1 signature", header=self.header)
        if not self._any_hex_matches(self._message(raw_t, h, names, headers, body), signatures):
            raise NoMatchingSignatureError(
                f"no v1 signature in {self.header} matches the payload", header=self.header
            )
        check_window(self.header, timestamp, self._now(), self._tolerance, future_too=True)
        return timestamp

    def resign(self, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` re-signed with a fresh ``t``, keeping the signed header list of the old one."""
        names: Sequence[str] = HOOK0_DEFAULT_SIGNED_HEADERS
        old = find_header(headers, self.header)
        if old:
            h = next((v for k, v in parse_pairs(old) if k == "h"), None)
            if h is not None:
                names = [n for n in h.split(" ") if n]
        kept = without_headers(headers, self.header_names)
        names = [n for n in names if find_header(kept, n) is not None]
        return kept | self.sign(body, headers=kept, signed_header_names=names)

    @staticmethod
    def _message(
        t: str, h: str, names: Sequence[str], headers: Mapping[str, str], body: bytes
    ) -> bytes:
        values = ".".join(find_header(headers, name) or "" for name in names)
        return utf8(f"{t}.{h}.{values}.") + body
