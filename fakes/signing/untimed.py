"""Schemes without a timestamp: Coinbase Commerce and Razorpay body HMACs, Xendit's static token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from fakes.signing._core import BaseSigner, equal, require_header
from fakes.signing.errors import InvalidSigningArgument, NoMatchingSignatureError

__all__ = ["CoinbaseCommerceSigner", "RazorpaySigner", "XenditCallbackToken"]


class CoinbaseCommerceSigner(BaseSigner):
    """``X-CC-Webhook-Signature``: lowercase hex HMAC-SHA256 of the raw body (PROCESSORS.md 3.3).

    Keyed with the shared secret as UTF-8 and compared against the whole header value (CC-PY); there
    is no timestamp and no scheme prefix, so ``verify`` returns None.
    """

    __slots__ = ()
    scheme: ClassVar[str] = "coinbase_commerce"
    header: ClassVar[str] = "X-CC-Webhook-Signature"
    header_names: ClassVar[tuple[str, ...]] = ("X-CC-Webhook-Signature",)

    def sign(self, body: bytes) -> dict[str, str]:
        """The ``X-CC-Webhook-Signature`` header for ``body``, keyed with the first secret."""
        return {self.header: self._hex(self._secrets[0], body)}

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise `SignatureError` unless the header is the HMAC of ``body`` under some secret."""
        if not self._any_hex_matches(body, [require_header(headers, self.header)]):
            raise NoMatchingSignatureError(
                f"{self.header} does not match the payload", header=self.header
            )


class RazorpaySigner(BaseSigner):
    """``X-Razorpay-Signature``: lowercase hex HMAC-SHA256 of the raw body (PROCESSORS.md 4, RZP-PY).

    Keyed with the webhook secret as UTF-8; no timestamp, so ``verify`` returns None. An empty secret
    cannot be configured and an empty signature is missing, so neither is ever accepted. Several
    secrets cover Razorpay's advice to keep the old secret for retried older events (RZP-VT).
    ``x-razorpay-event-id`` is the delivery's identity, not part of the signature: ``sign`` sets it
    when asked, but it is not in ``header_names``, so re-signing keeps the recorded one.
    """

    __slots__ = ()
    scheme: ClassVar[str] = "razorpay"
    header: ClassVar[str] = "X-Razorpay-Signature"
    event_id_header: ClassVar[str] = "x-razorpay-event-id"
    header_names: ClassVar[tuple[str, ...]] = ("X-Razorpay-Signature",)

    def sign(self, body: bytes, *, event_id: str | None = None) -> dict[str, str]:
        """The ``X-Razorpay-Signature`` header for ``body``, plus ``x-razorpay-event-id`` if given."""
        headers = {self.header: self._hex(self._secrets[0], body)}
        if event_id is not None:
            if not event_id:
                raise InvalidSigningArgument("event_id must not be empty")
            headers[self.event_id_header] = event_id
        return headers

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise `SignatureError` unless the header is the HMAC of ``body`` under some secret."""
        if not self._any_hex_matches(body, [require_header(headers, self.header)]):
            raise NoMatchingSignatureError(
                f"{self.header} does not match the payload", header=self.header
            )


class XenditCallbackToken(BaseSigner):
    """``x-callback-token``: Xendit's static per-account token, not an HMAC (PROCESSORS.md 2.1).

    ``sign`` ignores the body and sends the first token; ``verify`` compares in constant time against
    every configured token (as xendit-client's ``secure_compare``) and returns None.
    """

    __slots__ = ()
    scheme: ClassVar[str] = "xendit"
    secret_kind: ClassVar[str] = "token"
    header: ClassVar[str] = "x-callback-token"
    header_names: ClassVar[tuple[str, ...]] = ("x-callback-token",)

    def sign(self, body: bytes) -> dict[str, str]:
        """The ``x-callback-token`` header (the same for every body)."""
        return {self.header: self._secrets[0]}

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise `SignatureError` unless the header equals a configured token."""
        given = require_header(headers, self.header)
        if not any(equal(token, given) for token in self._secrets):
            raise NoMatchingSignatureError(
                f"{self.header} is not the account's token", header=self.header
            )
