"""Webhook verification defects on the rails other than Stripe's happy path (issue 11, class 1).

Each adapter verifies almost right, the way receivers have been written: a signature compared only as
far as the sender's text goes, a replay window never checked, a static token checked for presence or as a
substring, a Stripe timestamp never checked.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import stripe

from harness.reference.rails.base import RetryPolicy, SignatureInvalid, SignatureMissing
from harness.reference.rails.cdp import CdpAdapter
from harness.reference.rails.stripe import StripeAdapter
from harness.reference.rails.xendit import XenditAdapter
from harness.reference.settings import CdpRail

__all__ = [
    "PrefixComparingCdpAdapter",
    "PresentTokenXenditAdapter",
    "SubstringTokenXenditAdapter",
    "UntimedCdpAdapter",
    "UntimedStripeAdapter",
    "cdp_factory",
]


class _Hook0(CdpAdapter):
    """Hook0 verification with the comparison and the window as overridable steps."""

    def matches(self, expected: str, given: str) -> bool:
        """Whether `given` is the expected hex signature."""
        return hmac.compare_digest(expected, given)

    def in_window(self, timestamp: int) -> bool:
        """Whether the signed timestamp is inside the 5 minute window."""
        return abs(self._now() - timestamp) <= 300

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """`X-Hook0-Signature: t=,h=,v1=` over `t.h.values.body`."""
        header = headers.get("x-hook0-signature")
        if not header:
            raise SignatureMissing("X-Hook0-Signature header is missing")
        fields: dict[str, list[str]] = {}
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            fields.setdefault(key, []).append(value)
        try:
            timestamp = int(fields["t"][0])
            names = fields.get("h", [""])[0]
            signatures = fields["v1"]
        except (KeyError, ValueError, IndexError) as exc:
            raise SignatureInvalid("malformed X-Hook0-Signature") from exc
        values = ".".join(headers.get(n, "") for n in names.split(" ") if n)
        signed = f"{timestamp}.{names}.{values}.".encode() + body
        secret = self._config.webhook_secret.encode()
        expected = hmac.new(secret, signed, hashlib.sha256).hexdigest()
        if not any(self.matches(expected, s.strip().lower()) for s in signatures):
            raise SignatureInvalid("no X-Hook0-Signature v1 matches")
        if not self.in_window(timestamp):
            raise SignatureInvalid("X-Hook0-Signature timestamp outside the window")


class PrefixComparingCdpAdapter(_Hook0):
    """Compares the signature only as far as the sender's text goes: any prefix of it passes."""

    def matches(self, expected: str, given: str) -> bool:
        """`expected.startswith(given)` (the defect): a truncated signature is accepted."""
        return bool(given) and expected.startswith(given)


class UntimedCdpAdapter(_Hook0):
    """Checks the HMAC, never the timestamp: a captured delivery replays forever."""

    def in_window(self, timestamp: int) -> bool:
        """Always inside (the defect)."""
        return True


class PresentTokenXenditAdapter(XenditAdapter):
    """Checks that an `x-callback-token` is there, not what it says: anyone can credit."""

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Presence only (the defect)."""
        if not headers.get("x-callback-token"):
            raise SignatureMissing("x-callback-token header is missing")


class SubstringTokenXenditAdapter(XenditAdapter):
    """`token in configured_token`: any piece of the right token passes."""

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Substring test (the defect)."""
        token = headers.get("x-callback-token")
        if not token:
            raise SignatureMissing("x-callback-token header is missing")
        if token not in self._config.callback_token:
            raise SignatureInvalid("x-callback-token does not match")


class UntimedStripeAdapter(StripeAdapter):
    """stripe-python called with no tolerance: a stale event, re-sent by anyone who captured it, verifies."""

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """`tolerance=None` (the defect)."""
        header = headers.get("stripe-signature")
        if not header:
            raise SignatureMissing("Stripe-Signature header is missing")
        try:
            stripe.WebhookSignature.verify_header(
                body.decode("utf-8", "replace"),
                header,
                self._config.webhook_secret,
                tolerance=None,
            )
        except stripe.SignatureVerificationError as exc:
            raise SignatureInvalid(str(exc)) from exc


def cdp_factory(cls: type[CdpAdapter]) -> Any:
    """An adapter factory (`Components.adapter_factories`) building `cls` for the CDP rail."""

    def build(config: CdpRail, timeout: float, retry: RetryPolicy) -> CdpAdapter:
        return cls(config, timeout_seconds=timeout, retry=retry)

    return build
