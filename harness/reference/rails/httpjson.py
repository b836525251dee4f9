"""A small JSON-over-HTTP client for rails without an async SDK: errors mapped to `RailError`."""

from __future__ import annotations

from typing import Any

import httpx

from .base import RailError, RetryPolicy, call_with_retries

__all__ = ["JsonClient"]


class JsonClient:
    """httpx with the rail's auth; one idempotency key per logical call, reused on every retry."""

    def __init__(
        self,
        rail: str,
        base_url: str,
        *,
        auth: httpx.Auth | None,
        timeout_seconds: float,
        retry: RetryPolicy,
        idempotency_header: str = "Idempotency-Key",
    ) -> None:
        self.rail = rail
        self._retry = retry
        self._idem_header = idempotency_header
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), auth=auth, timeout=timeout_seconds
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one logical request (with bounded retries on 5xx, 409, 429, timeouts and resets)."""
        headers = {self._idem_header: idempotency_key} if idempotency_key else {}

        async def once() -> Any:
            try:
                response = await self._client.request(
                    method, path, json=json, params=params, headers=headers
                )
            except httpx.TimeoutException as exc:
                raise RailError(self.rail, "processor_timeout", str(exc), retryable=True) from exc
            except httpx.TransportError as exc:
                raise RailError(
                    self.rail, "processor_unreachable", str(exc), retryable=True
                ) from exc
            if response.status_code >= 400:
                retryable = response.status_code >= 500 or response.status_code in (409, 429)
                raise RailError(
                    self.rail,
                    "processor_unavailable" if retryable else "processor_rejected",
                    f"{method} {path} answered {response.status_code}: {response.text[:300]}",
                    retryable=retryable,
                    status=response.status_code,
                )
            try:
                return response.json()
            except ValueError as exc:
                raise RailError(
                    self.rail, "processor_bad_response", "response is not JSON", retryable=False
                ) from exc

        return await call_with_retries(self.rail, self._retry, once)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
