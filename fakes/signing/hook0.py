"""CDP webhooks' ``X-Hook0-Signature`` scheme, sent through Hook0 (PROCESSORS.md 3.2)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import ClassVar

from fakes.signing._core import (
    ClockedSigner,
    check_window,
    find_header,
    parse_pairs,
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
    as they appear in the header.

    A header that ``h`` names but the request lacks is refused before any HMAC is computed
    (:class:`MissingHeaderError` naming that header), as the official verifier does
    (``hook0-client`` 2.0.3, ``hook0.signature.verify_webhook_signature``: "A header the signature says
    it covers but the request did not carry is refused outright"): otherwise a sender could drop a
    covered header and keep the signature valid. The CDP docs' TypeScript sample, which reads
    ``headers[name] ?? ""``, is the laxer reading this no longer follows. For the same reason
    :meth:`sign` refuses to cover a header the given request does not carry. :meth:`verify` reads the
    header with the official parser's rules (see its docstring), including its ``v0`` fallback.

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
        """Check ``X-Hook0-Signature`` against ``body`` and ``headers``; return its timestamp.

        Read as the official verifier reads it (``hook0.signature.Signature.parse``): parts split on
        ``,`` and the first ``=``, blanks stripped, a later part replacing an earlier one of the same
        name; ``t`` an integer within 10^12 of the epoch; ``h`` names lowercased; ``v0``/``v1``
        whole hexadecimal. ``v1`` (over ``t.h.values.body``) is verified when present, else ``v0``
        (over ``t.body``, legacy Hook0); the message is rebuilt from the parsed ``t`` and the
        lowercased names.
        """
        read = _read(require_header(headers, self.header), self.header)
        timestamp = _timestamp(read, self.header)
        names = _covered(read, self.header)
        v0, v1 = _code(read, "v0", self.header), _code(read, "v1", self.header)
        if v0 is None and v1 is None:
            raise NoMatchingSignatureError(
                f"{self.header} has neither a v1 nor a v0 signature", header=self.header
            )
        for name in names:
            if find_header(headers, name) is None:
                raise MissingHeaderError(
                    f"{self.header} covers the {name!r} header, which the request lacks",
                    header=name,
                )
        if v1 is not None:
            matched = self._any_hex_matches(
                self._message(str(timestamp), " ".join(names), names, headers, body), [v1]
            )
        else:
            assert v0 is not None
            matched = self._any_hex_matches(utf8(f"{timestamp}.") + body, [v0])
        if not matched:
            raise NoMatchingSignatureError(
                f"the {'v1' if v1 is not None else 'v0'} signature in {self.header} does not "
                "match the payload",
                header=self.header,
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


# Limits of the official verifier (hook0-client 2.0.3, hook0/signature.py).
_MAX_SIGNATURE_CHARS = 8 * 1024
_MAX_PARTS = 32
_MAX_COVERED = 64
_MAX_TIMESTAMP = 10**12
_HEX = frozenset("0123456789abcdefABCDEF")


def _read(value: str, header: str) -> dict[str, str]:
    """The ``name=value`` parts of the header, a later one replacing an earlier one."""
    if len(value) > _MAX_SIGNATURE_CHARS:
        raise MalformedHeaderError(f"{header} is longer than {_MAX_SIGNATURE_CHARS}", header=header)
    parts = value.split(",")
    if len(parts) > _MAX_PARTS:
        raise MalformedHeaderError(f"{header} has more than {_MAX_PARTS} parts", header=header)
    read: dict[str, str] = {}
    for part in parts:
        name, sep, item = part.partition("=")
        if sep:
            read[name.strip()] = item.strip()
    if len(read) < 2:
        raise MalformedHeaderError(
            f"{header} carries neither a timestamp nor a code", header=header
        )
    return read


def _timestamp(read: Mapping[str, str], header: str) -> int:
    if "t" not in read:
        raise MalformedHeaderError(f"{header} has no t= part", header=header)
    try:
        seconds = int(read["t"])
    except ValueError as exc:
        raise MalformedHeaderError(
            f"{header} t= is not a number of seconds", header=header
        ) from exc
    if abs(seconds) > _MAX_TIMESTAMP:
        raise MalformedHeaderError(f"{header} t= is too far from the epoch", header=header)
    return seconds


def _covered(read: Mapping[str, str], header: str) -> list[str]:
    written = read.get("h", "")
    if not written:
        return []
    names = written.split(" ")
    if len(names) > _MAX_COVERED:
        raise MalformedHeaderError(
            f"{header} covers more than {_MAX_COVERED} headers", header=header
        )
    for name in names:
        if not _HEADER_NAME.fullmatch(name.lower()):
            raise MalformedHeaderError(f"{header} h= has a bad name {name!r}", header=header)
    return [name.lower() for name in names]


def _code(read: Mapping[str, str], part: str, header: str) -> str | None:
    written = read.get(part)
    if written is None:
        return None
    if not written or len(written) % 2 or any(digit not in _HEX for digit in written):
        raise MalformedHeaderError(f"{header} {part}= is not hexadecimal", header=header)
    return written.lower()
