"""Who may call the fake Xendit, and how a retried POST is answered: Basic auth and ``idempotency-key``.

**Auth** (PROCESSORS.md 2.2): HTTP Basic with the secret key as username and an empty password. A missing
or wrong key, or any ``xnd_production_`` key, is 401 ``INVALID_API_KEY``.

**Idempotency**: a POST with an ``idempotency-key`` header (PROCESSORS.md 2.3: the header name of payment
requests and payouts) is remembered with its body, per account: the same key and body replays the first
successful response; the same key with another body or endpoint is 400 ``DUPLICATE_ERROR`` (the payouts
doc's "Same Idempotency Key + different request body → DUPLICATE_ERROR"; the 400 status is UNVERIFIED);
the same key while the first request is still running is 409 ``IDEMPOTENCY_ERROR``. Failed requests are
not remembered, so a corrected retry may reuse the key.
"""

from __future__ import annotations

import base64
import binascii
import json

from fakes._common import FakeRequest, FakeResponse, IdempotencyStore, Run, Verdict
from fakes.xendit.errors import XenditApiError

__all__ = ["IDEMPOTENCY_HEADERS", "check_api_key", "run_idempotently"]

#: Header names that carry an idempotency key (HTTP names are case-insensitive; ``x-`` is UNVERIFIED).
IDEMPOTENCY_HEADERS: tuple[str, ...] = ("idempotency-key", "x-idempotency-key")


def check_api_key(request: FakeRequest, secret_key: str) -> XenditApiError | None:
    """The 401 to answer, or ``None`` when the request carries ``secret_key`` as Basic username."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    key = None
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(encoded, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = None
    if not key:
        return XenditApiError(
            401, "INVALID_API_KEY", "API key is required (HTTP Basic, key as username)"
        )
    if key.startswith("xnd_production_"):
        return XenditApiError(401, "INVALID_API_KEY", "this fake refuses production keys")
    if key != secret_key:
        return XenditApiError(401, "INVALID_API_KEY", "API key is invalid")
    return None


async def run_idempotently(
    store: IdempotencyStore, *, scope: str, request: FakeRequest, endpoint: str, run: Run
) -> FakeResponse:
    """Run ``run`` under the request's idempotency key, if it is a POST that carries one."""
    key = next((request.headers[h] for h in IDEMPOTENCY_HEADERS if request.headers.get(h)), None)
    if request.method != "POST" or key is None:
        return await run()
    claim = store.claim(
        scope=scope, key=key, endpoint=endpoint, fingerprint=_fingerprint(request.body)
    )
    if claim.verdict is Verdict.REPLAY and claim.response is not None:
        return claim.response
    if claim.verdict in (Verdict.PARAMS_MISMATCH, Verdict.ENDPOINT_MISMATCH):
        raise XenditApiError(
            400,
            "DUPLICATE_ERROR",
            f"idempotency-key {key!r} was already used with a different request",
        )
    if claim.verdict is Verdict.IN_FLIGHT:
        raise XenditApiError(
            409,
            "IDEMPOTENCY_ERROR",
            f"a request with idempotency-key {key!r} is still being processed",
        )
    try:
        response = await run()
    except BaseException:
        store.abandon(scope=scope, key=key)
        raise
    if 200 <= response.status < 300:
        store.complete(scope=scope, key=key, response=response)
    else:
        store.abandon(scope=scope, key=key)
    return response


def _fingerprint(body: bytes) -> str:
    """Order-insensitive identity of a JSON body (raw bytes when it is not JSON)."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except (ValueError, UnicodeDecodeError):
        return body.decode("latin-1")
