"""How the prober talks to a target: one `httpx.AsyncClient`, answers reduced to what a verdict needs.

Following the job the prober is modelled on (PRIOR_ART.md §3): redirects are refused (a 3xx is an answer,
not something to follow), the User-Agent names the probe, a body is read up to 4096 bytes and quoted in a
reason up to 256 characters. A transport failure (`httpx.HTTPError`: refused, reset, timed out) becomes an
`Answer` with no status; any other exception is a crash and is left to the runner's panic boundary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from .config import display_target

__all__ = ["MAX_BODY_BYTES", "MAX_REASON_CHARS", "Answer", "ProbeHttp", "error_code"]

MAX_BODY_BYTES = 4096
MAX_REASON_CHARS = 256


def error_code(body: Any) -> str | None:
    """The error code of a JSON error body in either shape: `{"error": "code"}` or
    `{"error": {"code": "code"}}` (PRIOR_ART.md §3 API side; DESIGN.md reference errors)."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, str):
        return error
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return str(error["code"])
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What came back: a status and the start of the body, or the transport error that came instead."""

    status: int | None
    text: str = ""
    transport_error: str | None = None

    @property
    def responded(self) -> bool:
        """Whether the target answered at all (a status line came back)."""
        return self.status is not None

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (or was cut at 4096 bytes)."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    @property
    def code(self) -> str | None:
        """The error code in the body, if it carries one."""
        return error_code(self.json())

    def brief(self) -> str:
        """Status and error code only: `402 billing_not_configured`, `201`, or `no answer`."""
        if self.status is None:
            return "no answer"
        code = self.code
        return f"{self.status} {code}" if code else str(self.status)

    def describe(self) -> str:
        """A short account for a reason: `503 payments_not_live`, or `transport error: ConnectError: ...`."""
        if self.status is None:
            return f"transport error: {self.transport_error}"
        code = self.code
        if code:
            return f"{self.status} {code}"
        snippet = " ".join(self.text.split())[:MAX_REASON_CHARS]
        return f"{self.status} {snippet}".rstrip()


class ProbeHttp:
    """The prober's HTTP client for one run; counts the answers it got (for the latency histogram)."""

    def __init__(
        self,
        *,
        base_url: str,
        timeout_seconds: float,
        user_agent: str,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._token = token
        self.answers = 0
        # Credentials in the target URL travel as Basic auth (a bearer token wins), and the URL the
        # client holds, and httpx logs, has none.
        parts = urlsplit(base_url)
        auth = None
        if parts.username is not None or parts.password is not None:
            if token is None:
                auth = httpx.BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))
            base_url = display_target(base_url)
        self._client = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            timeout=timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": user_agent},
            transport=transport,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Answer:
        """Send one request; never raises for a transport failure (see the module docstring)."""
        sent = dict(headers or {})
        if auth and self._token:
            sent["Authorization"] = f"Bearer {self._token}"
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
            sent.setdefault("Content-Type", "application/json")
        try:
            async with self._client.stream(method, path, content=content, headers=sent) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) >= MAX_BODY_BYTES:
                        break
                status = response.status_code
        except httpx.HTTPError as exc:
            return Answer(status=None, transport_error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        self.answers += 1
        return Answer(status=status, text=bytes(body[:MAX_BODY_BYTES]).decode("utf-8", "replace"))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
