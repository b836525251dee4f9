"""Parsing of x402 facilitator requests (``POST /verify`` and ``POST /settle`` bodies), v1 and v2.

Both versions send ``{"x402Version", "paymentPayload", "paymentRequirements"}`` (X402-V1 §7; the x402
package's ``HTTPFacilitatorClientBase._build_request_body``). They differ in where scheme and network
live and in the amount field:

* v1: ``paymentPayload = {x402Version: 1, scheme, network, payload}``; requirements carry
  ``maxAmountRequired`` and a v1 network name (``base-sepolia``).
* v2: ``paymentPayload = {x402Version: 2, payload, accepted: <requirements>, resource?}``;
  requirements carry ``amount`` and a CAIP-2 network (``eip155:84532``) (X402-HTTP2).

A body that cannot be read as either shape raises :class:`MalformedRequest`; the app answers it with
HTTP 400. Everything that parses but is wrong (version mismatch, scheme, network, signature, ...) is
judged by the facilitator and answered with HTTP 200 and ``isValid: false``, because the x402 client
(``HTTPFacilitatorClient``) raises on any non-200 and would lose the reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fakes.cdp.eip3009 import Authorization, MalformedAuthorization

__all__ = ["FacilitatorRequest", "MalformedRequest", "Requirements", "parse_request"]

_DECIMAL = re.compile(r"^[0-9]{1,78}$")
SUPPORTED_VERSIONS = (1, 2)


class MalformedRequest(ValueError):
    """A facilitator request body that is not JSON of the x402 request shape (answered with 400).

    ``code`` is an x402 reason string (``invalid_payload``, ``invalid_payment_requirements``,
    ``invalid_x402_version``); ``payer`` is the authorization's ``from`` when it could be read.
    """

    def __init__(self, code: str, message: str, *, payer: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.payer = payer


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirements:
    """The payment requirements the resource server asked the facilitator to check against."""

    scheme: str
    network: str
    asset: str
    pay_to: str
    amount_atomic: int
    max_timeout_seconds: int | None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class FacilitatorRequest:
    """A parsed verify/settle request, the same for v1 and v2.

    ``scheme``/``network`` are what the *payload* claims (v1: top level; v2: ``accepted``), to be
    compared with ``requirements``. ``fingerprint`` identifies the exact request so that an identical
    settle retry can be answered idempotently.
    """

    x402_version: int
    payload_version: int
    scheme: str
    network: str
    requirements: Requirements
    authorization: Authorization
    signature: str
    fingerprint: str
    #: The requirements object as sent (what the Bazaar lists under ``accepts``).
    raw_requirements: Mapping[str, Any] = field(default_factory=dict)
    #: v2's top-level ``resource`` ``{url, description, mimeType}``; v1 keeps these in requirements.
    resource: Mapping[str, Any] = field(default_factory=dict)


def parse_request(body: bytes) -> FacilitatorRequest:
    """Parse a verify/settle body, or raise :class:`MalformedRequest`."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest("invalid_payload", f"body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise MalformedRequest("invalid_payload", "body must be a JSON object")

    payment_payload = document.get("paymentPayload")
    raw_requirements = document.get("paymentRequirements")
    if not isinstance(payment_payload, dict):
        raise MalformedRequest("invalid_payload", "paymentPayload must be an object")
    inner = payment_payload.get("payload")
    payer = _payer_of(inner)

    version = document.get("x402Version")
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise MalformedRequest(
            "invalid_x402_version",
            f"x402Version must be one of {list(SUPPORTED_VERSIONS)}, got {version!r}",
            payer=payer,
        )
    payload_version = payment_payload.get("x402Version")
    if isinstance(payload_version, bool) or not isinstance(payload_version, int):
        raise MalformedRequest(
            "invalid_payload", "paymentPayload.x402Version must be an integer", payer=payer
        )

    if not isinstance(inner, dict):
        raise MalformedRequest("invalid_payload", "paymentPayload.payload must be an object")
    try:
        authorization = Authorization.parse(inner.get("authorization"))
    except MalformedAuthorization as exc:
        raise MalformedRequest(exc.code, str(exc), payer=payer) from exc
    signature = inner.get("signature")
    if not isinstance(signature, str):
        raise MalformedRequest(
            "invalid_payload", "paymentPayload.payload.signature must be a string", payer=payer
        )

    # The payload's own claim of scheme and network: top level in v1, inside `accepted` in v2.
    claim: object = payment_payload if payload_version == 1 else payment_payload.get("accepted")
    if not isinstance(claim, dict):
        raise MalformedRequest("invalid_payload", "paymentPayload.accepted must be an object")
    scheme = claim.get("scheme")
    network = claim.get("network")
    if not isinstance(scheme, str) or not isinstance(network, str):
        raise MalformedRequest(
            "invalid_payload", "the payment payload must name its scheme and network", payer=payer
        )

    requirements = _parse_requirements(raw_requirements, version=version, payer=payer)
    assert isinstance(raw_requirements, dict)  # _parse_requirements refused anything else
    canonical = json.dumps(
        {"paymentPayload": payment_payload, "paymentRequirements": raw_requirements},
        sort_keys=True,
        separators=(",", ":"),
    )
    return FacilitatorRequest(
        x402_version=version,
        payload_version=payload_version,
        scheme=scheme,
        network=network,
        requirements=requirements,
        authorization=authorization,
        signature=signature,
        fingerprint=hashlib.sha256(canonical.encode()).hexdigest(),
        raw_requirements=raw_requirements,
        resource=_resource_of(payment_payload, raw_requirements),
    )


def _resource_of(
    payment_payload: Mapping[str, Any], requirements: Mapping[str, Any]
) -> dict[str, Any]:
    """``{url, description, mimeType}`` of the paid resource: v2 top level, else v1 requirements."""
    resource = payment_payload.get("resource")
    if isinstance(resource, dict) and isinstance(resource.get("url"), str):
        return dict(resource)
    url = requirements.get("resource")
    if not isinstance(url, str) or not url:
        return {}
    return {
        "url": url,
        "description": requirements.get("description") or "",
        "mimeType": requirements.get("mimeType") or "",
    }


def _parse_requirements(raw: object, *, version: int, payer: str | None) -> Requirements:
    def bad(message: str) -> MalformedRequest:
        return MalformedRequest("invalid_payment_requirements", message, payer=payer)

    if not isinstance(raw, dict):
        raise bad("paymentRequirements must be an object")
    amount_field = "maxAmountRequired" if version == 1 else "amount"
    strings = {}
    for name in ("scheme", "network", "asset", "payTo", amount_field):
        value = raw.get(name)
        if not isinstance(value, str) or not value:
            raise bad(f"paymentRequirements.{name} must be a non-empty string")
        strings[name] = value
    if not _DECIMAL.match(strings[amount_field]):
        raise bad(f"paymentRequirements.{amount_field} must be a decimal string of atomic units")
    timeout = raw.get("maxTimeoutSeconds")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)):
        raise bad("paymentRequirements.maxTimeoutSeconds must be an integer")
    extra = raw.get("extra")
    if isinstance(extra, str):
        # v1 servers may send `extra` JSON-encoded (x402 v1 facilitator: "extra is JSON-encoded").
        try:
            extra = json.loads(extra)
        except ValueError as exc:
            raise bad("paymentRequirements.extra is not valid JSON") from exc
    if extra is None:
        extra = {}
    if not isinstance(extra, dict):
        raise bad("paymentRequirements.extra must be an object")
    return Requirements(
        scheme=strings["scheme"],
        network=strings["network"],
        asset=strings["asset"],
        pay_to=strings["payTo"],
        amount_atomic=int(strings[amount_field]),
        max_timeout_seconds=timeout,
        extra=extra,
    )


def _payer_of(inner: object) -> str | None:
    """Best-effort ``authorization.from`` for error responses, before the payload is validated."""
    if isinstance(inner, dict):
        authorization = inner.get("authorization")
        if isinstance(authorization, dict):
            payer = authorization.get("from")
            if isinstance(payer, str):
                return payer
    return None
