"""Every processor's webhook signature scheme: one object per scheme that can ``sign`` and ``verify``.

The fakes sign the webhooks they deliver, the replayer re-signs recorded deliveries under a target's
test secret, and the tests verify both.

| class | scheme name | header(s) | signed bytes | window |
|---|---|---|---|---|
| `StripeSigner` | ``stripe`` | ``Stripe-Signature: t=,v1=`` | ``t.body`` | 300 s, past only |
| `Hook0Signer` | ``cdp`` | ``X-Hook0-Signature: t=,h=,v1=`` | ``t.h.values.body`` | 300 s, both ways |
| `CoinbaseCommerceSigner` | ``coinbase_commerce`` | ``X-CC-Webhook-Signature`` | body | none |
| `RazorpaySigner` | ``razorpay`` | ``X-Razorpay-Signature`` | body | none |
| `XenditCallbackToken` | ``xendit`` | ``x-callback-token`` | (static token) | none |
| `StandardWebhooksSigner` | ``standard_webhooks`` | ``webhook-id/-timestamp/-signature`` | ``id.t.body`` | 300 s, both ways |

Sources are the sections of /work/shared/PROCESSORS.md named in each class docstring.

Conventions shared by every signer:

* Bodies are raw ``bytes`` and are signed as they are, byte for byte. The official SDKs (stripe-python,
  razorpay, standardwebhooks) decode the body as UTF-8 and re-encode it, which gives the same bytes for
  any valid UTF-8 body. A body that is not valid UTF-8 still signs and verifies with these objects, but
  the official SDKs cannot verify it at all (they raise ``UnicodeDecodeError``).
* Several secrets may be given, newest first, for secret rotation: ``verify`` accepts a signature made
  with any of them, and ``sign`` signs with the first (Stripe and Standard Webhooks put one signature per
  secret in the header, as the processors do during a rotation).
* Header lookup is case-insensitive over any ``Mapping[str, str]`` (a dict, ``httpx.Headers``,
  starlette ``Headers``). An empty header value counts as missing.
* Signatures are compared with `hmac.compare_digest`, as text in the encoding the scheme sends (hex or
  base64), so any changed character of a signature is rejected.
* The clock is injected (``now``); the default reads `time.time` at each call, so ``freezegun`` works.
* Every signer satisfies the `Signer` protocol. ``header_names`` are the headers the scheme owns;
  ``resign(body, headers)`` swaps them for a fresh signature while keeping the delivery's identity
  (``webhook-id``, ``x-razorpay-event-id``, the Hook0 signed header list): what the replayer needs.
* Errors: `SignatureError` (a `ValueError`) is a verdict on a request, with a stable ``code``
  (``missing_header``, ``malformed_header``, ``no_matching_signature``, ``timestamp_outside_tolerance``);
  `InvalidSigningArgument` (``invalid_argument``) is a caller's mistake such as an empty secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from fakes.signing._core import DEFAULT_TOLERANCE_SECONDS, Signer, system_clock
from fakes.signing.errors import (
    InvalidSigningArgument,
    MalformedHeaderError,
    MissingHeaderError,
    NoMatchingSignatureError,
    SignatureError,
    TimestampOutsideToleranceError,
)
from fakes.signing.hook0 import HOOK0_DEFAULT_SIGNED_HEADERS, Hook0Signer
from fakes.signing.standard_webhooks import StandardWebhooksSigner
from fakes.signing.stripe import StripeSigner
from fakes.signing.untimed import CoinbaseCommerceSigner, RazorpaySigner, XenditCallbackToken

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "HOOK0_DEFAULT_SIGNED_HEADERS",
    "SCHEMES",
    "CoinbaseCommerceSigner",
    "Hook0Signer",
    "InvalidSigningArgument",
    "MalformedHeaderError",
    "MissingHeaderError",
    "NoMatchingSignatureError",
    "RazorpaySigner",
    "SignatureError",
    "Signer",
    "StandardWebhooksSigner",
    "StripeSigner",
    "TimestampOutsideToleranceError",
    "XenditCallbackToken",
    "signer_for",
]


SCHEMES: Mapping[str, type[Signer]] = MappingProxyType(
    {
        cls.scheme: cls
        for cls in (
            StripeSigner,
            Hook0Signer,
            CoinbaseCommerceSigner,
            RazorpaySigner,
            XenditCallbackToken,
            StandardWebhooksSigner,
        )
    }
)
"""Scheme name → signer class, for configuration files and the replayer."""


def signer_for(
    scheme: str,
    secret: str | Sequence[str],
    *,
    now: Callable[[], float] = system_clock,
    tolerance_seconds: int | None = DEFAULT_TOLERANCE_SECONDS,
) -> Signer:
    """Build the signer named ``scheme`` (a key of `SCHEMES`); clock and tolerance go to timed ones."""
    if scheme == "stripe":
        return StripeSigner(secret, tolerance_seconds=tolerance_seconds, now=now)
    if scheme == "cdp":
        return Hook0Signer(secret, tolerance_seconds=tolerance_seconds, now=now)
    if scheme == "standard_webhooks":
        return StandardWebhooksSigner(secret, tolerance_seconds=tolerance_seconds, now=now)
    if scheme == "coinbase_commerce":
        return CoinbaseCommerceSigner(secret)
    if scheme == "razorpay":
        return RazorpaySigner(secret)
    if scheme == "xendit":
        return XenditCallbackToken(secret)
    raise InvalidSigningArgument(
        f"unknown signature scheme {scheme!r}; known: {', '.join(SCHEMES)}"
    )
