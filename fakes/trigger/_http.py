"""The one way recipes call a fake's API: answer as JSON, any non-2xx is a :class:`FakeError`."""

from __future__ import annotations

from typing import Any

import httpx

from fakes._common.errors import FakeError

__all__ = ["call"]


async def call(
    api: httpx.AsyncClient,
    method: str,
    path: str,
    **kwargs: Any,
) -> Any:
    """``method path`` on the fake; the parsed JSON answer, or ``FakeError(trigger_step_failed)``."""
    response = await api.request(method, path, **kwargs)
    if not 200 <= response.status_code < 300:
        raise FakeError(
            f"trigger step {method} {path} answered {response.status_code}: {response.text[:300]}",
            code="trigger_step_failed",
        )
    return response.json()
