"""Stripe's ``Stripe-Signature`` webhook scheme (PROCESSORS.md 1.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from fakes.signing._core import (
    ClockedSigner,
    check_window,
    first_value,
    hmac_sha256,
    parse_pairs,
    parse_timestamp,
    require_header,
    signing_time,
)
from fakes.signing.errors import NoMatchingSignatureError

__all__ = ["StripeSigner"]

# v0 exists so receivers prove they ignore unknown schemes; its real key is unpublished
# (PROCESSORS.md 1.1, S-SIGDOC). A fixed key keeps our headers deterministic.
_STRIPE_V0_KEY = b"payharness-stripe-v0-is-not-verifiable"


class StripeSigner(ClockedSigner):
    """``Stripe-Signature: t=<unix>,v1=<hex>[,v1=...][,v0=...]`` (PROCESSORS.md 1.1, S-PY, S-SIGDOC).

    HMAC-SHA256 keyed with the whole secret string (``whsec_`` prefix included) over ``f"{t}.{body}"``,
    lowercase hex. ``verify`` follows stripe-python's ``construct_event`` in order and outcome: parse,
    at least one ``v1``, HMAC match, then the timestamp, rejected only when older than the tolerance
    (future timestamps pass). ``v0`` is ignored, so a header with only ``v0`` has no matching signature.
    """

    __slots__ = ()
    scheme: ClassVar[str] = "stripe"
    header: ClassVar[str] = "Stripe-Signature"
    header_names: ClassVar[tuple[str, ...]] = ("Stripe-Signature",)

    def sign(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        all_secrets: bool = True,
        include_v0: bool = False,
    ) -> dict[str, str]:
        """The ``Stripe-Signature`` header for ``body``.

        With several secrets, one ``v1`` per secret is emitted (Stripe does so while an old secret is
        still active); ``all_secrets=False`` signs with the first only. ``include_v0`` appends a bogus
        ``v0`` as Stripe does for test-mode events.
        """
        t = signing_time(timestamp, self._now)
        message = b"%d." % t + body
        secrets = self._secrets if all_secrets else self._secrets[:1]
        items = [f"t={t}"] + [f"v1={self._hex(s, message)}" for s in secrets]
        if include_v0:
            items.append(f"v0={hmac_sha256(_STRIPE_V0_KEY, message).hex()}")
        return {self.header: ",".join(items)}

    def verify(self, body: bytes, headers: Mapping[str, str]) -> int:
        """Check ``Stripe-Signature`` against ``body``; return its timestamp or raise `SignatureError`."""
        value = require_header(headers, self.header)
        pairs = parse_pairs(value)
        timestamp = parse_timestamp(first_value(pairs, "t", self.header), self.header)
        signatures = [v for k, v in pairs if k == "v1"]
        if not signatures:
            raise NoMatchingSignatureError(
                f"{self.header} has no v1 signature (other schemes are ignored)", header=self.header
            )
        # stripe-python signs "%d.%s": the parsed integer, so leading zeros in t do not count.
        if not self._any_hex_matches(b"%d." % timestamp + body, signatures):
            raise NoMatchingSignatureError(
                f"no v1 signature in {self.header} matches the payload", header=self.header
            )
        check_window(self.header, timestamp, self._now(), self._tolerance, future_too=False)
        return timestamp
