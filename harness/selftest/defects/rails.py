"""Rail adapter defects: webhook verification, outbound retries and errors, reconciliation."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from harness.reference.rails.base import (
    ProcessorRecord,
    RailError,
    RetryPolicy,
    SignatureInvalid,
    call_with_retries,
)
from harness.reference.rails.httpjson import JsonClient
from harness.reference.rails.stripe import StripeAdapter
from harness.reference.rails.xendit import XenditAdapter
from harness.reference.settings import StripeRail, XenditRail

__all__ = [
    "FreshKeyXenditAdapter",
    "ReconcileRaisesStripeAdapter",
    "StubVerifyXenditAdapter",
    "UnmappedErrorXenditAdapter",
    "UnsignedAcceptingStripeAdapter",
]


class UnsignedAcceptingStripeAdapter(StripeAdapter):
    """Verifies a signature when there is one, and waves through a delivery that has none."""

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """No `Stripe-Signature`: nothing to check (the defect)."""
        if not headers.get("stripe-signature"):
            return
        super().verify_webhook(body, headers)


class StubVerifyXenditAdapter(XenditAdapter):
    """Verification left as a stub that always says "bad signature", with payments live (PRIOR_ART.md §1
    defect 9: processors see a bad signature instead of "not implemented", and retry or give up)."""

    def verify_webhook(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Always refuses (the defect)."""
        raise SignatureInvalid("verification is not wired yet")


class ReconcileRaisesStripeAdapter(StripeAdapter):
    """Reconciliation pulls nothing and raises (PRIOR_ART.md §1 defect 10: a cron or runbook step that
    crashes instead of answering)."""

    async def list_payments(self, customer_refs: list[str]) -> list[ProcessorRecord] | None:
        """Not implemented (the defect)."""
        raise NotImplementedError("reconcile_rail(stripe) is not implemented")


class _ReplacedClient(XenditAdapter):
    """A Xendit adapter whose JSON client is swapped after construction (the original one still closes)."""

    _replaced: JsonClient

    async def aclose(self) -> None:
        """Close the swapped-in client and the original one."""
        await super().aclose()
        await self._replaced.aclose()


class _FreshKeyJsonClient(JsonClient):
    """Retries each call itself, with a new idempotency key on every attempt."""

    def __init__(self, rail: str, base_url: str, *, retry: RetryPolicy, **kwargs: Any) -> None:
        super().__init__(
            rail, base_url, retry=RetryPolicy(max_retries=0, backoff_seconds=0.0), **kwargs
        )
        self._outer_retry = retry

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """One logical call whose retries each carry a fresh key (the defect)."""

        async def attempt() -> Any:
            key = f"{idempotency_key}-{secrets.token_hex(4)}" if idempotency_key else None
            return await JsonClient.request(
                self, method, path, json=json, params=params, idempotency_key=key
            )

        return await call_with_retries(self.rail, self._outer_retry, attempt)


class FreshKeyXenditAdapter(_ReplacedClient):
    """Xendit calls whose outbound retries use a new idempotency key each time."""

    def __init__(self, config: XenditRail, *, timeout_seconds: float, retry: RetryPolicy) -> None:
        super().__init__(config, timeout_seconds=timeout_seconds, retry=retry)
        self._replaced = self._http
        self._http = _FreshKeyJsonClient(
            "xendit",
            config.api_base,
            auth=_basic(config.api_key),
            timeout_seconds=timeout_seconds,
            retry=retry,
            idempotency_header="idempotency-key",
        )


class _RawErrorJsonClient(JsonClient):
    """A processor 5xx escapes as a bare exception: no retry and no structured error."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Any processor failure raises RuntimeError (the defect)."""
        try:
            return await super().request(
                method, path, json=json, params=params, idempotency_key=idempotency_key
            )
        except RailError as exc:
            raise RuntimeError(f"xendit call failed: {exc}") from None


class UnmappedErrorXenditAdapter(_ReplacedClient):
    """Processor failures escape unhandled after the top-up row was written (PRIOR_ART.md §1 defect 7:
    failure after partial work, no structured outcome)."""

    def __init__(self, config: XenditRail, *, timeout_seconds: float, retry: RetryPolicy) -> None:
        super().__init__(config, timeout_seconds=timeout_seconds, retry=retry)
        self._replaced = self._http
        self._http = _RawErrorJsonClient(
            "xendit",
            config.api_base,
            auth=_basic(config.api_key),
            timeout_seconds=timeout_seconds,
            retry=RetryPolicy(max_retries=0, backoff_seconds=0.0),
            idempotency_header="idempotency-key",
        )


def _basic(api_key: str) -> Any:
    import httpx

    return httpx.BasicAuth(api_key, "")


def stripe_factory(cls: type[StripeAdapter]) -> Any:
    """An adapter factory (`Components.adapter_factories`) building `cls` for the Stripe rail."""

    def build(config: StripeRail, timeout: float, retry: RetryPolicy) -> StripeAdapter:
        return cls(config, timeout_seconds=timeout, retry=retry)

    return build


def xendit_factory(cls: type[XenditAdapter]) -> Any:
    """An adapter factory (`Components.adapter_factories`) building `cls` for the Xendit rail."""

    def build(config: XenditRail, timeout: float, retry: RetryPolicy) -> XenditAdapter:
        return cls(config, timeout_seconds=timeout, retry=retry)

    return build
